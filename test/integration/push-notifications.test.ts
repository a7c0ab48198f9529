// Push rules and notifications through matrix-js-sdk and plain HTTP: the server evaluates each
// user's rules for every event, counts in /sync follow read receipts, /notifications lists what
// notified, and rule changes reach the client live as m.push_rules account data. Every response
// is validated against the spec's OpenAPI.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ConditionKind,
  createClient,
  MsgType,
  NotificationCountType,
  Preset,
  PushRuleActionName,
  PushRuleKind,
  ReceiptType,
  TweakName,
  type MatrixClient,
  type MatrixEvent,
} from 'matrix-js-sdk';
import { startTestServer, type TestServer, type TestUser } from '../helpers/server.ts';
import { assertNoValidationFailures, clearValidationFailures } from '../helpers/openapi.ts';
import { assertError, checked } from '../helpers/checked-call.ts';
import { fetchFn, quietLogger, registerWithSdk, startSyncing, waitFor } from '../helpers/sdk.ts';

describe('push rules and notifications', () => {
  let server: TestServer;
  let alice: MatrixClient;
  let bob: MatrixClient;
  let aliceUser: TestUser;
  let bobUser: TestUser;
  let carol: TestUser;
  let dave: TestUser;
  let txn = 0;

  const client = (u: TestUser) =>
    createClient({ baseUrl: server.url, fetchFn, logger: quietLogger, userId: u.userId, accessToken: u.accessToken, deviceId: u.deviceId });
  const room = (id: string) => `/rooms/${encodeURIComponent(id)}`;
  const counts = (roomId: string) => {
    const r = bob.getRoom(roomId);
    return r
      ? { total: r.getUnreadNotificationCount(NotificationCountType.Total), highlight: r.getUnreadNotificationCount(NotificationCountType.Highlight) }
      : undefined;
  };
  const waitCounts = (what: string, roomId: string, total: number, highlight: number) =>
    waitFor(`${what}: bob's counts to be ${total}/${highlight} (are ${JSON.stringify(counts(roomId))})`, () => {
      const c = counts(roomId);
      return c && c.total === total && c.highlight === highlight;
    });

  /** Sends as a raw user and waits until bob's client has the event. */
  async function send(u: TestUser, roomId: string, content: Record<string, unknown>, type = 'm.room.message'): Promise<MatrixEvent> {
    const res = await checked(server, u, 'PUT', `${room(roomId)}/send/${type}/t${++txn}`, content);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return waitFor(`bob to receive ${res.body.event_id}`, () => bob.getRoom(roomId)?.findEventById(res.body.event_id));
  }
  const textFrom = (u: TestUser, roomId: string, body: string, extra: Record<string, unknown> = {}) =>
    send(u, roomId, { msgtype: MsgType.Text, body, 'm.mentions': {}, ...extra });

  /** A public room of alice (creator, power 100), bob and carol (power 0). */
  async function groupRoom(name: string): Promise<string> {
    const { room_id: roomId } = await alice.createRoom({ name, preset: Preset.PublicChat });
    await bob.joinRoom(roomId);
    assert.equal((await checked(server, carol, 'POST', `/join/${encodeURIComponent(roomId)}`, {})).status, 200);
    await waitFor(`bob to see carol in ${name}`, () => bob.getRoom(roomId)?.getMember(carol.userId)?.membership === 'join');
    return roomId;
  }

  /** A room of two: alice invites bob, bob joins. */
  async function directRoom(): Promise<string> {
    const { room_id: roomId } = await alice.createRoom({ preset: Preset.TrustedPrivateChat, invite: [bobUser.userId], is_direct: true });
    await waitFor('bob to see the invite', () => bob.getRoom(roomId)?.getMyMembership() === 'invite');
    await bob.joinRoom(roomId);
    await waitFor('bob to be joined', () => bob.getRoom(roomId)?.getMyMembership() === 'join');
    return roomId;
  }

  async function notifications(u: TestUser, query = ''): Promise<any> {
    const res = await checked(server, u, 'GET', `/notifications${query}`);
    assert.equal(res.status, 200);
    return res.body;
  }
  const notificationFor = async (eventId: string) => (await notifications(bobUser, '?limit=100')).notifications.find((n: any) => n.event.event_id === eventId);

  before(async () => {
    clearValidationFailures();
    server = await startTestServer();
    aliceUser = await registerWithSdk(server, 'alice');
    bobUser = await registerWithSdk(server, 'bob');
    carol = await registerWithSdk(server, 'carol');
    dave = await registerWithSdk(server, 'dave');
    alice = client(aliceUser);
    bob = client(bobUser);
    await startSyncing(alice);
    await startSyncing(bob);
  });

  after(async () => {
    alice?.stopClient();
    bob?.stopClient();
    await server?.stop();
  });

  test('a message mentioning bob by user id (m.mentions) highlights for bob only', async () => {
    const roomId = await groupRoom('Mentions');
    const ev = await textFrom(aliceUser, roomId, 'bob, look', { 'm.mentions': { user_ids: [bobUser.userId] } });
    await waitCounts('the mention', roomId, 1, 1);
    const n = await notificationFor(ev.getId()!);
    assert.deepEqual(n.actions, ['notify', { set_tweak: 'sound', value: 'default' }, { set_tweak: 'highlight' }]);
    assert.equal(n.room_id, roomId);
    assert.equal(n.read, false);
    // carol is in the room but not mentioned: she is notified without a highlight.
    const forCarol = (await notifications(carol)).notifications.find((x: any) => x.event.event_id === ev.getId());
    assert.deepEqual(forCarol.actions, ['notify']);
  });

  test("bob's display name in the body: no highlight since v1.17 removed the body rules, until bob adds a contains_display_name rule", async () => {
    await bob.setDisplayName('Bobby Tables');
    const roomId = await groupRoom('Names');
    await waitFor("bob's display name in the room", () => bob.getRoom(roomId)?.getMember(bobUser.userId)?.name === 'Bobby Tables');
    await textFrom(aliceUser, roomId, 'Bobby Tables, lunch?');
    await waitCounts('the name without m.mentions', roomId, 1, 0);
    await bob.addPushRule('global', PushRuleKind.Override, 'my-name', {
      conditions: [{ kind: ConditionKind.ContainsDisplayName }],
      actions: [PushRuleActionName.Notify, { set_tweak: TweakName.Highlight }],
    });
    await textFrom(aliceUser, roomId, 'Bobby Tables, really, lunch?');
    await waitCounts('the name with the rule', roomId, 2, 1);
    await textFrom(aliceUser, roomId, 'BobbyTablesX is not a word match');
    await waitCounts('a longer word', roomId, 3, 1);
    await bob.deletePushRule('global', PushRuleKind.Override, 'my-name');
  });

  test('@room (m.mentions.room) highlights from alice, who has the notifications power, not from carol', async () => {
    const roomId = await groupRoom('Room mentions');
    await textFrom(carol, roomId, 'everyone!', { 'm.mentions': { room: true } });
    await waitCounts("carol's @room", roomId, 1, 0);
    const ev = await textFrom(aliceUser, roomId, 'everyone!', { 'm.mentions': { room: true } });
    await waitCounts("alice's @room", roomId, 2, 1);
    assert.deepEqual((await notificationFor(ev.getId()!)).actions, ['notify', { set_tweak: 'highlight' }]);
  });

  test('a keyword rule bob adds reaches his client as m.push_rules and highlights the word, not inside other words', async () => {
    const roomId = await groupRoom('Keywords');
    await bob.addPushRule('global', PushRuleKind.ContentSpecific, 'cake', {
      pattern: 'cake',
      actions: [PushRuleActionName.Notify, { set_tweak: TweakName.Highlight }],
    });
    await waitFor("bob's client to get the new ruleset through /sync", () => bob.pushRules?.global.content?.some((r) => r.rule_id === 'cake'));
    await textFrom(aliceUser, roomId, 'pancakes for breakfast');
    await waitCounts('pancakes', roomId, 1, 0);
    await textFrom(aliceUser, roomId, 'Is there CAKE?');
    await waitCounts('cake', roomId, 2, 1);
  });

  test('a DM (a room of two) notifies with a sound via .m.rule.room_one_to_one; the invite notified too', async () => {
    const roomId = await directRoom();
    const invite = (await notifications(bobUser)).notifications.find((n: any) => n.room_id === roomId && n.event.type === 'm.room.member');
    assert.equal(invite.event.content.membership, 'invite', '.m.rule.invite_for_me');
    const ev = await textFrom(aliceUser, roomId, 'hi bob');
    await waitCounts('the DM', roomId, 1, 0);
    assert.deepEqual((await notificationFor(ev.getId()!)).actions, ['notify', { set_tweak: 'sound', value: 'default' }]);
  });

  test('an encrypted event in a 1:1 notifies via .m.rule.encrypted_room_one_to_one', async () => {
    const roomId = await directRoom();
    const encrypted = { algorithm: 'm.megolm.v1.aes-sha2', ciphertext: 'AwgAEnAc', sender_key: 'k', device_id: 'D', session_id: 's' };
    const res = await checked(server, aliceUser, 'PUT', `${room(roomId)}/send/m.room.encrypted/t${++txn}`, encrypted);
    assert.equal(res.status, 200);
    // Stored in the event's own transaction: there as soon as the send has answered.
    const n = await notificationFor(res.body.event_id);
    assert.ok(n, 'a notification for the encrypted event');
    assert.equal(n.event.type, 'm.room.encrypted');
    assert.deepEqual(n.actions, ['notify', { set_tweak: 'sound', value: 'default' }]);
    // The SDK keeps its own counts for encrypted rooms; /sync itself must carry the server's.
    const sync = await checked(server, bobUser, 'GET', '/sync?timeout=0');
    assert.deepEqual(sync.body.rooms.join[roomId].unread_notifications, { notification_count: 1, highlight_count: 0 });
  });

  test('a disabled rule matches nothing: with .m.rule.message off, a group message does not notify', async () => {
    const roomId = await groupRoom('Quiet');
    await bob.setPushRuleEnabled('global', PushRuleKind.Underride, '.m.rule.message', false);
    const quiet = await textFrom(aliceUser, roomId, 'nobody hears this');
    assert.equal(await notificationFor(quiet.getId()!), undefined);
    await bob.setPushRuleEnabled('global', PushRuleKind.Underride, '.m.rule.message', true);
    await textFrom(aliceUser, roomId, 'now you do');
    await waitCounts('after enabling again', roomId, 1, 0);
  });

  test('an m.notice is suppressed by .m.rule.suppress_notices', async () => {
    const roomId = await groupRoom('Bots');
    const notice = await send(aliceUser, roomId, { msgtype: MsgType.Notice, body: 'build passed', 'm.mentions': {} });
    assert.equal(await notificationFor(notice.getId()!), undefined);
    await textFrom(aliceUser, roomId, 'a real message');
    await waitCounts('one message after the notice', roomId, 1, 0);
  });

  test('counts drop to 0 after a read receipt, private ones too; /notifications marks them read', async () => {
    const roomId = await groupRoom('Receipts');
    const first = await textFrom(aliceUser, roomId, 'one');
    const second = await textFrom(aliceUser, roomId, 'two', { 'm.mentions': { user_ids: [bobUser.userId] } });
    await waitCounts('two unread', roomId, 2, 1);
    assert.deepEqual([(await notificationFor(first.getId()!)).read, (await notificationFor(second.getId()!)).read], [false, false]);
    await bob.sendReadReceipt(first, ReceiptType.ReadPrivate);
    await waitCounts('after a private receipt on the first', roomId, 1, 1);
    assert.deepEqual([(await notificationFor(first.getId()!)).read, (await notificationFor(second.getId()!)).read], [true, false]);
    await bob.sendReadReceipt(second, ReceiptType.Read);
    await waitCounts('after a receipt on the last', roomId, 0, 0);
    assert.equal((await notificationFor(second.getId()!)).read, true);
  });

  test("bob's own message marks what came before it as read", async () => {
    const roomId = await groupRoom('Replies');
    await textFrom(aliceUser, roomId, 'question?');
    await waitCounts('one unread', roomId, 1, 0);
    await textFrom(bobUser, roomId, 'answer');
    await waitCounts('after bob answered', roomId, 0, 0);
  });

  test('unread_thread_notifications: a thread reply counts in its thread, and a threaded receipt clears only that thread', async () => {
    const roomId = await groupRoom('Threads');
    const root = await textFrom(aliceUser, roomId, 'root');
    const reply = await textFrom(aliceUser, roomId, 'in thread', { 'm.relates_to': { rel_type: 'm.thread', event_id: root.getId() } });
    const filter = encodeURIComponent(JSON.stringify({ room: { rooms: [roomId], timeline: { unread_thread_notifications: true } } }));
    const threaded = async () => (await checked(server, bobUser, 'GET', `/sync?timeout=0&filter=${filter}`)).body.rooms.join[roomId];
    let r = await threaded();
    assert.deepEqual(r.unread_notifications, { notification_count: 1, highlight_count: 0 });
    assert.deepEqual(r.unread_thread_notifications, { [root.getId()!]: { notification_count: 1, highlight_count: 0 } });
    const receipt = await checked(server, bobUser, 'POST', `${room(roomId)}/receipt/m.read/${encodeURIComponent(reply.getId()!)}`, { thread_id: root.getId() });
    assert.equal(receipt.status, 200);
    r = await threaded();
    assert.deepEqual(r.unread_notifications, { notification_count: 1, highlight_count: 0 });
    assert.equal(r.unread_thread_notifications, undefined);
    // Without the filter flag the room's counts include every thread.
    const plain = await checked(server, bobUser, 'GET', `/sync?timeout=0&filter=${encodeURIComponent(JSON.stringify({ room: { rooms: [roomId] } }))}`);
    assert.deepEqual(plain.body.rooms.join[roomId].unread_notifications, { notification_count: 1, highlight_count: 0 });
  });

  test('/notifications: newest first, pages with next_token, only=highlight', async () => {
    const all = (await notifications(bobUser, '?limit=100')).notifications;
    assert.ok(all.length >= 10, `bob has ${all.length} notifications`);
    const ts = all.map((n: any) => n.ts);
    assert.deepEqual(
      ts,
      [...ts].sort((a, b) => b - a),
      'newest first',
    );
    const seen: string[] = [];
    let from: string | undefined;
    for (let i = 0; i < 100; i++) {
      const page = await notifications(bobUser, `?limit=3${from ? `&from=${from}` : ''}`);
      seen.push(...page.notifications.map((n: any) => n.event.event_id));
      if (!page.next_token) break;
      from = page.next_token;
    }
    assert.deepEqual(
      seen,
      all.map((n: any) => n.event.event_id),
      'the pages add up to the whole list',
    );
    const highlights = (await notifications(bobUser, '?only=highlight&limit=100')).notifications;
    assert.ok(highlights.length >= 3);
    assert.ok(highlights.every((n: any) => n.actions.some((a: any) => a.set_tweak === 'highlight')));
    assert.equal(highlights.length, all.filter((n: any) => n.actions.some((a: any) => a.set_tweak === 'highlight')).length);
    assertError(await checked(server, bobUser, 'GET', '/notifications?from=nope'), 400, 'M_INVALID_PARAM');
  });

  test('CRUD: new rules go first, before/after place them, updates keep their place; enabled and actions change', async () => {
    const put = (kind: string, id: string, body: unknown, query = '') =>
      checked(server, dave, 'PUT', `/pushrules/global/${kind}/${encodeURIComponent(id)}${query}`, body);
    const contentIds = async () => (await checked(server, dave, 'GET', '/pushrules/global/')).body.content.map((r: any) => r.rule_id);
    const rule = (pattern: string) => ({ pattern, actions: ['notify'] });
    assert.equal((await put('content', 'a', rule('a'))).status, 200);
    assert.equal((await put('content', 'b', rule('b'))).status, 200);
    assert.deepEqual(await contentIds(), ['b', 'a'], 'a new rule is the most important of its kind');
    await put('content', 'c', rule('c'), '?after=b');
    assert.deepEqual(await contentIds(), ['b', 'c', 'a']);
    await put('content', 'd', rule('d'), '?before=a');
    assert.deepEqual(await contentIds(), ['b', 'c', 'd', 'a']);
    await put('content', 'a', rule('a2'), '?before=b');
    assert.deepEqual(await contentIds(), ['a', 'b', 'c', 'd'], 'an existing rule moves');
    await put('content', 'c', rule('c2'));
    assert.deepEqual(await contentIds(), ['a', 'b', 'c', 'd'], 'an update without position keeps its place');
    const c = await checked(server, dave, 'GET', '/pushrules/global/content/c');
    assert.deepEqual(c.body, { rule_id: 'c', default: false, enabled: true, pattern: 'c2', actions: ['notify'] });

    assert.equal((await put('content', 'c/enabled', { enabled: false })).status, 400, 'a slash in a rule id');
    assert.equal((await checked(server, dave, 'PUT', '/pushrules/global/content/c/enabled', { enabled: false })).status, 200);
    assert.deepEqual((await checked(server, dave, 'GET', '/pushrules/global/content/c/enabled')).body, { enabled: false });
    await put('content', 'c', rule('c3'));
    assert.equal((await checked(server, dave, 'GET', '/pushrules/global/content/c')).body.enabled, false, 'an update keeps enabled');
    assert.equal(
      (await checked(server, dave, 'PUT', '/pushrules/global/content/c/actions', { actions: ['notify', 'dont_notify', { set_tweak: 'sound', value: 'x' }] }))
        .status,
      200,
    );
    assert.deepEqual(
      (await checked(server, dave, 'GET', '/pushrules/global/content/c/actions')).body,
      { actions: ['notify', { set_tweak: 'sound', value: 'x' }] },
      'dont_notify is stripped',
    );
    assert.equal((await checked(server, dave, 'DELETE', '/pushrules/global/content/d')).status, 200);
    assert.deepEqual(await contentIds(), ['a', 'b', 'c']);

    // Server-default rules: enable/disable and actions only.
    assert.equal((await checked(server, dave, 'PUT', '/pushrules/global/override/.m.rule.suppress_notices/enabled', { enabled: false })).status, 200);
    assert.equal((await checked(server, dave, 'PUT', '/pushrules/global/underride/.m.rule.message/actions', { actions: [] })).status, 200);
    const all = (await checked(server, dave, 'GET', '/pushrules/')).body.global;
    assert.equal(all.override.find((r: any) => r.rule_id === '.m.rule.suppress_notices').enabled, false);
    assert.deepEqual(all.underride.find((r: any) => r.rule_id === '.m.rule.message').actions, []);
    assert.equal(all.override[0].rule_id, '.m.rule.master');

    // Override rules with conditions; room and sender rules named by their ids.
    assert.equal(
      (
        await put('override', 'beer', {
          conditions: [
            { kind: 'event_match', key: 'content.body', pattern: 'beer' },
            { kind: 'room_member_count', is: '<=10' },
          ],
          actions: ['notify'],
        })
      ).status,
      200,
    );
    assert.equal(
      (await put('override', 'future', { conditions: [{ kind: 'org.example.future' }], actions: ['notify'] })).status,
      200,
      'unknown condition kinds are kept (they never match)',
    );
    const overrides = (await checked(server, dave, 'GET', '/pushrules/global/')).body.override.map((r: any) => r.rule_id);
    assert.deepEqual(overrides.slice(0, 3), ['.m.rule.master', 'future', 'beer'], 'user overrides come after .m.rule.master, before the other defaults');
    assert.equal((await put('room', '!spam:localhost', { actions: [] })).status, 200);
    assert.equal((await put('sender', '@spambot:localhost', { actions: [] })).status, 200);
  });

  test('CRUD errors: server-default rules cannot be deleted or created, bad positions, conditions and actions', async () => {
    const put = (kind: string, id: string, body: unknown, query = '') =>
      checked(server, dave, 'PUT', `/pushrules/global/${kind}/${encodeURIComponent(id)}${query}`, body);
    assertError(await checked(server, dave, 'DELETE', '/pushrules/global/override/.m.rule.master'), 400, 'M_INVALID_PARAM');
    assertError(await put('override', '.m.rule.mine', { actions: [] }), 400, 'M_INVALID_PARAM');
    assertError(await put('override', '.m.rule.master', { actions: ['notify'] }), 400, 'M_INVALID_PARAM');
    assertError(await put('content', 'x', { pattern: 'x', actions: [] }, '?before=nosuchrule'), 400, 'M_UNKNOWN');
    assertError(await put('override', 'x', { actions: [] }, '?after=.m.rule.master'), 400, 'M_UNKNOWN');
    assertError(await put('override', 'x', { conditions: [{ kind: 'event_match', key: 'content.body' }], actions: [] }), 400, 'M_UNKNOWN');
    assertError(await put('override', 'x', { conditions: [{ kind: 'room_member_count', is: 'lots' }], actions: [] }), 400, 'M_UNKNOWN');
    assertError(await put('override', 'x', { actions: ['explode'] }), 400, 'M_UNKNOWN');
    assertError(await put('override', 'x', {}), 400, 'M_BAD_JSON');
    assertError(await put('content', 'x', { actions: [] }), 400, 'M_BAD_JSON');
    assertError(await put('room', 'not-a-room', { actions: [] }), 400, 'M_INVALID_PARAM');
    assertError(await put('sideways', 'x', { actions: [] }), 400, 'M_INVALID_PARAM');
    assertError(await checked(server, dave, 'DELETE', '/pushrules/global/content/nosuchrule'), 404, 'M_NOT_FOUND');
    assertError(await checked(server, dave, 'GET', '/pushrules/global/content/nosuchrule'), 404, 'M_NOT_FOUND');
    assertError(await checked(server, dave, 'PUT', '/pushrules/global/content/nosuchrule/enabled', { enabled: true }), 404, 'M_NOT_FOUND');
    assertError(await checked(server, dave, 'PUT', '/pushrules/global/underride/.m.rule.message/enabled', { enabled: 'yes' }), 400, 'M_BAD_JSON');
    assertError(await checked(server, dave, 'PUT', '/pushrules/global/underride/.m.rule.message/actions', { actions: 'notify' }), 400, 'M_BAD_JSON');
    // m.push_rules is the server's: clients change it through /pushrules only.
    const ad = await checked(server, dave, 'PUT', `/user/${encodeURIComponent(dave.userId)}/account_data/m.push_rules`, { global: {} });
    assert.equal(ad.status, 405);
  });

  test('every response the SDK received matches the spec', () => {
    assertNoValidationFailures();
  });
});
