// Room membership, the auth rules and history visibility, end to end over real HTTP; every
// response is validated against the spec's OpenAPI schema.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { registerUser, startTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';
import { allMessages, assertError, checked } from '../../helpers/checked-call.ts';

let server: TestServer;
let alice: TestUser;
let bob: TestUser;
let carol: TestUser;

before(async () => {
  server = await startTestServer();
  [alice, bob, carol] = await Promise.all([registerUser(server, 'alice'), registerUser(server, 'bob'), registerUser(server, 'carol')]);
});
after(() => server?.stop());

const enc = encodeURIComponent;

async function createRoom(user: TestUser, body: Record<string, unknown> = {}): Promise<string> {
  const res = await checked(server, user, 'POST', '/createRoom', body);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.room_id;
}

/** A request that must succeed; a POST or PUT without a body sends {}. */
async function ok(user: TestUser, method: string, path: string, body?: unknown): Promise<any> {
  const res = await checked(server, user, method, path, body ?? (method === 'GET' ? undefined : {}));
  assert.equal(res.status, 200, `${method} ${path}: ${JSON.stringify(res.body)}`);
  return res.body;
}

async function send(user: TestUser, roomId: string, text: string): Promise<string> {
  const body = await ok(user, 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/${enc(text)}-${Math.random()}`, { msgtype: 'm.text', body: text });
  return body.event_id;
}

const bodies = (events: any[]) => events.filter((e) => e.type === 'm.room.message').map((e) => e.content.body);

describe('membership', () => {
  test('an invite-only room refuses a join by a user who was not invited (403), and the invited user joins', async () => {
    const roomId = await createRoom(alice, { preset: 'private_chat' });
    assertError(await checked(server, bob, 'POST', `/rooms/${enc(roomId)}/join`, {}), 403, 'M_FORBIDDEN');
    assertError(await checked(server, bob, 'POST', `/join/${enc(roomId)}`, {}), 403, 'M_FORBIDDEN');
    await ok(alice, 'POST', `/rooms/${enc(roomId)}/invite`, { user_id: bob.userId });
    // The invite is for bob alone.
    assertError(await checked(server, carol, 'POST', `/rooms/${enc(roomId)}/join`, {}), 403, 'M_FORBIDDEN');
    assert.equal((await ok(bob, 'POST', `/rooms/${enc(roomId)}/join`)).room_id, roomId);
    const members = await ok(alice, 'GET', `/rooms/${enc(roomId)}/joined_members`);
    assert.deepEqual(Object.keys(members.joined).sort(), [alice.userId, bob.userId].sort());
    assert.equal(members.joined[bob.userId].display_name, 'bob');
  });

  test('a kick by a member without the kick level is 403; a kick by the creator removes the member', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    await ok(bob, 'POST', `/rooms/${enc(roomId)}/join`);
    await ok(carol, 'POST', `/rooms/${enc(roomId)}/join`);
    assertError(await checked(server, bob, 'POST', `/rooms/${enc(roomId)}/kick`, { user_id: carol.userId }), 403, 'M_FORBIDDEN');
    assertError(await checked(server, bob, 'POST', `/rooms/${enc(roomId)}/kick`, { user_id: alice.userId }), 403, 'M_FORBIDDEN');
    assertError(await checked(server, bob, 'POST', `/rooms/${enc(roomId)}/ban`, { user_id: carol.userId }), 403, 'M_FORBIDDEN');
    const stillThere = await ok(alice, 'GET', `/rooms/${enc(roomId)}/state/m.room.member/${enc(carol.userId)}`);
    assert.equal(stillThere.membership, 'join');
    await ok(alice, 'POST', `/rooms/${enc(roomId)}/kick`, { user_id: carol.userId, reason: 'test' });
    const kicked = await ok(alice, 'GET', `/rooms/${enc(roomId)}/state/m.room.member/${enc(carol.userId)}`);
    assert.equal(kicked.membership, 'leave');
  });

  test('a banned user cannot join (403) nor be invited; after unban a re-invite and join succeed', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    await ok(bob, 'POST', `/rooms/${enc(roomId)}/join`);
    await ok(alice, 'POST', `/rooms/${enc(roomId)}/ban`, { user_id: bob.userId, reason: 'spam' });
    assertError(await checked(server, bob, 'POST', `/rooms/${enc(roomId)}/join`, {}), 403, 'M_FORBIDDEN');
    assertError(await checked(server, alice, 'POST', `/rooms/${enc(roomId)}/invite`, { user_id: bob.userId }), 403, 'M_FORBIDDEN');
    assertError(await checked(server, bob, 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/banned1`, { msgtype: 'm.text', body: 'x' }), 403, 'M_FORBIDDEN');
    await ok(alice, 'POST', `/rooms/${enc(roomId)}/unban`, { user_id: bob.userId });
    const unbanned = await ok(alice, 'GET', `/rooms/${enc(roomId)}/state/m.room.member/${enc(bob.userId)}`);
    assert.equal(unbanned.membership, 'leave');
    await ok(alice, 'POST', `/rooms/${enc(roomId)}/invite`, { user_id: bob.userId });
    await ok(bob, 'POST', `/rooms/${enc(roomId)}/join`);
    await send(bob, roomId, 'back again');
  });
});

