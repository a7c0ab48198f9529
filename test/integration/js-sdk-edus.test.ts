// matrix-js-sdk sees what a modern client expects besides messages: typing, read receipts and
// unread counts, presence (seen by a room-mate, hidden from a stranger), room tags, and the seed's
// presence list and m.room.message.feedback read receipts. Every response is validated against
// the spec's OpenAPI.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient, MsgType, NotificationCountType, Preset, ReceiptType, type MatrixClient, type MatrixEvent } from 'matrix-js-sdk';
import { startTestServer, call, type TestServer } from '../helpers/server.ts';
import { assertNoValidationFailures, clearValidationFailures } from '../helpers/openapi.ts';
import { fetchFn, quietLogger, registerWithSdk, startSyncing, waitFor } from '../helpers/sdk.ts';

describe('matrix-js-sdk sees typing, receipts, presence and tags', () => {
  let server: TestServer;
  let alice: MatrixClient;
  let bob: MatrixClient;
  let carol: { userId: string; accessToken: string; deviceId: string };
  let roomId: string;

  const client = (u: { userId: string; accessToken: string; deviceId: string }) =>
    createClient({ baseUrl: server.url, fetchFn, logger: quietLogger, userId: u.userId, accessToken: u.accessToken, deviceId: u.deviceId });

  before(async () => {
    clearValidationFailures();
    server = await startTestServer();
    alice = client(await registerWithSdk(server, 'alice'));
    bob = client(await registerWithSdk(server, 'bob'));
    carol = await registerWithSdk(server, 'carol');
    await startSyncing(alice);
    await startSyncing(bob);
    ({ room_id: roomId } = await alice.createRoom({ name: 'Porch', preset: Preset.PublicChat }));
    await bob.joinRoom(roomId);
    await waitFor('alice to see bob joined', () => alice.getRoom(roomId)?.getMember(bob.getUserId()!)?.membership === 'join');
  });

  after(async () => {
    alice?.stopClient();
    bob?.stopClient();
    await server?.stop();
  });

  test('typing: alice typing is seen by bob, and stops when she stops', async () => {
    await alice.sendTyping(roomId, true, 30_000);
    await waitFor('bob to see alice typing', () => bob.getRoom(roomId)?.getMember(alice.getUserId()!)?.typing);
    await alice.sendTyping(roomId, false, 0);
    await waitFor('bob to see alice stop typing', () => bob.getRoom(roomId)?.getMember(alice.getUserId()!)?.typing === false);
  });

  test('unread counts: three messages from alice count 3 for bob, a mention highlights, a read receipt clears them', async () => {
    let last: MatrixEvent | undefined;
    for (const body of ['one', 'two', 'hey bob, look']) {
      // Mentions are m.mentions since v1.17 removed the push rules that searched the body.
      const mentions = body.includes('bob') ? { user_ids: [bob.getUserId()!] } : {};
      const { event_id } = await alice.sendMessage(roomId, { msgtype: MsgType.Text, body, 'm.mentions': mentions });
      last = await waitFor(`bob to receive '${body}'`, () => bob.getRoom(roomId)?.findEventById(event_id));
    }
    const room = bob.getRoom(roomId)!;
    await waitFor('bob to count 3 unread', () => room.getUnreadNotificationCount(NotificationCountType.Total) === 3);
    assert.equal(room.getUnreadNotificationCount(NotificationCountType.Highlight), 1, 'the message naming bob highlights');
    await bob.sendReadReceipt(last!, ReceiptType.Read);
    await waitFor(
      "alice to see bob's receipt on the last message",
      () => alice.getRoom(roomId)?.getReadReceiptForUserId(bob.getUserId()!, true)?.eventId === last!.getId(),
    );
    await waitFor("bob's unread count to reach 0", () => room.getUnreadNotificationCount(NotificationCountType.Total) === 0);
  });

  test('a private read receipt reaches only its owner', async () => {
    const { event_id } = await alice.sendTextMessage(roomId, 'private read');
    const ev = await waitFor('bob to receive it', () => bob.getRoom(roomId)?.findEventById(event_id));
    const before = alice.getRoom(roomId)?.getReadReceiptForUserId(bob.getUserId()!, true)?.eventId;
    await bob.sendReadReceipt(ev, ReceiptType.ReadPrivate);
    await waitFor(
      'bob to see his own private receipt',
      () => bob.getRoom(roomId)?.getReadReceiptForUserId(bob.getUserId()!, true, ReceiptType.ReadPrivate)?.eventId === event_id,
    );
    // Give alice's sync a moment: the private receipt must not arrive.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(alice.getRoom(roomId)?.getReadReceiptForUserId(bob.getUserId()!, true)?.eventId, before);
  });

  test("presence: alice's status reaches bob, a room-mate; carol, a stranger, may not read it", async () => {
    await alice.setPresence({ presence: 'unavailable', status_msg: 'out for lunch' });
    await waitFor('bob to see alice unavailable', () => {
      const u = bob.getUser(alice.getUserId()!);
      return u?.presence === 'unavailable' && u.presenceStatusMsg === 'out for lunch';
    });
    const seen = await bob.getPresence(alice.getUserId()!);
    assert.equal(seen.presence, 'unavailable');
    assert.equal(typeof seen.last_active_ago, 'number');
    const stranger = await call(server, carol, 'GET', `/presence/${encodeURIComponent(alice.getUserId()!)}/status`);
    assert.equal(stranger.status, 403);
    assert.equal(stranger.body.errcode, 'M_FORBIDDEN');
  });

  test("the seed's presence list: once carol adds alice and alice consents, carol may read alice's presence", async () => {
    const me = encodeURIComponent(carol.userId);
    assert.equal((await call(server, carol, 'POST', `/presence/list/${me}`, { invite: [alice.getUserId()] })).status, 200);
    assert.equal((await call(server, carol, 'GET', `/presence/${encodeURIComponent(alice.getUserId()!)}/status`)).status, 403, 'a request, not yet consent');
    // Alice consents by adding carol back (the seed's reverse subscription).
    const aliceUser = { userId: alice.getUserId()!, accessToken: alice.getAccessToken()!, deviceId: alice.getDeviceId()! };
    assert.equal((await call(server, aliceUser, 'POST', `/presence/list/${encodeURIComponent(aliceUser.userId)}`, { invite: [carol.userId] })).status, 200);
    const list = await call(server, carol, 'GET', `/presence/list/${me}`);
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.map((e: { content: { user_id: string } }) => e.content.user_id),
      [alice.getUserId()],
    );
    const status = await call(server, carol, 'GET', `/presence/${encodeURIComponent(alice.getUserId()!)}/status`);
    assert.equal(status.status, 200);
    assert.equal(status.body.presence, 'unavailable');
    assert.equal((await call(server, carol, 'POST', `/presence/list/${me}`, { drop: [alice.getUserId()] })).status, 200);
    assert.equal((await call(server, carol, 'GET', `/presence/${encodeURIComponent(alice.getUserId()!)}/status`)).status, 403);
  });

  test("the seed's free_for_chat and hidden map onto online and offline", async () => {
    // The SDK refuses these seed-era values itself, so they go over plain HTTP.
    const aliceUser = { userId: alice.getUserId()!, accessToken: alice.getAccessToken()!, deviceId: alice.getDeviceId()! };
    const path = `/presence/${encodeURIComponent(aliceUser.userId)}/status`;
    assert.equal((await call(server, aliceUser, 'PUT', path, { presence: 'free_for_chat' })).status, 200);
    assert.equal((await bob.getPresence(aliceUser.userId)).presence, 'online');
    assert.equal((await call(server, aliceUser, 'PUT', path, { presence: 'hidden' })).status, 200);
    assert.equal((await bob.getPresence(aliceUser.userId)).presence, 'offline');
    const bad = await call(server, aliceUser, 'PUT', path, { presence: 'away' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errcode, 'M_INVALID_PARAM');
    await alice.setPresence({ presence: 'online' });
  });

  test('room tags set by alice arrive in her sync as m.tag', async () => {
    await alice.setRoomTag(roomId, 'm.favourite', { order: 0.25 });
    await waitFor('alice to see the favourite tag', () => alice.getRoom(roomId)?.tags['m.favourite']?.order === 0.25);
    await alice.deleteRoomTag(roomId, 'm.favourite');
    await waitFor('the tag to go', () => alice.getRoom(roomId) && !alice.getRoom(roomId)!.tags['m.favourite']);
  });

  test("a seed-era m.room.message.feedback of type read moves the sender's read receipt", async () => {
    const { event_id } = await alice.sendTextMessage(roomId, 'feedback please');
    await waitFor('bob to receive it', () => bob.getRoom(roomId)?.findEventById(event_id));
    const res = await call(
      server,
      { userId: bob.getUserId()!, accessToken: bob.getAccessToken()!, deviceId: bob.getDeviceId()! },
      'PUT',
      `/rooms/${encodeURIComponent(roomId)}/send/m.room.message.feedback/fb1`,
      { type: 'read', target_event_id: event_id },
    );
    assert.equal(res.status, 200);
    await waitFor(
      "alice to see bob's receipt on the feedback target",
      () => alice.getRoom(roomId)?.getReadReceiptForUserId(bob.getUserId()!, true)?.eventId === event_id,
    );
  });

  test('every response the SDK received matches the spec', () => {
    assertNoValidationFailures();
  });
});
