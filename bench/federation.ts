// Issue 6's figures, over real federation between `hearth serve` processes on loopback (HTTPS,
// self-signed certificates trusted by name):
//  - send on server A -> the event in a parked long-poll /sync of a user on server B (p50, p99);
//  - a user of B joins, by alias, a room of A that holds 1,000 joined members and 10,000 messages:
//    time to the join's 200 (make_join, send_join, the state and auth chain checked and stored on
//    B), to B's joined_members showing all 1,001, and to the joiner's first /sync.
// Set-up is timed apart: 999 registrations over HTTP (in parallel, without a password: the spec
// makes it optional, and scrypt for 1,000 accounts took minutes on a busy machine), 999 joins over
// HTTP, then the 10,000 messages written with A stopped straight through the room service (full
// signed PDUs, as bench/chat-features.ts seeds search) so seeding takes seconds, not minutes.
// Each join run uses a fresh server B (a server already in the room would join locally); the
// joiner leaves afterwards so that every run meets 1,000 members.
//   node bench/federation.ts [--runs N] [--profile DIR]   prints the JSON result
//   --profile DIR: A and the joining B servers run with --cpu-prof, profiles written to DIR.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { HttpClient } from './lib/http.ts';
import { register, sendText, sync, type BenchUser } from './lib/matrix.ts';
import { cpuMs, sleep, startServer, type RunningServer } from './lib/process.ts';
import { median, percentile, round } from './lib/stats.ts';
import { Database } from '../homeserver/storage/database.ts';
import { RoomService } from '../homeserver/rooms/room-service.ts';
import { Notifier } from '../homeserver/sync/notifier.ts';
import { decodeSigningKeyFile } from '../homeserver/protocol/signing-key.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HEARTH_BIN = join(ROOT, 'bin', 'hearth.js');
const API = '/_matrix/client/v3';
const READY = /^hearth ready client=(\S+)/m;
const enc = encodeURIComponent;

const LATENCY_WARMUP = 20;
const LATENCY_SAMPLES = 200;
const PARK_MS = 5;
/** Joined members of the big room, its creator included; the joiner from B makes 1,001. */
const MEMBERS = 1000;
const MESSAGES = 10_000;
const SEED_BATCH = 1000;
/** Parallel registrations and joins during set-up. */
const SETUP_CONCURRENCY = 8;
const DEFAULT_RUNS = 3;

function log(msg: string): void {
  process.stderr.write(`[bench:federation] ${msg}\n`);
}

function summary(ms: number[]) {
  return { p50_ms: round(median(ms)), p99_ms: round(percentile(ms, 99)), max_ms: round(Math.max(...ms)), samples: ms.length };
}

function seconds(t0: number): number {
  return round((performance.now() - t0) / 1000, 1);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Runs fn(0..count-1) with at most `limit` in flight. */
async function inParallel<T>(count: number, limit: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, count) }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

/** Polls until fn returns a value (not undefined). */
async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000, everyMs = 20): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

interface Peer {
  dir: string;
  port: number;
  name: string;
  nodeArgs: string[];
  trust: string[];
  server?: RunningServer;
}

function peer(label: string, port: number, trust: string[], nodeArgs: string[] = []): Peer {
  const dir = mkdtempSync(join(tmpdir(), `hearth-bench-fed-${label}-`));
  // The bench sends hundreds of requests a second from few users: lift the per-user rate limit.
  writeFileSync(join(dir, 'hearth.yaml'), 'rate_limit:\n  per_second: 1000000\n  burst: 1000000\n  registration_burst: 1000000\n');
  return { dir, port, name: `127.0.0.1:${port}`, nodeArgs, trust };
}

async function start(p: Peer): Promise<RunningServer> {
  const args = [
    ...p.nodeArgs,
    HEARTH_BIN,
    'serve',
    '--data-dir',
    p.dir,
    '--server-name',
    p.name,
    '--listen',
    '127.0.0.1:0',
    '--federation-listen',
    p.name,
    '--registration',
    'open',
    ...p.trust.flatMap((t) => ['--trust-self-signed', t]),
  ];
  p.server = await startServer(process.execPath, args, READY, 60_000);
  return p.server;
}

/** A member account through the real registration flow (m.login.dummy), with no password to hash. */
async function registerMember(c: HttpClient, username: string): Promise<BenchUser> {
  const first = await c.request('POST', `${API}/register`, { username });
  const body = await c.ok('POST', `${API}/register`, { username, auth: { type: 'm.login.dummy', session: first.body?.session } });
  return { userId: body.user_id, token: body.access_token };
}

async function joinedCount(c: HttpClient, u: BenchUser, roomId: string): Promise<number> {
  const r = await c.request('GET', `${API}/rooms/${enc(roomId)}/joined_members`, undefined, u.token);
  return r.status === 200 ? Object.keys(r.body.joined ?? {}).length : 0;
}