describe('history visibility', () => {
  test("with 'joined' visibility a user who joins later reads no earlier message via /messages nor /event", async () => {
    const roomId = await createRoom(alice, {
      preset: 'public_chat',
      initial_state: [{ type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'joined' } }],
    });
    const early = await send(alice, roomId, 'before bob');
    await ok(bob, 'POST', `/rooms/${enc(roomId)}/join`);
    const late = await send(alice, roomId, 'after bob joined');
    const seen = bodies(await allMessages(server, bob, roomId));
    assert.deepEqual(seen, ['after bob joined']);
    assertError(await checked(server, bob, 'GET', `/rooms/${enc(roomId)}/event/${enc(early)}`), 404, 'M_NOT_FOUND');
    assert.equal((await ok(bob, 'GET', `/rooms/${enc(roomId)}/event/${enc(late)}`)).content.body, 'after bob joined');
    // Alice, joined throughout, sees both.
    assert.deepEqual(bodies(await allMessages(server, alice, roomId)), ['before bob', 'after bob joined']);
  });

  test('a history_visibility value not understood counts as shared (modules/history_visibility.md)', async () => {
    const roomId = await createRoom(alice, {
      preset: 'public_chat',
      initial_state: [{ type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'sometimes' } }],
    });
    await send(alice, roomId, 'before bob');
    await ok(bob, 'POST', `/rooms/${enc(roomId)}/join`);
    assert.deepEqual(bodies(await allMessages(server, bob, roomId)), ['before bob']);
  });

  test('an m.room.history_visibility event is visible when the value before or after it allows it', async () => {
    // joined -> world_readable: before it, bob (never a member) may not read; after it, he may.
    const roomId = await createRoom(alice, {
      preset: 'public_chat',
      initial_state: [{ type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'joined' } }],
    });
    const change = (await ok(alice, 'PUT', `/rooms/${enc(roomId)}/state/m.room.history_visibility/`, { history_visibility: 'world_readable' }))
      .event_id as string;
    assert.equal((await ok(carol, 'GET', `/rooms/${enc(roomId)}/event/${enc(change)}`)).content.history_visibility, 'world_readable');
  });

  test("with 'shared' visibility a user who joins later reads the earlier messages", async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    const state = await ok(alice, 'GET', `/rooms/${enc(roomId)}/state/m.room.history_visibility`);
    assert.equal(state.history_visibility, 'shared');
    const early = await send(alice, roomId, 'before bob');
    await ok(bob, 'POST', `/rooms/${enc(roomId)}/join`);
    await send(alice, roomId, 'after bob joined');
    assert.deepEqual(bodies(await allMessages(server, bob, roomId)), ['before bob', 'after bob joined']);
    assert.equal((await ok(bob, 'GET', `/rooms/${enc(roomId)}/event/${enc(early)}`)).content.body, 'before bob');
    // Carol never joined: the room is not world-readable, so she reads nothing.
    assertError(await checked(server, carol, 'GET', `/rooms/${enc(roomId)}/messages?dir=b`), 403, 'M_FORBIDDEN');
    assertError(await checked(server, carol, 'GET', `/rooms/${enc(roomId)}/event/${enc(early)}`), 404, 'M_NOT_FOUND');
  });

  test('a user who left sees the messages up to their leave, and none sent after it', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    await ok(bob, 'POST', `/rooms/${enc(roomId)}/join`);
    await send(alice, roomId, 'while bob is here');
    await ok(bob, 'POST', `/rooms/${enc(roomId)}/leave`);
    const afterLeave = await send(alice, roomId, 'after bob left');
    const seen = await allMessages(server, bob, roomId);
    assert.deepEqual(bodies(seen), ['while bob is here']);
    assert.ok(
      seen.some((e) => e.type === 'm.room.member' && e.state_key === bob.userId && e.content.membership === 'leave'),
      'bob sees his own leave',
    );
    assertError(await checked(server, bob, 'GET', `/rooms/${enc(roomId)}/event/${enc(afterLeave)}`), 404, 'M_NOT_FOUND');
    const forward = await ok(bob, 'GET', `/rooms/${enc(roomId)}/messages?dir=f&limit=100`);
    assert.ok(!bodies(forward.chunk).includes('after bob left'));
  });
});

