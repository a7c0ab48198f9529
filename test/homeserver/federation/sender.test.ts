// The outbound federation sender on real Hearth servers over HTTPS on loopback: delivery to another
// Hearth's /send, the events that feed it, transaction limits, backoff with the same transaction,
// 4xx drops, restarts, and waking on traffic. Where a remote must misbehave (fail N times, refuse,
// answer slowly) a small fake HTTPS server plays it: a world we do not own.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call, freePort, registerUser, startFederatedTestServer, type TestServer } from '../../helpers/server.ts';
import { serverServerValidator } from '../../helpers/openapi.ts';
import { loadTlsPair } from '../../../homeserver/federation/tls.ts';
import { Connection } from '../../../homeserver/storage/sqlite.ts';
import { federationQueueStore } from '../../../homeserver/storage/federation-queue-store.ts';
import type { PDU } from '../../../homeserver/protocol/types.ts';

const validator = serverServerValidator();
const nameOf = (port: number) => `127.0.0.1:${port}`;

interface Received {
  txnId: string;
  body: any;
  authorization: string;
  at: number;
}

interface FakeRemote {
  name: string;
  /** Every PUT /send, in arrival order. */
  received: Received[];
  maxConcurrent: number;
  /** Answer for the n-th /send (0-based); 200 { pdus: {} } by default. */
  respond: (n: number, r: Received) => { status: number; body: unknown; delayMs?: number };
  close(): Promise<void>;
}

/** A remote server that only implements PUT /send, answering as `respond` says. */
async function startFakeRemote(port: number): Promise<FakeRemote> {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-fake-remote-'));
  const tls = await loadTlsPair({ dataDir: dir, serverName: nameOf(port), listenHost: '127.0.0.1' });
  let concurrent = 0;
  const fake: FakeRemote = {
    name: nameOf(port),
    received: [],
    maxConcurrent: 0,
    respond: () => ({ status: 200, body: { pdus: {} } }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const server = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', async () => {
      const m = /^\/_matrix\/federation\/v1\/send\/([^/?]+)$/.exec(req.url ?? '');
      if (req.method !== 'PUT' || !m) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ errcode: 'M_UNRECOGNIZED', error: 'fake' }));
        return;
      }
      concurrent++;
      fake.maxConcurrent = Math.max(fake.maxConcurrent, concurrent);
      const r: Received = { txnId: decodeURIComponent(m[1]!), body: JSON.parse(text), authorization: String(req.headers.authorization), at: Date.now() };
      fake.received.push(r);
      const answer = fake.respond(fake.received.length - 1, r);
      if (answer.delayMs) await new Promise((d) => setTimeout(d, answer.delayMs));
      concurrent--;
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return fake;
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Reads a running server's SQLite file on a connection of the test's own (WAL allows it). */
async function readDb<T>(server: TestServer, fn: (c: Connection) => Promise<T>): Promise<T> {
  const conn = await Connection.open(join(server.dataDir, 'hearth.sqlite'));
  try {
    return await fn(conn);
  } finally {
    await conn.close();
  }
}

/** The transactions `origin` sent that `server` processed (its idempotency table). */
const inboundAt = (server: TestServer, origin: string) => readDb(server, (c) => federationQueueStore.inboundFrom(c, origin));

const fakePdu = (n: number) => ({ type: 'org.hearth.test', n }) as unknown as PDU;
const edusOf = (r: Received) => (r.body.edus ?? []) as Array<{ edu_type: string; content: any }>;

