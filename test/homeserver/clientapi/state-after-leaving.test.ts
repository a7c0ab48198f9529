// Issue #14 fault 4: a user who left, was kicked or was banned reads the room's state as it was
// when they left (client-server-api "Room state": "If the user has left the room then the state
// returned is the state of the room at the time they left") - their own leave included, nothing
// that changed afterwards. Driven by matrix-js-sdk, every response validated against the spec.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient, Direction, type MatrixClient } from 'matrix-js-sdk';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { assertNoValidationFailures, clearValidationFailures } from '../../helpers/openapi.ts';
import { fetchFn, quietLogger, registerWithSdk } from '../../helpers/sdk.ts';

describe('the state a departed user sees', () => {
  let server: TestServer;
  let alice: MatrixClient, bob: MatrixClient, dave: MatrixClient, eve: MatrixClient, carol: MatrixClient;
  let roomId: string;

  const user = async (name: string) => createClient({ baseUrl: server.url, fetchFn, logger: quietLogger, ...(await registerWithSdk(server, name)) });
  const id = (c: MatrixClient) => c.getUserId()!;

  before(async () => {
    clearValidationFailures();
    server = await startTestServer();
    [alice, bob, dave, eve, carol] = [await user('alice'), await user('bob'), await user('dave'), await user('eve'), await user('carol')];
    ({ room_id: roomId } = await alice.createRoom({ preset: 'public_chat' as never, name: 'Before' }));
    for (const c of [bob, dave, eve]) await c.joinRoom(roomId);
    await alice.sendTextMessage(roomId, 'while bob is here');
    await bob.leave(roomId);
    await alice.kick(roomId, id(dave), 'out');
    await alice.ban(roomId, id(eve), 'gone');
    // After all three left: a new name, a new member, a message.
    await alice.setRoomName(roomId, 'After');
    await carol.joinRoom(roomId);
    await alice.sendTextMessage(roomId, 'after bob left');
  });
  after(async () => {
    await server?.stop();
    assertNoValidationFailures();
  });

  test('GET /state/m.room.member/{self} says leave after leaving, leave after a kick, ban after a ban', async () => {
    assert.equal((await bob.getStateEvent(roomId, 'm.room.member', id(bob))).membership, 'leave');
    const kicked = await dave.getStateEvent(roomId, 'm.room.member', id(dave));
    assert.deepEqual([kicked.membership, kicked.reason], ['leave', 'out']);
    assert.equal((await eve.getStateEvent(roomId, 'm.room.member', id(eve))).membership, 'ban');
  });

  test('GET /state/{type}/{key} gives the value at the time they left, not a later one', async () => {
    assert.equal((await bob.getStateEvent(roomId, 'm.room.name', '')).name, 'Before');
    assert.equal((await alice.getStateEvent(roomId, 'm.room.name', '')).name, 'After');
  });

  test('GET /state is the whole state at the leave: their own leave in it, later joins not', async () => {
    const state = await bob.roomState(roomId);
    const member = (u: string) => state.find((e) => e.type === 'm.room.member' && e.state_key === u)?.content.membership;
    assert.equal(member(id(bob)), 'leave');
    assert.equal(member(id(carol)), undefined);
    assert.equal(state.find((e) => e.type === 'm.room.name')?.content.name, 'Before');
  });

  test('GET /members is the membership at the leave, also when asked at a later token', async () => {
    const members = await bob.members(roomId);
    const byUser = new Map(members.chunk.map((e) => [e.state_key, e.content.membership]));
    assert.equal(byUser.get(id(bob)), 'leave');
    assert.equal(byUser.get(id(dave)), 'join', 'dave was kicked after bob left');
    assert.equal(byUser.has(id(carol)), false);
    const now = (await alice.createMessagesRequest(roomId, null, 1, Direction.Backward)).start;
    const atNow = await bob.members(roomId, undefined, undefined, now);
    assert.equal(atNow.chunk.find((e) => e.state_key === id(bob))?.content.membership, 'leave');
    assert.equal(
      atNow.chunk.some((e) => e.state_key === id(carol)),
      false,
    );
  });

  test('GET /messages shows nothing after the leave (the leave is the last event)', async () => {
    const page = await bob.createMessagesRequest(roomId, null, 50, Direction.Backward);
    const bodies = page.chunk.filter((e) => e.type === 'm.room.message').map((e) => e.content.body);
    assert.deepEqual(bodies, ['while bob is here']);
    assert.equal(page.chunk[0]?.type, 'm.room.member');
    assert.equal((page.chunk[0] as { state_key?: string } | undefined)?.state_key, id(bob));
  });

  test('the members who stayed still see the current state', async () => {
    const members = await alice.members(roomId);
    const byUser = new Map(members.chunk.map((e) => [e.state_key, e.content.membership]));
    assert.deepEqual([byUser.get(id(bob)), byUser.get(id(dave)), byUser.get(id(eve)), byUser.get(id(carol))], ['leave', 'leave', 'ban', 'join']);
  });
});
