// Issue #6, "It must show" 2: a partition. Three Hearth servers run as separate `hearth serve`
// processes on loopback and share a room. The second is killed (SIGKILL: no goodbye, nothing
// flushed) for 30 s while the users of the first and third keep talking (messages, a topic change,
// a display name change); then it is started again on the same ports and data dir. It must catch up
// with every event, no server may hold an event twice, and its current state must equal the others'.
// Client responses are validated against the client-server OpenAPI (checked-call.ts), the
// federation responses fetched here against the server-server OpenAPI.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { allMessages, checked } from '../helpers/checked-call.ts';
import { federationGet, startCluster, type Cluster, type HearthProcess } from '../helpers/hearth-process.ts';
import type { TestUser } from '../helpers/server.ts';
import { waitForAsync } from '../helpers/poll.ts';

const OUTAGE_MS = 30_000;
/**
 * How long server 2 may take to hold every event once restarted. Left alone, servers 1 and 3 would
 * retry at their backoff (1 s doubling: after a 30 s outage the next try comes up to ~35 s later;
 * 28 s measured); a restarted server announces itself with an empty transaction to the servers it
 * shares rooms with, which wakes their queues at once (sender/federation-sender.ts, wake-on-traffic.ts).
 */
const CATCH_UP_MS = 15_000;
const WAIT_MS = 20_000;

/** Polls three servers over HTTP: every 200 ms is often enough. */
const eventually = <T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = WAIT_MS) => waitForAsync(what, check, timeoutMs, 200);