describe('outbound federation sender', () => {
  let a: TestServer, b: TestServer;
  let A: string, B: string;
  const fakePorts: number[] = [];
  const fakes: FakeRemote[] = [];
  const fake = async () => {
    const f = await startFakeRemote(fakePorts[fakes.length]!);
    fakes.push(f);
    return f;
  };

  before(async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    for (let i = 0; i < 5; i++) fakePorts.push(await freePort());
    A = nameOf(pa);
    B = nameOf(pb);
    a = await startFederatedTestServer(pa, { trustSelfSigned: [B, ...fakePorts.map(nameOf)] });
    b = await startFederatedTestServer(pb, { trustSelfSigned: [A] });
    a.hs.outbound!.configure({ retry: { initialMs: 150, maxMs: 600 } });
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop(), ...fakes.map((f) => f.close())]);
  });

  test("an EDU queued on A for B arrives at B's /send, is processed once there, and leaves A's queue", async () => {
    await a.hs.outbound!.sendEdu([B], 'org.hearth.test', { hello: 'B' });
    await until('B records a transaction from A', async () => (await inboundAt(b, A)).length === 1);
    const [row] = await inboundAt(b, A);
    assert.equal(row!.edu_count, 1);
    assert.equal(row!.pdu_count, 0);
    validator.validateResponse('PUT', '/_matrix/federation/v1/send/x', 200, JSON.parse(row!.response));
    await until("A's queue for B is empty", async () => (await a.hs.outbound!.queued(B)) === 0);
  });

  test('nothing is queued for our own server name', async () => {
    await a.hs.outbound!.sendEdu([A], 'org.hearth.test', {});
    assert.equal(await a.hs.outbound!.queued(A), 0);
  });

  test("a local user's membership event about a remote user goes to that user's server; a message goes only where members are joined", async () => {
    const f = await fake();
    const alice = await registerUser(a, 'alice');
    const room = (await call(a, alice, 'POST', '/createRoom', {})).body.room_id as string;
    const path = (p: string) => `/rooms/${encodeURIComponent(room)}${p}`;
    const x = `@x:${f.name}`;
    assert.equal((await call(a, alice, 'POST', path('/ban'), { user_id: x })).status, 200);
    assert.equal((await call(a, alice, 'PUT', path('/send/m.room.message/t1'), { msgtype: 'm.text', body: 'not for F' })).status, 200);
    assert.equal((await call(a, alice, 'POST', path('/unban'), { user_id: x })).status, 200);
    await until('F has both membership events', () => f.received.flatMap((r) => r.body.pdus).length >= 2);
    const pdus = f.received.flatMap((r) => r.body.pdus) as PDU[];
    // Queue order, and the message (no member of F is joined) is not among them.
    assert.deepEqual(
      pdus.map((p) => [p.type, p.state_key, p.content.membership]),
      [
        ['m.room.member', x, 'ban'],
        ['m.room.member', x, 'leave'],
      ],
    );
    for (const p of pdus) {
      assert.equal(p.sender, alice.userId);
      assert.equal(p.room_id, room);
      assert.ok(!('event_id' in p) && !('unsigned' in p), 'federation format: no event_id, no local unsigned data');
      assert.ok(p.signatures[A], 'signed by A');
      assert.equal(typeof p.hashes.sha256, 'string');
    }
    for (const r of f.received) {
      assert.equal(r.body.origin, A);
      assert.ok(Number.isInteger(r.body.origin_server_ts));
      assert.match(r.authorization, new RegExp(`^X-Matrix origin="${A.replace(/\./g, '\\.')}",destination="${f.name.replace(/\./g, '\\.')}"`));
    }
  });

  test('a destination failing twice gets the same transaction (same txnId and body) after each backoff, then a new txnId', async () => {
    const f = await fake();
    f.respond = (n) => (n < 2 ? { status: 500, body: { errcode: 'M_UNKNOWN', error: 'down' } } : { status: 200, body: { pdus: {} } });
    await a.hs.outbound!.sendEdu([f.name], 'org.hearth.test', { n: 1 });
    await until('3 attempts', () => f.received.length === 3);
    const [r1, r2, r3] = f.received as [Received, Received, Received];
    assert.equal(r2.txnId, r1.txnId);
    assert.equal(r3.txnId, r1.txnId);
    assert.deepEqual(r2.body, r1.body);
    assert.deepEqual(r3.body, r1.body);
    // Backoff 150 ms then 300 ms, each within 10% jitter.
    assert.ok(r2.at - r1.at >= 130, `first wait ${r2.at - r1.at} ms`);
    assert.ok(r3.at - r2.at >= 260, `second wait ${r3.at - r2.at} ms`);
    await until("F's queue is empty", async () => (await a.hs.outbound!.queued(f.name)) === 0);
    await a.hs.outbound!.sendEdu([f.name], 'org.hearth.test', { n: 2 });
    await until('the next EDU is sent', () => f.received.length === 4);
    assert.notEqual(f.received[3]!.txnId, r1.txnId);
    assert.deepEqual(
      edusOf(f.received[3]!).map((e) => e.content.n),
      [2],
    );
    // A success resets the backoff: the next send went out at once.
    assert.ok(f.received[3]!.at - r3.at < 2_000);
  });

  test('a 4xx for the whole transaction drops it and the queue moves on', async () => {
    const f = await fake();
    f.respond = (n) => (n === 0 ? { status: 403, body: { errcode: 'M_FORBIDDEN', error: 'ACL' } } : { status: 200, body: { pdus: {} } });
    await a.hs.outbound!.sendEdu([f.name], 'org.hearth.test', { n: 1 });
    await until('refused once', () => f.received.length === 1);
    await until('dropped from the queue', async () => (await a.hs.outbound!.queued(f.name)) === 0);
    await a.hs.outbound!.sendEdu([f.name], 'org.hearth.test', { n: 2 });
    await until('the next one is sent', () => f.received.length === 2);
    assert.notEqual(f.received[1]!.txnId, f.received[0]!.txnId);
    assert.deepEqual(
      edusOf(f.received[1]!).map((e) => e.content.n),
      [2],
    );
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(f.received.length, 2, 'the refused transaction is not retried');
  });

  test('60 PDUs and 120 EDUs go as two transactions (at most 50 PDUs and 100 EDUs), in queue order, one in flight at a time', async () => {
    const f = await fake();
    f.respond = () => ({ status: 200, body: { pdus: {} }, delayMs: 150 });
    const out = a.hs.outbound!;
    // Queued in one go: the writer runs the jobs in call order, before the first transaction is made.
    const queued = [
      out.sendPdus(
        [f.name],
        Array.from({ length: 60 }, (_, i) => fakePdu(i)),
      ),
    ];
    for (let i = 0; i < 120; i++) queued.push(out.sendEdu([f.name], 'org.hearth.test', { n: i }));
    await Promise.all(queued);
    await until('all delivered', async () => (await out.queued(f.name)) === 0);
    assert.equal(f.received.length, 2);
    const [t1, t2] = f.received as [Received, Received];
    assert.notEqual(t1.txnId, t2.txnId);
    assert.deepEqual(
      t1.body.pdus.map((p: any) => p.n),
      Array.from({ length: 50 }, (_, i) => i),
    );
    assert.deepEqual(
      edusOf(t1).map((e) => e.content.n),
      Array.from({ length: 100 }, (_, i) => i),
    );
    assert.deepEqual(
      t2.body.pdus.map((p: any) => p.n),
      Array.from({ length: 10 }, (_, i) => 50 + i),
    );
    assert.deepEqual(
      edusOf(t2).map((e) => e.content.n),
      Array.from({ length: 20 }, (_, i) => 100 + i),
    );
    assert.equal(f.maxConcurrent, 1);
    assert.ok(t2.at - t1.at >= 150, 'the second transaction waited for the answer to the first');
  });
});

