// Issue #6, "It must show" 1: three Hearth servers as separate `hearth serve` processes on loopback
// (own ports, data dirs and server names) federate for matrix-js-sdk clients. A room made on the
// first gets an alias; users of the other two join it by that alias; history from before the third
// server's join is backfilled; 100 messages from each of the three users, sent at once, arrive on
// every server exactly once and in a causally consistent order; display names, typing, read
// receipts and presence cross servers; an encrypted DM between two servers decrypts on both sides
// (Rust crypto). Every client response is validated against the client-server OpenAPI, and the
// federation responses this test fetches itself against the server-server OpenAPI.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createClient, EventType, Preset, ReceiptType, RoomEvent, type MatrixClient, type MatrixEvent } from 'matrix-js-sdk';
import { allMessages } from '../helpers/checked-call.ts';
import { federationGet, startCluster, type Cluster, type HearthProcess } from '../helpers/hearth-process.ts';
import { assertNoValidationFailures, clearValidationFailures, validationCounts } from '../helpers/openapi.ts';
import { fetchFn, quietLogger, registerWithSdk, startSyncing, waitFor, waitForAsync } from '../helpers/sdk.ts';
import type { TestUser } from '../helpers/server.ts';
import { Connection } from '../../homeserver/storage/sqlite.ts';

// The Rust crypto's requests carry a 60 s localTimeoutMs whose timer is never cleared (see
// encrypted-conversation.test.ts): unref timers that long so they do not hold the process open.
const setTimeoutBefore = globalThis.setTimeout;
globalThis.setTimeout = ((fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
  const timer = setTimeoutBefore(fn, ms, ...args);
  if ((ms ?? 0) >= 60_000) timer.unref();
  return timer;
}) as unknown as typeof setTimeout;

/** Federation adds a hop or two (and gap filling) to every delivery: wait longer than on one server. */
const FED_WAIT_MS = 30_000;
const PER_USER = 100;
const ROUNDS = 10;
const HISTORY_EACH = 25;

interface Person {
  name: string;
  server: HearthProcess;
  user: TestUser;
  client: MatrixClient;
  /** Bodies of m.room.message events this client's timelines delivered, per room (live or paginated). */
  seen: Map<string, Set<string>>;
}

/** The prev_events of every event of the room as the server stored it. */
async function prevEventsOf(server: HearthProcess, roomId: string): Promise<Map<string, string[]>> {
  const db = await Connection.open(join(server.dataDir, 'hearth.sqlite'), true);
  try {
    const rows = await db.all<{ event_id: string; json: string }>('SELECT event_id, json FROM events WHERE room_id = ?', roomId);
    return new Map(rows.map((r) => [r.event_id, (JSON.parse(r.json) as { prev_events: string[] }).prev_events]));
  } finally {
    await db.close();
  }
}

/**
 * The room's events on one server through /messages (validated), checked: no event or message
 * twice; each sender's numbered messages ("<who> <n>", "history <who> <n>") in the order sent; every
 * event after its prev_events (as the server stored them). Returns the events, oldest first.
 */
async function causalTimeline(server: HearthProcess, user: TestUser, roomId: string): Promise<any[]> {
  const where = server.serverName;
  const events = await allMessages(server, user, roomId);
  const ids = events.map((e) => e.event_id as string);
  assert.equal(new Set(ids).size, ids.length, `${where}: an event appears twice in /messages`);
  const bodies = events.filter((e) => e.type === 'm.room.message').map((e) => e.content.body as string);
  assert.equal(new Set(bodies).size, bodies.length, `${where}: a message appears twice`);
  const lastOf = new Map<string, number>();
  for (const b of bodies) {
    const m = /^(.* )(\d+)$/.exec(b);
    if (!m) continue;
    const n = Number(m[2]);
    assert.ok((lastOf.get(m[1]!) ?? -1) < n, `${where}: "${b}" comes after "${m[1]}${lastOf.get(m[1]!)}"`);
    lastOf.set(m[1]!, n);
  }
  const position = new Map(ids.map((id, i) => [id, i]));
  let edges = 0;
  for (const [id, prev] of await prevEventsOf(server, roomId)) {
    const at = position.get(id);
    if (at === undefined) continue;
    for (const pid of prev) {
      const pat = position.get(pid);
      if (pat === undefined) continue;
      edges++;
      assert.ok(pat < at, `${where}: ${describeEvent(events[at])} is listed before ${describeEvent(events[pat!])}, one of its prev_events`);
    }
  }
  assert.ok(edges >= ids.length - 1, `${where}: only ${edges} DAG edges among ${ids.length} events`);
  return events;
}