describe('createRoom', () => {
  // From the full state rather than ?format=event, whose response schema (oneOf: any object, or
  // a state event) no event can match exactly once.
  async function createEvent(user: TestUser, roomId: string): Promise<any> {
    const state: any[] = await ok(user, 'GET', `/rooms/${enc(roomId)}/state`);
    return state.find((e) => e.type === 'm.room.create' && e.state_key === '');
  }

  test("room version 12 when asked: create content room_version '12', room id '!' + create event id without '$'", async () => {
    const roomId = await createRoom(alice, { room_version: '12' });
    const create = await createEvent(alice, roomId);
    assert.equal(create.content.room_version, '12');
    assert.equal(create.content.creator, undefined, 'v12 has no creator key (the sender is the creator)');
    assert.match(create.event_id, /^\$[A-Za-z0-9_-]{43}$/);
    assert.equal(roomId, `!${create.event_id.slice(1)}`);
  });

  test('room versions 6 to 11 can be created, with a server-named room id, and take messages', async () => {
    for (const version of ['6', '7', '8', '9', '10', '11']) {
      const roomId = await createRoom(alice, { room_version: version, preset: 'public_chat' });
      assert.match(roomId, /^![^:]+:localhost$/, `v${version} room id ${roomId}`);
      const create = await createEvent(alice, roomId);
      assert.equal(create.content.room_version, version);
      // Rooms v11 no longer need `creator` (the sender is the creator, rooms/v11.md), but Hearth
      // keeps it there for the clients that still read it (nheko, matrix-nio).
      assert.equal(create.content.creator, alice.userId);
      assert.equal(create.sender, alice.userId);
      await ok(bob, 'POST', `/rooms/${enc(roomId)}/join`);
      await send(bob, roomId, `hello v${version}`);
      assert.deepEqual(bodies(await allMessages(server, alice, roomId)), [`hello v${version}`]);
    }
  });

  test('power_level_content_override is applied and takes effect', async () => {
    // v12: the override's `users` replaces the default one, which only v12's infinitely powerful
    // creator survives (before v12 alice would lose her 100 and could not finish the room).
    const roomId = await createRoom(alice, {
      room_version: '12',
      preset: 'public_chat',
      power_level_content_override: { events_default: 10, events: { 'm.room.name': 0 }, users: { [carol.userId]: 60 } },
    });
    const pl = await ok(alice, 'GET', `/rooms/${enc(roomId)}/state/m.room.power_levels`);
    assert.equal(pl.events_default, 10);
    assert.deepEqual(pl.events, { 'm.room.name': 0 });
    assert.equal(pl.users[carol.userId], 60);
    await ok(bob, 'POST', `/rooms/${enc(roomId)}/join`);
    await ok(carol, 'POST', `/rooms/${enc(roomId)}/join`);
    // Bob (0) may now rename the room but not send a message (10); carol (60) may kick him.
    await ok(bob, 'PUT', `/rooms/${enc(roomId)}/state/m.room.name`, { name: 'renamed by bob' });
    assertError(await checked(server, bob, 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/pl1`, { msgtype: 'm.text', body: 'x' }), 403, 'M_FORBIDDEN');
    await send(carol, roomId, 'carol can talk');
    await ok(carol, 'POST', `/rooms/${enc(roomId)}/kick`, { user_id: bob.userId });
  });

  test('initial_state is applied and overrides the preset', async () => {
    const roomId = await createRoom(alice, {
      preset: 'public_chat',
      initial_state: [
        { type: 'm.room.history_visibility', content: { history_visibility: 'invited' } },
        { type: 'org.example.settings', state_key: 'colour', content: { value: 'blue' } },
      ],
    });
    assert.equal((await ok(alice, 'GET', `/rooms/${enc(roomId)}/state/m.room.history_visibility`)).history_visibility, 'invited');
    assert.deepEqual(await ok(alice, 'GET', `/rooms/${enc(roomId)}/state/org.example.settings/colour`), { value: 'blue' });
    // The preset's other state is still there.
    assert.equal((await ok(alice, 'GET', `/rooms/${enc(roomId)}/state/m.room.join_rules`)).join_rule, 'public');
  });

  test('is_direct puts is_direct: true on the invite, visible to the invitee in /sync', async () => {
    const roomId = await createRoom(alice, { invite: [bob.userId], is_direct: true, preset: 'trusted_private_chat' });
    const member = await ok(alice, 'GET', `/rooms/${enc(roomId)}/state/m.room.member/${enc(bob.userId)}`);
    assert.equal(member.membership, 'invite');
    assert.equal(member.is_direct, true);
    assert.equal(member.displayname, 'bob', "the invite carries the invitee's display name, as /invite does");
    const sync = await ok(bob, 'GET', '/sync?timeout=0');
    const invite = sync.rooms?.invite?.[roomId];
    assert.ok(invite, "the room is in bob's invites");
    const own = invite.invite_state.events.find((e: any) => e.type === 'm.room.member' && e.state_key === bob.userId);
    assert.equal(own?.content.is_direct, true);
    // Without is_direct there is no such key.
    const plain = await createRoom(alice, { invite: [carol.userId] });
    const plainMember = await ok(alice, 'GET', `/rooms/${enc(plain)}/state/m.room.member/${enc(carol.userId)}`);
    assert.equal(plainMember.is_direct, undefined);
  });
});