describe('outbound federation across restarts and outages', () => {
  test('a transaction that failed before a restart of the sender is sent after it, with the same txnId, once', async () => {
    const [pa, pf] = [await freePort(), await freePort()];
    const dir = mkdtempSync(join(tmpdir(), 'hearth-sender-restart-'));
    const f = await startFakeRemote(pf);
    let up = false;
    f.respond = () => (up ? { status: 200, body: { pdus: {} } } : { status: 503, body: { errcode: 'M_UNKNOWN', error: 'down' } });
    let a = await startFederatedTestServer(pa, { trustSelfSigned: [f.name] }, { dataDir: dir });
    try {
      a.hs.outbound!.configure({ retry: { initialMs: 100, maxMs: 200 } });
      await a.hs.outbound!.sendEdu([f.name], 'org.hearth.test', { n: 1 });
      await a.hs.outbound!.sendPdus([f.name], [fakePdu(7)]);
      await until('two failed attempts', () => f.received.length >= 2);
      await a.stop();
      const failed = f.received.slice();
      assert.equal(new Set(failed.map((r) => r.txnId)).size, 1, 'retries before the restart reuse the txnId');
      up = true;
      a = await startFederatedTestServer(pa, { trustSelfSigned: [f.name] }, { dataDir: dir });
      await until('delivered after the restart', async () => f.received.length > failed.length && (await a.hs.outbound!.queued(f.name)) === 0);
      const delivered = f.received.slice(failed.length);
      assert.equal(delivered.length, 1, 'delivered once');
      assert.equal(delivered[0]!.txnId, failed[0]!.txnId);
      assert.deepEqual(delivered[0]!.body, failed[0]!.body);
      assert.deepEqual(
        edusOf(delivered[0]!).map((e) => e.content.n),
        [1],
      );
      assert.deepEqual(
        delivered[0]!.body.pdus.map((p: any) => p.n),
        [7],
      );
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(f.received.length, failed.length + 1, 'nothing is sent twice');
    } finally {
      await a.stop();
      await f.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a queue backing off for a destination that is down survives a restart, and traffic from that destination sends it at once', async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    const [dirA, dirB] = [mkdtempSync(join(tmpdir(), 'hearth-sender-a-')), mkdtempSync(join(tmpdir(), 'hearth-sender-b-'))];
    const A = nameOf(pa),
      B = nameOf(pb);
    // B once, so that A has pinned its certificate, then B goes away.
    let b = await startFederatedTestServer(pb, { trustSelfSigned: [A] }, { dataDir: dirB });
    let a = await startFederatedTestServer(pa, { trustSelfSigned: [B] }, { dataDir: dirA });
    try {
      await a.hs.outbound!.sendEdu([B], 'org.hearth.test', { n: 0 });
      await until('B got the first one', async () => (await inboundAt(b, A)).length === 1);
      await b.stop();
      // A long backoff: only a restart (or traffic from B) brings the next attempt soon.
      a.hs.outbound!.configure({ retry: { initialMs: 60_000, maxMs: 60_000 } });
      await a.hs.outbound!.sendEdu([B], 'org.hearth.test', { n: 1 });
      await until(
        'the attempt failed and backs off',
        async () => (await a.hs.outbound!.queued(B)) === 1 && !!(await readDb(a, (c) => federationQueueStore.getRetry(c, B))),
      );
      await a.stop();
      b = await startFederatedTestServer(pb, { trustSelfSigned: [A] }, { dataDir: dirB });
      a = await startFederatedTestServer(pa, { trustSelfSigned: [B] }, { dataDir: dirA });
      // The restarted A honours the persisted backoff (a minute): B's traffic wakes it instead.
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await a.hs.outbound!.queued(B), 1, 'still waiting out its backoff');
      const profile = await b.hs
        .federation!.client.request<any>(A, 'GET', `/_matrix/federation/v1/query/profile?user_id=${encodeURIComponent(`@nobody:${A}`)}`)
        .catch((e) => e);
      assert.equal(profile.errcode, 'M_NOT_FOUND');
      await until('B got the second one', async () => (await inboundAt(b, A)).length === 2, 5_000);
      await until("A's queue for B is empty", async () => (await a.hs.outbound!.queued(B)) === 0, 5_000);
      const rows = await inboundAt(b, A);
      assert.deepEqual(
        rows.map((r) => r.edu_count),
        [1, 1],
      );
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      rmSync(dirA, { recursive: true, force: true });
      rmSync(dirB, { recursive: true, force: true });
    }
  });
});