const describeEvent = (e: any) =>
  `${e.event_id} (${e.type}${e.state_key !== undefined ? ` ${e.state_key}` : ''} from ${e.sender}${e.content?.body ? `: ${e.content.body}` : ''})`;

/** Fails naming the events one server has and the other lacks. */
function assertSameEvents(a: { name: string; events: any[] }, b: { name: string; events: any[] }): void {
  const inB = new Set(b.events.map((e) => e.event_id));
  const inA = new Set(a.events.map((e) => e.event_id));
  const onlyA = a.events.filter((e) => !inB.has(e.event_id)).map(describeEvent);
  const onlyB = b.events.filter((e) => !inA.has(e.event_id)).map(describeEvent);
  assert.deepEqual({ onlyA, onlyB }, { onlyA: [], onlyB: [] }, `${a.name} and ${b.name} hold different events`);
}

describe('three Hearth processes federate for matrix-js-sdk clients', () => {
  let cluster: Cluster;
  let alice: Person, bob: Person, carol: Person;
  let people: Person[];
  let roomId: string;
  let alias: string;
  const history: string[] = [];

  async function person(name: string, server: HearthProcess, crypto: boolean): Promise<Person> {
    const user = await registerWithSdk(server, name);
    const client = createClient({
      baseUrl: server.url,
      fetchFn,
      logger: quietLogger,
      userId: user.userId,
      accessToken: user.accessToken,
      deviceId: user.deviceId,
    });
    const seen = new Map<string, Set<string>>();
    client.on(RoomEvent.Timeline, (event) => {
      const rid = event.getRoomId();
      if (!rid || event.getType() !== 'm.room.message') return;
      let set = seen.get(rid);
      if (!set) seen.set(rid, (set = new Set()));
      set.add(event.getContent().body as string);
    });
    // Node 22 has WebCrypto and WebAssembly; without IndexedDB the Rust crypto store lives in memory.
    if (crypto) await client.initRustCrypto({ useIndexedDB: false });
    await startSyncing(client);
    return { name, server, user, client, seen };
  }

  const seenIn = (p: Person, rid: string) => p.seen.get(rid) ?? new Set<string>();

  // Three servers, three clients and two Rust crypto stacks start on a 2-core machine: slow under load.
  before(
    async () => {
      clearValidationFailures();
      cluster = await startCluster(3, { tmpPrefix: 'hearth-fed3-' });
      const [hs1, hs2, hs3] = cluster.servers as [HearthProcess, HearthProcess, HearthProcess];
      [alice, bob, carol] = await Promise.all([person('alice', hs1, true), person('bob', hs2, true), person('carol', hs3, false)]);
      people = [alice, bob, carol];
    },
    { timeout: 180_000 },
  );

  after(async () => {
    for (const p of people ?? []) p.client.stopClient();
    await cluster?.close();
  });

  test('the federation listeners answer /version and /key/v2/server as the server-server API says', async () => {
    for (const s of cluster.servers) {
      const version = await federationGet(s, '/_matrix/federation/v1/version');
      assert.equal(version.status, 200);
      assert.equal(typeof version.body.server.name, 'string');
      const keys = await federationGet(s, '/_matrix/key/v2/server');
      assert.equal(keys.status, 200);
      assert.equal(keys.body.server_name, s.serverName, 'each process signs as its own server name');
    }
  });

  test('a room made on server 1 gets an alias; bob of server 2 joins it by that alias', async () => {
    ({ room_id: roomId } = await alice.client.createRoom({ name: 'Town square', preset: Preset.PublicChat, room_alias_name: 'square' }));
    alias = `#square:${alice.server.serverName}`;
    const room = await bob.client.joinRoom(alias);
    assert.equal(room.roomId, roomId, 'the alias resolved over federation to the room of server 1');
    await waitFor("alice to see bob's join", () => alice.client.getRoom(roomId)?.getMember(bob.user.userId)?.membership === 'join', FED_WAIT_MS);
    await waitFor('bob to see the room name', () => bob.client.getRoom(roomId)?.name === 'Town square', FED_WAIT_MS);
  });

  test('history sent before carol of server 3 joined by alias is backfilled as she pages back', async () => {
    for (let i = 0; i < HISTORY_EACH; i++) {
      for (const p of [alice, bob]) {
        const body = `history ${p.name} ${i}`;
        history.push(body);
        await p.client.sendTextMessage(roomId, body);
      }
    }
    await waitFor("alice to have all of bob's history", () => history.every((b) => seenIn(alice, roomId).has(b)), FED_WAIT_MS);
    const room = await carol.client.joinRoom(alias);
    assert.equal(room.roomId, roomId);
    await waitFor('carol to have the room in her sync', () => carol.client.getRoom(roomId)?.getMyMembership() === 'join', FED_WAIT_MS);
    await waitFor("alice to see carol's join", () => alice.client.getRoom(roomId)?.getMember(carol.user.userId)?.membership === 'join', FED_WAIT_MS);
    await waitFor("bob to see carol's join", () => bob.client.getRoom(roomId)?.getMember(carol.user.userId)?.membership === 'join', FED_WAIT_MS);

    // Page back 20 at a time, as a client scrolling up does, until the room's creation.
    const carolRoom = carol.client.getRoom(roomId)!;
    const timeline = carolRoom.getLiveTimeline();
    for (let page = 0; page < 50 && (await carol.client.paginateEventTimeline(timeline, { backwards: true, limit: 20 })); page++);
    const events = timeline.getEvents();
    assert.equal(events[0]?.getType(), EventType.RoomCreate, 'paging back reached the room creation');
    // alice's and bob's messages were sent one after another, but each from her or his own server:
    // what the DAG orders is each sender's own messages (checked below), not one against the other.
    const bodies = events.filter((e) => e.getType() === 'm.room.message').map((e) => e.getContent().body as string);
    assert.deepEqual([...bodies].sort(), [...history].sort(), 'every message from before the join, once');
    for (const who of ['alice', 'bob']) {
      const own = (list: string[]) => list.filter((b) => b.startsWith(`history ${who} `));
      assert.deepEqual(own(bodies), own(history), `${who}'s history in the order sent`);
    }
    // The same through /messages straight from server 3, validated, in causal order.
    const viaApi = (await causalTimeline(carol.server, carol.user, roomId)).filter((e) => e.type === 'm.room.message').map((e) => e.content.body);
    assert.deepEqual([...viaApi].sort(), [...history].sort());
  });

  test('100 messages from each of the three users, sent at once, reach every server once each, in causal order', async (t) => {
    const batch = PER_USER / ROUNDS;
    const bodyOf = (p: Person, n: number) => `${p.name} ${n}`;
    const start = Date.now();
    // Each user sends a round of messages one after another, then waits until its own client has
    // seen that round from everybody (over federation) before the next: the three servers extend
    // the room's DAG concurrently, and a round's messages cite the previous round's.
    await Promise.all(
      people.map(async (p) => {
        for (let round = 0; round < ROUNDS; round++) {
          for (let k = 0; k < batch; k++) await p.client.sendTextMessage(roomId, bodyOf(p, round * batch + k));
          await waitFor(
            `${p.name} to see round ${round}`,
            () => {
              const s = seenIn(p, roomId);
              return people.every((q) => Array.from({ length: batch }, (_, k) => bodyOf(q, round * batch + k)).every((b) => s.has(b)));
            },
            FED_WAIT_MS * 2,
          );
        }
      }),
    );
    const expected = people.flatMap((p) => Array.from({ length: PER_USER }, (_, n) => bodyOf(p, n)));
    for (const p of people) {
      await waitFor(`${p.name}'s client to see all ${expected.length} messages`, () => expected.every((b) => seenIn(p, roomId).has(b)), FED_WAIT_MS);
    }
    const sendMs = Date.now() - start;

    // /messages on each server: every event once, each sender's messages in the order sent, each
    // round after the previous, and every event after the events it cites (prev_events).
    const timelines: Array<{ name: string; events: any[] }> = [];
    for (const p of people) {
      const events = await causalTimeline(p.server, p.user, roomId);
      const bodies = events.filter((e) => e.type === 'm.room.message').map((e) => e.content.body as string);
      assert.deepEqual(bodies.filter((b) => !b.startsWith('history ')).sort(), [...expected].sort(), `${p.server.serverName}: every message, none missing`);
      // History first, then the rounds in order: a round-r+1 message's sender had seen all of
      // round r on its server, so each of them is among its ancestors (prev_events are the
      // sender's forward extremities).
      const rounds = bodies.map((b) => (b.startsWith('history ') ? -1 : Math.floor(Number(b.split(' ')[1]) / batch)));
      for (let i = 1; i < rounds.length; i++) {
        assert.ok(
          rounds[i]! >= rounds[i - 1]!,
          `${p.server.serverName}: "${bodies[i]}" (round ${rounds[i]}) comes after "${bodies[i - 1]}" (round ${rounds[i - 1]})`,
        );
      }
      timelines.push({ name: p.server.serverName, events });
    }
    // The three servers hold the same events.
    assertSameEvents(timelines[0]!, timelines[1]!);
    assertSameEvents(timelines[0]!, timelines[2]!);
    t.diagnostic(`${expected.length} messages from 3 servers delivered everywhere in ${sendMs} ms`);
  });

  test('a display name change on server 2 shows on servers 1 and 3', async () => {
    await bob.client.setDisplayName('Bob the Builder');
    for (const p of [alice, carol]) {
      await waitFor(`${p.name} to see bob's new name`, () => p.client.getRoom(roomId)?.getMember(bob.user.userId)?.name === 'Bob the Builder', FED_WAIT_MS);
    }
  });

  test('typing on server 3 is seen on servers 1 and 2, and so is its end', async () => {
    await carol.client.sendTyping(roomId, true, 30_000);
    for (const p of [alice, bob]) {
      await waitFor(`${p.name} to see carol typing`, () => p.client.getRoom(roomId)?.getMember(carol.user.userId)?.typing === true, FED_WAIT_MS);
    }
    await carol.client.sendTyping(roomId, false, 0);
    for (const p of [alice, bob]) {
      await waitFor(`${p.name} to see carol stop typing`, () => p.client.getRoom(roomId)?.getMember(carol.user.userId)?.typing === false, FED_WAIT_MS);
    }
  });

  test('a read receipt on server 2 is seen on servers 1 and 3', async () => {
    const { event_id } = await alice.client.sendTextMessage(roomId, 'read me');
    const event = await waitFor('bob to receive it', () => bob.client.getRoom(roomId)?.findEventById(event_id), FED_WAIT_MS);
    await bob.client.sendReadReceipt(event, ReceiptType.Read);
    for (const p of [alice, carol]) {
      await waitFor(
        `${p.name} to see bob's receipt`,
        () => p.client.getRoom(roomId)?.getReadReceiptForUserId(bob.user.userId, true)?.eventId === event_id,
        FED_WAIT_MS,
      );
    }
  });

  test('presence set on server 3 is seen on servers 1 and 2', async () => {
    await carol.client.setPresence({ presence: 'unavailable', status_msg: 'gone fishing' });
    for (const p of [alice, bob]) {
      await waitFor(
        `${p.name} to see carol unavailable`,
        () => {
          const u = p.client.getUser(carol.user.userId);
          return u?.presence === 'unavailable' && u.presenceStatusMsg === 'gone fishing';
        },
        FED_WAIT_MS,
      );
      const direct = await p.client.getPresence(carol.user.userId);
      assert.equal(direct.presence, 'unavailable');
    }
  });

  test("an encrypted DM between servers 1 and 2: each side decrypts the other's message", async () => {
    const { room_id: dm } = await alice.client.createRoom({
      preset: Preset.TrustedPrivateChat,
      is_direct: true,
      invite: [bob.user.userId],
      initial_state: [{ type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } }],
    });
    await waitFor('bob to see the invite', () => bob.client.getRoom(dm)?.getMyMembership() === 'invite', FED_WAIT_MS);
    await bob.client.joinRoom(dm);
    await waitFor("alice to see bob's join", () => alice.client.getRoom(dm)?.getMember(bob.user.userId)?.membership === 'join', FED_WAIT_MS);
    await waitForAsync(
      'both crypto stacks to treat the DM as encrypted',
      async () => (await alice.client.getCrypto()!.isEncryptionEnabledInRoom(dm)) && (await bob.client.getCrypto()!.isEncryptionEnabledInRoom(dm)),
      FED_WAIT_MS,
    );

    const decrypted = (p: Person, body: string): MatrixEvent | undefined =>
      p.client
        .getRoom(dm)
        ?.getLiveTimeline()
        .getEvents()
        .find((e) => e.getType() === 'm.room.message' && e.getContent().body === body);
    for (const [from, to] of [
      [alice, bob],
      [bob, alice],
    ] as const) {
      const body = `${from.name} whispers ${randomBytes(6).toString('hex')}`;
      await from.client.sendTextMessage(dm, body);
      const ev = await waitFor(`${to.name} to decrypt "${body}"`, () => decrypted(to, body), FED_WAIT_MS * 2);
      assert.equal(ev.getWireType(), 'm.room.encrypted', 'the message crossed servers encrypted');
      assert.equal(ev.getWireContent().algorithm, 'm.megolm.v1.aes-sha2');
      assert.equal(ev.isDecryptionFailure(), false);
      assert.equal(ev.getSender(), from.user.userId);
    }
    // Both servers hold only m.room.encrypted messages in that room.
    for (const p of [alice, bob]) {
      const events = await allMessages(p.server, p.user, dm);
      assert.equal(events.filter((e) => e.type === 'm.room.encrypted').length, 2, `${p.server.serverName} holds both encrypted messages`);
      assert.ok(!events.some((e) => e.type === 'm.room.message'), `${p.server.serverName} holds no plaintext message`);
    }
  });

  test('every client response matched the client-server OpenAPI', () => {
    assertNoValidationFailures();
    assert.ok(validationCounts().validated > 500, JSON.stringify(validationCounts()));
  });
});