async function register(server: HearthProcess, username: string): Promise<TestUser> {
  const body = { username, password: 'partition password 1' };
  const first = await checked(server, undefined, 'POST', '/register', body);
  assert.equal(first.status, 401);
  const res = await checked(server, undefined, 'POST', '/register', { ...body, auth: { type: 'm.login.dummy', session: first.body.session } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return { userId: res.body.user_id, accessToken: res.body.access_token, deviceId: res.body.device_id };
}

interface Member {
  name: string;
  server: HearthProcess;
  user: TestUser;
}

describe('a federated server stopped for 30 s catches up when it returns', () => {
  let cluster: Cluster;
  let alice: Member, bob: Member, carol: Member;
  let roomId: string;
  let txn = 0;
  let keyIdsBefore: string[] = [];
  /** Event ids of everything sent, by body. */
  const sent = new Map<string, string>();

  const rid = () => encodeURIComponent(roomId);
  async function say(m: Member, body: string): Promise<void> {
    const r = await checked(m.server, m.user, 'PUT', `/rooms/${rid()}/send/m.room.message/t${txn++}`, { msgtype: 'm.text', body });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    sent.set(body, r.body.event_id);
  }
  async function setState(m: Member, type: string, stateKey: string, content: unknown): Promise<string> {
    const r = await checked(m.server, m.user, 'PUT', `/rooms/${rid()}/state/${type}/${encodeURIComponent(stateKey)}`, content);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.event_id;
  }
  async function eventIds(m: Member): Promise<string[]> {
    return (await allMessages(m.server, m.user, roomId)).map((e) => e.event_id);
  }
  async function hasAll(m: Member, ids: Iterable<string>): Promise<boolean> {
    const have = new Set(await eventIds(m));
    return [...ids].every((id) => have.has(id));
  }
  async function currentState(m: Member): Promise<Map<string, { event_id: string; content: unknown }>> {
    const r = await checked(m.server, m.user, 'GET', `/rooms/${rid()}/state`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return new Map((r.body as any[]).map((e) => [`${e.type}|${e.state_key}`, { event_id: e.event_id, content: e.content }]));
  }

  before(
    async () => {
      cluster = await startCluster(3, { tmpPrefix: 'hearth-partition-' });
      const [hs1, hs2, hs3] = cluster.servers as [HearthProcess, HearthProcess, HearthProcess];
      alice = { name: 'alice', server: hs1, user: await register(hs1, 'alice') };
      bob = { name: 'bob', server: hs2, user: await register(hs2, 'bob') };
      carol = { name: 'carol', server: hs3, user: await register(hs3, 'carol') };
      const created = await checked(hs1, alice.user, 'POST', '/createRoom', { preset: 'public_chat', room_alias_name: 'commons', name: 'Commons' });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      roomId = created.body.room_id;
      for (const m of [bob, carol]) {
        const joined = await checked(m.server, m.user, 'POST', `/join/${encodeURIComponent(`#commons:${hs1.serverName}`)}`, {});
        assert.equal(joined.status, 200, JSON.stringify(joined.body));
      }
      for (const m of [alice, bob, carol]) {
        await eventually(`${m.name} to see all three joined`, async () => {
          const r = await checked(m.server, m.user, 'GET', `/rooms/${rid()}/joined_members`);
          return r.status === 200 && Object.keys(r.body.joined).length === 3;
        });
      }
    },
    { timeout: 180_000 },
  );

  after(async () => {
    await cluster?.close();
  });

  test('before the partition, a message from each server reaches the other two', async () => {
    for (const m of [alice, bob, carol]) await say(m, `hello from ${m.name}`);
    for (const m of [alice, bob, carol]) await eventually(`${m.name} to hold the three greetings`, () => hasAll(m, sent.values()));
    const keys = await federationGet(bob.server, '/_matrix/key/v2/server');
    assert.equal(keys.status, 200);
    keyIdsBefore = Object.keys(keys.body.verify_keys);
  });

  test('with server 2 killed, servers 1 and 3 go on talking for 30 s: messages, a topic, a display name', async (t) => {
    const killed = await bob.server.stop('SIGKILL');
    assert.equal(killed.signal, 'SIGKILL');
    const start = Date.now();
    let n = 0;
    let topicSet = false;
    let renamed = false;
    while (Date.now() - start < OUTAGE_MS) {
      await say(alice, `alice during ${n}`);
      await say(carol, `carol during ${n}`);
      n++;
      if (!topicSet && Date.now() - start > OUTAGE_MS / 3) {
        await setState(alice, 'm.room.topic', '', { topic: 'Agreed while server 2 was away' });
        topicSet = true;
      }
      if (!renamed && Date.now() - start > (2 * OUTAGE_MS) / 3) {
        await setState(carol, 'm.room.member', carol.user.userId, { membership: 'join', displayname: 'Carol (renamed offline)' });
        renamed = true;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    assert.ok(topicSet && renamed);
    // Servers 1 and 3 were not held up by the dead peer.
    for (const m of [alice, carol]) await eventually(`${m.name} to hold every message of the outage`, () => hasAll(m, sent.values()));
    t.diagnostic(`${2 * n} messages and 2 state changes sent during a ${Date.now() - start} ms outage`);
    await bob.server.start();
  });

  test('server 2, restarted on the same ports and data, catches up with every event on its own', async (t) => {
    const start = Date.now();
    // Nobody on server 2 does anything: its start-up announcement must be enough.
    await eventually('server 2 to hold every event sent during the outage', () => hasAll(bob, sent.values()), CATCH_UP_MS);
    t.diagnostic(`server 2 held every event ${Date.now() - start} ms after its restart`);
    // And ephemeral traffic flows again: bob's typing reaches the others.
    const typing = await checked(bob.server, bob.user, 'PUT', `/rooms/${rid()}/typing/${encodeURIComponent(bob.user.userId)}`, {
      typing: true,
      timeout: 10_000,
    });
    assert.equal(typing.status, 200, JSON.stringify(typing.body));
    for (const m of [alice, carol]) {
      await eventually(`${m.name} to see bob typing`, async () => {
        const r = await checked(m.server, m.user, 'GET', '/sync?timeout=0');
        return (r.body.rooms?.join?.[roomId]?.ephemeral?.events ?? []).some((e: any) => e.type === 'm.typing' && e.content.user_ids.includes(bob.user.userId));
      });
    }
  });

  test('no server holds an event twice, all hold the same events, and the current state is the same on all three', async () => {
    // bob speaks after catching up: his message must reach the others too.
    await say(bob, 'bob is back');
    const all = () => [...sent.values()];
    for (const m of [alice, carol]) await eventually(`${m.name} to hold bob's return`, () => hasAll(m, all()));
    const timelines = new Map<string, string[]>();
    for (const m of [alice, bob, carol]) {
      const ids = await eventIds(m);
      assert.equal(new Set(ids).size, ids.length, `${m.server.serverName} lists an event twice`);
      timelines.set(m.name, ids);
    }
    const sorted = (name: string) => [...timelines.get(name)!].sort();
    // What one server lists and another does not, described from the server that has it.
    const difference = async (a: Member, b: Member) => {
      const missing = timelines.get(a.name)!.filter((id) => !timelines.get(b.name)!.includes(id));
      const described = await Promise.all(
        missing.map(async (id) => {
          const r = await checked(a.server, a.user, 'GET', `/rooms/${rid()}/event/${encodeURIComponent(id)}`);
          return `${id} ${r.body.type}/${r.body.state_key ?? ''} from ${r.body.sender} at ${r.body.origin_server_ts}: ${JSON.stringify(r.body.content)}`;
        }),
      );
      return described.length > 0 ? ` (only ${a.name}'s server lists ${described.join('; ')})` : '';
    };
    assert.deepEqual(sorted('bob'), sorted('alice'), `servers 1 and 2 hold the same events${await difference(alice, bob)}${await difference(bob, alice)}`);
    assert.deepEqual(
      sorted('carol'),
      sorted('alice'),
      `servers 1 and 3 hold the same events${await difference(alice, carol)}${await difference(carol, alice)}`,
    );

    const states = await Promise.all([alice, bob, carol].map(currentState));
    assert.deepEqual(states[1], states[0], 'server 2 has the current state of server 1');
    assert.deepEqual(states[2], states[0], 'server 3 has the current state of server 1');
    assert.equal((states[1]!.get('m.room.topic|')?.content as { topic?: string }).topic, 'Agreed while server 2 was away');
    assert.equal((states[1]!.get(`m.room.member|${carol.user.userId}`)?.content as { displayname?: string }).displayname, 'Carol (renamed offline)');
  });

  test('the restarted server answers on its federation listener with the same signing key', async () => {
    const keys = await federationGet(bob.server, '/_matrix/key/v2/server');
    assert.equal(keys.status, 200);
    assert.equal(keys.body.server_name, bob.server.serverName);
    assert.deepEqual(Object.keys(keys.body.verify_keys), keyIdsBefore);
    const version = await federationGet(bob.server, '/_matrix/federation/v1/version');
    assert.equal(version.status, 200);
  });
});
