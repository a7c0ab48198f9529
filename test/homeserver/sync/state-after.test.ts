// /sync's use_state_after (MSC4222, spec v1.16; sync.yaml): with it, each joined and left room
// carries `state_after`, the state at the END of its timeline (state events in the timeline
// included), in place of `state`, the state at its start. Without it nothing changes. Every
// response goes through the spec's OpenAPI validator (checked-call.ts, sdk.ts's fetchFn).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ClientEvent, createClient, type MatrixClient } from 'matrix-js-sdk';
import { registerUser, startTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';
import { checked } from '../../helpers/checked-call.ts';
import { fetchFn, quietLogger, startSyncing, waitFor } from '../../helpers/sdk.ts';

let server: TestServer;
let alice: TestUser;
let bob: TestUser;
let carol: TestUser;

before(async () => {
  server = await startTestServer();
  alice = await registerUser(server, 'alice');
  bob = await registerUser(server, 'bob');
  carol = await registerUser(server, 'carol');
});
after(() => server?.stop());

interface ClientEventJson {
  event_id: string;
  type: string;
  state_key?: string;
  sender: string;
  content: Record<string, unknown>;
}
interface RoomJson {
  timeline: { events: ClientEventJson[]; limited: boolean };
  state?: { events: ClientEventJson[] };
  state_after?: { events: ClientEventJson[] };
  [field: string]: unknown;
}
interface SyncBody {
  next_batch: string;
  rooms: { join: Record<string, RoomJson>; leave: Record<string, RoomJson> };
}

async function sync(user: TestUser, query: Record<string, string>): Promise<SyncBody> {
  const res = await checked(server, user, 'GET', `/sync?${new URLSearchParams({ timeout: '0', ...query }).toString()}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as SyncBody;
}

const filter = (f: object): string => JSON.stringify(f);

async function newRoom(creator: TestUser, ...joiners: TestUser[]): Promise<string> {
  const res = await checked(server, creator, 'POST', '/createRoom', { preset: 'public_chat', name: 'first name' });
  assert.equal(res.status, 200);
  const roomId = res.body.room_id as string;
  for (const u of joiners) assert.equal((await checked(server, u, 'POST', `/join/${encodeURIComponent(roomId)}`, {})).status, 200);
  return roomId;
}

async function sendState(user: TestUser, roomId: string, type: string, content: object, key = ''): Promise<string> {
  const res = await checked(server, user, 'PUT', `/rooms/${encodeURIComponent(roomId)}/state/${type}/${encodeURIComponent(key)}`, content);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.event_id as string;
}

let txn = 0;
async function say(user: TestUser, roomId: string, body: string): Promise<string> {
  const res = await checked(server, user, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/t${++txn}`, { msgtype: 'm.text', body });
  assert.equal(res.status, 200);
  return res.body.event_id as string;
}

/** The (type, state_key) -> event id of a state list. */
const keyed = (events: ClientEventJson[]): Map<string, string> => new Map(events.map((e) => [`${e.type}|${e.state_key}`, e.event_id]));

/** The room's current state as GET /rooms/{id}/state gives it, keyed like `keyed`. */
async function currentState(user: TestUser, roomId: string): Promise<Map<string, string>> {
  const res = await checked(server, user, 'GET', `/rooms/${encodeURIComponent(roomId)}/state`);
  assert.equal(res.status, 200);
  return keyed(res.body as ClientEventJson[]);
}

describe('/sync use_state_after', () => {
  test('an incremental sync gives a state change made in its timeline in state_after, and no state', async () => {
    const roomId = await newRoom(alice, bob);
    const since = (await sync(bob, {})).next_batch;
    const nameId = await sendState(alice, roomId, 'm.room.name', { name: 'second name' });
    await say(alice, roomId, 'after the rename');

    const room = (await sync(bob, { since, use_state_after: 'true' })).rooms.join[roomId]!;
    assert.equal(room.timeline.limited, false);
    assert.ok(
      room.timeline.events.some((e) => e.event_id === nameId),
      'the rename is in the timeline',
    );
    assert.equal(room.state, undefined, 'state is omitted when use_state_after is true');
    assert.deepEqual(
      room.state_after?.events.map((e) => e.event_id),
      [nameId],
      'state_after holds the rename (the only change since the last sync)',
    );

    // Without the parameter the classic answer: the rename only in the timeline, state empty.
    const classic = (await sync(bob, { since })).rooms.join[roomId]!;
    assert.deepEqual(classic.state?.events, []);
    assert.equal(classic.state_after, undefined);
  });

  test('a gappy incremental sync gives in state_after the state at the end of the timeline: changes in the gap and in the timeline', async () => {
    const roomId = await newRoom(alice, bob);
    const since = (await sync(bob, {})).next_batch;
    const nameId = await sendState(alice, roomId, 'm.room.name', { name: 'renamed in the gap' });
    for (let i = 0; i < 5; i++) await say(alice, roomId, `gap ${i}`);
    const topicId = await sendState(alice, roomId, 'm.room.topic', { topic: 'set in the timeline' });
    await say(alice, roomId, 'last');

    const room = (await sync(bob, { since, use_state_after: 'true', filter: filter({ room: { timeline: { limit: 2 } } }) })).rooms.join[roomId]!;
    assert.equal(room.timeline.limited, true);
    assert.deepEqual(room.timeline.events.map((e) => e.event_id)[0], topicId, 'the topic change opens the 2-event timeline');
    assert.equal(room.state, undefined);
    assert.deepEqual(new Set(room.state_after?.events.map((e) => e.event_id)), new Set([nameId, topicId]));

    // The classic `state` is the state at the timeline's start: the rename, not the topic.
    const classic = (await sync(bob, { since, filter: filter({ room: { timeline: { limit: 2 } } }) })).rooms.join[roomId]!;
    assert.deepEqual(
      classic.state?.events.map((e) => e.event_id),
      [nameId],
    );
  });

  test("an initial sync's state_after is the room's whole state at the end of the timeline", async () => {
    const roomId = await newRoom(alice, bob);
    await sendState(alice, roomId, 'm.room.topic', { topic: 'last state event' });
    const room = (await sync(bob, { use_state_after: 'true', filter: filter({ room: { rooms: [roomId], timeline: { limit: 1 } } }) })).rooms.join[roomId]!;
    assert.equal(room.state, undefined);
    assert.deepEqual(keyed(room.state_after!.events), await currentState(bob, roomId));
  });

  test('a left room carries state_after: the state as the user left it, their leave included (initial and incremental)', async () => {
    const roomId = await newRoom(alice, bob);
    const since = (await sync(bob, {})).next_batch;
    const nameId = await sendState(alice, roomId, 'm.room.name', { name: 'before bob left' });
    const left = await checked(server, bob, 'POST', `/rooms/${encodeURIComponent(roomId)}/leave`, {});
    assert.equal(left.status, 200);
    await sendState(alice, roomId, 'm.room.topic', { topic: 'after bob left' });

    const incremental = (await sync(bob, { since, use_state_after: 'true' })).rooms.leave[roomId]!;
    assert.equal(incremental.state, undefined);
    const changes = keyed(incremental.state_after!.events);
    assert.equal(changes.get('m.room.name|'), nameId);
    assert.ok(changes.has(`m.room.member|${bob.userId}`), "bob's own leave is in state_after");
    assert.equal(changes.size, 2, 'only what changed since the last sync');

    const initial = (await sync(bob, { use_state_after: 'true', filter: filter({ room: { include_leave: true } }) })).rooms.leave[roomId]!;
    const state = keyed(initial.state_after!.events);
    assert.equal(state.get('m.room.name|'), nameId);
    const bobsEvent = initial.state_after!.events.find((e) => e.type === 'm.room.member' && e.state_key === bob.userId);
    assert.equal(bobsEvent?.content.membership, 'leave');
    assert.ok(!state.has('m.room.topic|'), 'nothing after the leave');
    assert.ok(state.has('m.room.create|'));
  });

  test('with lazy-loaded members, state_after still gives a membership changed in the timeline by someone else (a kick)', async () => {
    const roomId = await newRoom(alice, bob, carol);
    const since = (await sync(bob, {})).next_batch;
    const kick = await checked(server, alice, 'POST', `/rooms/${encodeURIComponent(roomId)}/kick`, { user_id: carol.userId });
    assert.equal(kick.status, 200);
    const room = (await sync(bob, { since, use_state_after: 'true', filter: filter({ room: { state: { lazy_load_members: true } } }) })).rooms.join[roomId]!;
    const carolsEvent = room.state_after!.events.find((e) => e.type === 'm.room.member' && e.state_key === carol.userId);
    assert.equal(carolsEvent?.content.membership, 'leave');
  });

  test('full_state with use_state_after gives the whole state at the end; a room sent for a receipt alone has an empty state_after', async () => {
    const roomId = await newRoom(alice, bob);
    const messageId = await say(alice, roomId, 'to be read');
    const since = (await sync(bob, {})).next_batch;
    const topicId = await sendState(alice, roomId, 'm.room.topic', { topic: 'at the end' });
    const full = (await sync(bob, { since, full_state: 'true', use_state_after: 'true' })).rooms.join[roomId]!;
    const state = keyed(full.state_after!.events);
    assert.equal(state.get('m.room.topic|'), topicId);
    assert.deepEqual(state, await currentState(bob, roomId));

    const next = (await sync(bob, { since, use_state_after: 'true' })).next_batch;
    const receipt = await checked(server, alice, 'POST', `/rooms/${encodeURIComponent(roomId)}/receipt/m.read/${encodeURIComponent(messageId)}`, {});
    assert.equal(receipt.status, 200);
    const quiet = (await sync(bob, { since: next, use_state_after: 'true' })).rooms.join[roomId]!;
    assert.deepEqual(quiet.timeline.events, []);
    assert.deepEqual(quiet.state_after, { events: [] }, 'present, and empty');
    assert.equal(quiet.state, undefined);
  });

  test('the state filter applies to state_after', async () => {
    const roomId = await newRoom(alice, bob);
    const room = (await sync(bob, { use_state_after: 'true', filter: filter({ room: { rooms: [roomId], state: { types: ['m.room.name'] } } }) })).rooms.join[
      roomId
    ]!;
    assert.deepEqual(
      room.state_after!.events.map((e) => e.type),
      ['m.room.name'],
    );
  });

  test("MSC4222's unstable parameter is answered with the unstable field, which matrix-js-sdk reads", async () => {
    const roomId = await newRoom(alice, bob);
    const room = (await sync(bob, { 'org.matrix.msc4222.use_state_after': 'true' })).rooms.join[roomId]!;
    assert.equal(room.state, undefined);
    assert.equal(room.state_after, undefined);
    assert.ok(Array.isArray((room['org.matrix.msc4222.state_after'] as { events: unknown[] }).events));
  });

  test('matrix-js-sdk, which asks for state_after, gets it and follows a rename from it', async () => {
    const roomId = await newRoom(alice, bob);
    const seen: string[] = [];
    const recording: typeof fetch = async (input, init) => {
      const res = await fetchFn(input, init);
      const url = String(input instanceof Request ? input.url : input);
      if (url.includes('/sync?')) {
        const body = (await res.clone().json()) as SyncBody;
        for (const [id, room] of Object.entries(body.rooms?.join ?? {})) if ('org.matrix.msc4222.state_after' in room) seen.push(id);
      }
      return res;
    };
    const client: MatrixClient = createClient({
      baseUrl: server.url,
      fetchFn: recording,
      logger: quietLogger,
      accessToken: bob.accessToken,
      userId: bob.userId,
    });
    try {
      await startSyncing(client);
      assert.ok(seen.includes(roomId), 'the initial sync answered with state_after');
      let synced = 0;
      client.on(ClientEvent.Sync, () => synced++);
      await sendState(alice, roomId, 'm.room.name', { name: 'named for the sdk' });
      await waitFor('the sdk to show the new name', () => client.getRoom(roomId)?.name === 'named for the sdk');
      assert.ok(synced > 0);
    } finally {
      client.stopClient();
    }
  });
});
