// The seed's event stream and initial sync carry presence (seed "Syncing rooms": "The events
// returned are not limited to room events; presence events will also be returned"), to the users
// allowed to see it (seed "Presence and Permissions": a shared room, or the presence list), and
// connecting to the event stream is being online (seed "Presence": `online`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, startTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';
import { checked } from '../../helpers/checked-call.ts';

type PresenceEvent = { type: string; sender: string; content: { presence: string; status_msg?: string } };

async function setup(server: TestServer) {
  const alice = await registerUser(server, 'alice');
  const bob = await registerUser(server, 'bob');
  const carol = await registerUser(server, 'carol');
  const room = await call(server, alice, 'POST', '/createRoom', { preset: 'public_chat' });
  assert.equal((await call(server, bob, 'POST', `/rooms/${room.body.room_id}/join`, {})).status, 200);
  return { alice, bob, carol, roomId: room.body.room_id as string };
}

const setPresence = async (server: TestServer, u: TestUser, presence: string, status_msg?: string) =>
  assert.equal((await call(server, u, 'PUT', `/presence/${u.userId}/status`, { presence, status_msg })).status, 200);

/**
 * /events answers are not checked against old_sync.yaml: its `chunk` lists only room events (each
 * with event_id, room_id, origin_server_ts), while the seed's event stream carries m.presence,
 * which has none of them, as Synapse's /events did. The seed rules here.
 */
const SEED_STREAM = { unspecified: true };

const presenceOf = (events: PresenceEvent[], userId: string) => events.filter((e) => e.type === 'm.presence' && e.sender === userId);

test("/initialSync carries the presence of users who share a room, and not a stranger's", async () => {
  const server = await startTestServer();
  try {
    const { alice, bob, carol } = await setup(server);
    await setPresence(server, bob, 'unavailable', 'at lunch');
    await setPresence(server, carol, 'online');
    const res = await checked(server, alice, 'GET', '/initialSync?limit=1');
    assert.equal(res.status, 200);
    const bobs = presenceOf(res.body.presence, bob.userId);
    assert.equal(bobs.length, 1, JSON.stringify(res.body.presence));
    assert.equal(bobs[0]!.content.presence, 'unavailable');
    assert.equal(bobs[0]!.content.status_msg, 'at lunch');
    assert.deepEqual(presenceOf(res.body.presence, carol.userId), [], 'carol shares no room with alice');
  } finally {
    await server.stop();
  }
});

test("/rooms/{id}/initialSync carries its members' presence", async () => {
  const server = await startTestServer();
  try {
    const { alice, bob, roomId } = await setup(server);
    await setPresence(server, bob, 'online', 'here');
    const res = await checked(server, alice, 'GET', `/rooms/${roomId}/initialSync?limit=1`);
    assert.equal(res.status, 200);
    assert.equal(presenceOf(res.body.presence, bob.userId)[0]?.content.status_msg, 'here');
  } finally {
    await server.stop();
  }
});

test('/events from the /initialSync token delivers a room-mate’s presence change once, and never a stranger’s', async () => {
  const server = await startTestServer();
  try {
    const { alice, bob, carol } = await setup(server);
    const initial = await checked(server, alice, 'GET', '/initialSync?limit=1');
    await setPresence(server, bob, 'unavailable', 'away a bit');
    await setPresence(server, carol, 'unavailable', 'secret');
    const first = await checked(server, alice, 'GET', `/events?from=${initial.body.end}&timeout=0`, undefined, SEED_STREAM);
    assert.equal(first.status, 200);
    const bobs = presenceOf(first.body.chunk, bob.userId);
    assert.equal(bobs.length, 1, JSON.stringify(first.body.chunk));
    assert.equal(bobs[0]!.content.status_msg, 'away a bit');
    assert.deepEqual(presenceOf(first.body.chunk, carol.userId), []);
    const next = await checked(server, alice, 'GET', `/events?from=${first.body.end}&timeout=0`, undefined, SEED_STREAM);
    assert.deepEqual(presenceOf(next.body.chunk, bob.userId), [], 'a presence change is delivered once');
  } finally {
    await server.stop();
  }
});

test('connecting to the event stream brings an offline user online, as room-mates see it', async () => {
  const server = await startTestServer();
  try {
    const { alice, bob } = await setup(server);
    await setPresence(server, alice, 'offline');
    assert.equal((await call(server, bob, 'GET', `/presence/${alice.userId}/status`)).body.presence, 'offline');
    assert.equal((await checked(server, alice, 'GET', '/events?timeout=0', undefined, SEED_STREAM)).status, 200);
    assert.equal((await call(server, bob, 'GET', `/presence/${alice.userId}/status`)).body.presence, 'online');
  } finally {
    await server.stop();
  }
});