async function createAliasedRoom(c: HttpClient, u: BenchUser, alias: string): Promise<string> {
  const body = await c.ok('POST', `${API}/createRoom`, { preset: 'public_chat', room_alias_name: alias, name: alias }, u.token);
  return body.room_id as string;
}

/** A's user sends; B's user's parked long-poll on B returns the event, relayed by federation. */
async function sendToRemoteSync(a: HttpClient, alice: BenchUser, b: HttpClient, bob: BenchUser, roomId: string) {
  let since = (await sync(b, bob)).nextBatch;
  const latencies: number[] = [];
  for (let i = 0; i < LATENCY_WARMUP + LATENCY_SAMPLES; i++) {
    const marker = `ping ${i} ${Date.now()}`;
    const arrived = (async () => {
      for (let tries = 0; tries < 20; tries++) {
        const r = await sync(b, bob, since, 30_000);
        since = r.nextBatch;
        if (r.events.some((e) => e.content?.body === marker)) return performance.now();
      }
      throw new Error(`B never saw ${marker}`);
    })();
    await sleep(PARK_MS);
    const t0 = performance.now();
    await sendText(a, alice, roomId, `fed-lat-${i}`, marker);
    const t1 = await arrived;
    if (i >= LATENCY_WARMUP) latencies.push(t1 - t0);
  }
  return summary(latencies);
}

/** Writes `MESSAGES` messages from the room's members through A's room service, A stopped. */
async function seedMessages(a: Peer, roomId: string, senders: string[]): Promise<void> {
  const db = await Database.open(join(a.dir, 'hearth.sqlite'));
  try {
    const signingKey = decodeSigningKeyFile(readFileSync(join(a.dir, 'signing.key'), 'utf8'));
    const rooms = new RoomService({ db, serverName: a.name, signingKey, notifier: new Notifier() });
    await rooms.init();
    for (let i = 0; i < MESSAGES; i += SEED_BATCH) {
      await rooms.write(async (w) => {
        for (let k = i; k < Math.min(i + SEED_BATCH, MESSAGES); k++) {
          await w.append(roomId, { type: 'm.room.message', sender: senders[k % senders.length]!, content: { msgtype: 'm.text', body: `message ${k}` } });
        }
      });
    }
  } finally {
    await db.close();
  }
}

interface JoinRun {
  members_before: number;
  /** The room's state as B holds it after the join (send_join's `state` plus the join). */
  state_events: number;
  join_200_ms: number;
  state_complete_ms: number;
  first_sync_ms: number;
  server_a_cpu_ms: number;
  server_b_cpu_ms: number;
  leave_ms?: number;
}

/** One fresh server B: its user joins the big room by alias, then leaves again. */
async function joinRun(a: Peer, aClient: HttpClient, alice: BenchUser, b: Peer, roomId: string, alias: string): Promise<JoinRun> {
  const bs = await start(b);
  const c = new HttpClient(bs.url);
  try {
    const joiner = await register(c, 'joiner');
    const before = await joinedCount(aClient, alice, roomId);
    const cpuA = cpuMs(a.server!.pid);
    const cpuB = cpuMs(bs.pid);
    const t0 = performance.now();
    const joined = await c.ok('POST', `${API}/join/${enc(alias)}`, {}, joiner.token);
    const t200 = performance.now() - t0;
    if (joined.room_id !== roomId) throw new Error(`joined ${joined.room_id}, not ${roomId}`);
    await until('the full member list on B', async () => ((await joinedCount(c, joiner, roomId)) >= before + 1 ? true : undefined), 120_000, 5);
    const tState = performance.now() - t0;
    const cpu = { a: cpuMs(a.server!.pid) - cpuA, b: cpuMs(bs.pid) - cpuB };
    const s0 = performance.now();
    await c.ok('GET', `${API}/sync?timeout=0`, undefined, joiner.token);
    const tSync = performance.now() - s0;
    const state = await c.ok('GET', `${API}/rooms/${enc(roomId)}/state`, undefined, joiner.token);
    const run: JoinRun = {
      members_before: before,
      state_events: (state as unknown[]).length,
      join_200_ms: round(t200, 0),
      state_complete_ms: round(tState, 0),
      first_sync_ms: round(tSync, 0),
      server_a_cpu_ms: round(cpu.a, 0),
      server_b_cpu_ms: round(cpu.b, 0),
    };
    // Leave, and wait for A to see it, so that the next run meets the same room.
    try {
      const l0 = performance.now();
      await c.ok('POST', `${API}/rooms/${enc(roomId)}/leave`, {}, joiner.token);
      await until("the joiner's leave on A", async () => ((await joinedCount(aClient, alice, roomId)) === before ? true : undefined), 60_000, 50);
      run.leave_ms = round(performance.now() - l0, 0);
    } catch (err) {
      log(`leave failed (the next run meets ${before + 1} members): ${(err as Error).message}`);
    }
    return run;
  } finally {
    c.close();
    await bs.stop();
  }
}

export async function benchFederation(opts: { runs?: number; profileDir?: string } = {}): Promise<Record<string, unknown>> {
  const runs = opts.runs ?? DEFAULT_RUNS;
  const prof = opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`] : [];
  const [pa, pl, ...pj] = await Promise.all(Array.from({ length: 2 + runs }, () => freePort()));
  const a = peer(
    'a',
    pa!,
    [pl!, ...pj].map((p) => `127.0.0.1:${p}`),
    prof,
  );
  const lat = peer('b', pl!, [a.name]);
  const joiners = pj.map((p, i) => peer(`join${i}`, p, [a.name], prof));
  const all = [a, lat, ...joiners];
  try {
    // 1. Send on A -> /sync on B, in a small room of A that B's user has joined.
    await start(a);
    await start(lat);
    const ac = new HttpClient(a.server!.url);
    const bc = new HttpClient(lat.server!.url);
    const alice = await register(ac, 'alice');
    const bob = await register(bc, 'bob');
    const latRoom = await createAliasedRoom(ac, alice, 'latency');
    await bc.ok('POST', `${API}/join/${enc(`#latency:${a.name}`)}`, {}, bob.token);
    await until("bob's join on A", async () => ((await joinedCount(ac, alice, latRoom)) === 2 ? true : undefined));
    log(`send on A -> /sync on B (${LATENCY_SAMPLES} samples)`);
    const sendToSync = await sendToRemoteSync(ac, alice, bc, bob, latRoom);
    log(`send -> remote /sync: p50 ${sendToSync.p50_ms} ms, p99 ${sendToSync.p99_ms} ms`);
    bc.close();
    await lat.server!.stop();

    // 2. The big room on A: members registered and joined over HTTP, then the messages seeded.
    const setup0 = performance.now();
    const alias = `#big:${a.name}`;
    const bigRoom = await createAliasedRoom(ac, alice, 'big');
    let t = performance.now();
    const members = await inParallel(MEMBERS - 1, SETUP_CONCURRENCY, (i) => registerMember(ac, `member${i}`));
    const registerS = seconds(t);
    log(`registered ${members.length} users on A in ${registerS} s`);
    t = performance.now();
    await inParallel(members.length, SETUP_CONCURRENCY, (i) => ac.ok('POST', `${API}/join/${enc(bigRoom)}`, {}, members[i]!.token));
    const joinS = seconds(t);
    log(`joined them to ${alias} in ${joinS} s`);
    ac.close();
    await a.server!.stop();
    t = performance.now();
    await seedMessages(a, bigRoom, [alice.userId, ...members.map((m) => m.userId)]);
    const seedS = seconds(t);
    log(`seeded ${MESSAGES} messages in ${seedS} s`);
    await start(a);
    const ac2 = new HttpClient(a.server!.url);
    const count = await joinedCount(ac2, alice, bigRoom);
    if (count !== MEMBERS) throw new Error(`the big room has ${count} members, not ${MEMBERS}`);
    const setupS = seconds(setup0);

    // 3. Joins from fresh servers.
    const joinRuns: JoinRun[] = [];
    for (const b of joiners) {
      log(`join run ${joinRuns.length + 1}/${runs} from ${b.name}`);
      const r = await joinRun(a, ac2, alice, b, bigRoom, alias);
      log(`join 200 after ${r.join_200_ms} ms, state complete ${r.state_complete_ms} ms, first /sync ${r.first_sync_ms} ms`);
      joinRuns.push(r);
    }
    ac2.close();
    return {
      send_to_remote_sync: { ...sendToSync, park_ms: PARK_MS },
      join_big_room: {
        members: MEMBERS,
        messages: MESSAGES,
        runs: joinRuns,
        join_200_median_ms: round(median(joinRuns.map((r) => r.join_200_ms)), 0),
        state_complete_median_ms: round(median(joinRuns.map((r) => r.state_complete_ms)), 0),
        setup_s: { total: setupS, register_members: registerS, join_members: joinS, seed_messages: seedS },
      },
    };
  } finally {
    for (const p of all) {
      await p.server?.stop();
      rmSync(p.dir, { recursive: true, force: true });
    }
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { runs: { type: 'string' }, profile: { type: 'string' } } });
  const t0 = performance.now();
  const opts: { runs?: number; profileDir?: string } = {};
  if (values.runs !== undefined) opts.runs = Number(values.runs);
  if (values.profile !== undefined) opts.profileDir = values.profile;
  const result = await benchFederation(opts);
  console.log(JSON.stringify({ ...result, bench_seconds: seconds(t0) }, null, 2));
}
