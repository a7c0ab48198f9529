// Issue 13's growth figures: Bob's initial /sync with 10, 100, 1,000 and 2,000 rooms (cost per room
// should stay flat), and the first requests after a restart on a data dir with a room of 200,000
// events Bob never read. Each data dir is written beforehand through Hearth's own room service
// (bench/lib/fixtures.ts); every figure is measured over HTTP against `hearth serve` in its own
// process, from just before the request to the end of its response.
//   node bench/sync-growth.ts [--sizes 10,100,1000,2000] [--events 200000]   prints the JSON result
// HEARTH_ROOT=dir measures another checkout (its bin/hearth.js, and its modules build the data).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { HttpClient } from './lib/http.ts';
import { sendPath, type BenchUser } from './lib/matrix.ts';
import { cpuMs, rssKiB, startServer, type RunningServer } from './lib/process.ts';
import { median, round } from './lib/stats.ts';
import { Fixture } from './lib/fixtures.ts';

const API = '/_matrix/client/v3';
const ROOM_COUNTS = [10, 100, 1000, 2000];
const BIG_ROOM_EVENTS = 200_000;
/** Alice's small rooms beside the big one: a server in use has other rooms' state groups too. */
const OTHER_ROOMS = 200;
const MESSAGES_PER_ROOM = 5;
/** Initial syncs after the first (after a restart) on one server: their median is the warm figure. */
const WARM_SYNCS = 5;
/** Restarts per first-request figure; the median is reported. */
const RESTARTS = 3;

function log(msg: string): void {
  process.stderr.write(`[bench:sync-growth] ${msg}\n`);
}

function root(): string {
  return process.env.HEARTH_ROOT ?? fileURLToPath(new URL('..', import.meta.url));
}

function startHearth(dataDir: string): Promise<RunningServer> {
  return startServer(
    process.execPath,
    [join(root(), 'bin', 'hearth.js'), 'serve', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--server-name', 'localhost'],
    /^hearth ready client=(\S+)/m,
    60_000,
  );
}

async function timed(c: HttpClient, method: string, path: string, body: unknown, user: BenchUser): Promise<{ ms: number; body: any }> {
  const t0 = performance.now();
  const res = await c.request(method, path, body, user.token);
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`${method} ${path} -> ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  return { ms, body: res.body };
}

const initialSync = (c: HttpClient, u: BenchUser) => timed(c, 'GET', `${API}/sync?timeout=0`, undefined, u);

/** Starts the server, runs `fn` as the first requests it serves, stops it; `RESTARTS` times. */
async function afterRestart(dir: string, fn: (c: HttpClient, run: number) => Promise<number>): Promise<{ medianMs: number; runsMs: number[] }> {
  const runs: number[] = [];
  for (let i = 0; i < RESTARTS; i++) {
    const s = await startHearth(dir);
    const c = new HttpClient(s.url);
    try {
      runs.push(await fn(c, i));
    } finally {
      c.close();
      await s.stop();
    }
  }
  return { medianMs: round(median(runs), 1), runsMs: runs.map((v) => round(v, 1)) };
}

export interface RoomCountFigures {
  rooms: number;
  /** The first initial /sync after a restart: every cache cold. */
  firstMs: number;
  /** Median of the initial syncs after it on the same server. */
  warmMedianMs: number;
  warmPerRoomMs: number;
  /** The server's CPU time (user + system) per warm sync, median: apart from waiting on a busy machine. */
  warmServerCpuMs: number;
  /** The server's RSS after those syncs. */
  rssMiB: number;
  /** Alice's first message after a restart, to one of the rooms. */
  firstSendMs: number;
}

async function roomCounts(sizes: number[]): Promise<RoomCountFigures[]> {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-bench-growth-'));
  const out: RoomCountFigures[] = [];
  try {
    let alice: BenchUser | undefined;
    let bob: BenchUser | undefined;
    const roomIds: string[] = [];
    for (const size of sizes) {
      const t0 = performance.now();
      const f = await Fixture.open(root(), dir);
      alice ??= await f.user('alice');
      bob ??= await f.user('bob');
      while (roomIds.length < size) {
        const roomId = await f.room(alice, `room ${roomIds.length}`, [bob]);
        await f.messages(roomId, alice, MESSAGES_PER_ROOM, `room ${roomIds.length} message`);
        roomIds.push(roomId);
      }
      await f.close();
      log(`${size} rooms built in ${round((performance.now() - t0) / 1000, 1)} s`);

      const s = await startHearth(dir);
      const c = new HttpClient(s.url);
      const first = await initialSync(c, bob);
      const joined = Object.keys(first.body.rooms?.join ?? {}).length;
      if (joined !== size) throw new Error(`initial /sync has ${joined} joined rooms, expected ${size}`);
      const warm: number[] = [];
      const warmCpu: number[] = [];
      for (let i = 0; i < WARM_SYNCS; i++) {
        const cpu0 = cpuMs(s.pid);
        warm.push((await initialSync(c, bob)).ms);
        warmCpu.push(cpuMs(s.pid) - cpu0);
      }
      const rssMiB = round(rssKiB(s.pid) / 1024, 1);
      c.close();
      await s.stop();
      const a = alice;
      const send = await afterRestart(
        dir,
        async (cc, run) => (await timed(cc, 'PUT', sendPath(roomIds[run]!, `first-${size}-${run}`), { msgtype: 'm.text', body: 'first' }, a)).ms,
      );
      const w = median(warm);
      out.push({
        rooms: size,
        firstMs: round(first.ms, 1),
        warmMedianMs: round(w, 1),
        warmPerRoomMs: round(w / size, 3),
        warmServerCpuMs: round(median(warmCpu), 0),
        rssMiB,
        firstSendMs: send.medianMs,
      });
      log(
        `${size} rooms: initial /sync first ${round(first.ms, 1)} ms, warm ${round(w, 1)} ms (server CPU ${round(median(warmCpu), 0)} ms); first send after restart ${send.medianMs} ms; RSS ${rssMiB} MiB`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

export interface BigRoomFigures {
  events: number;
  buildSeconds: number;
  /** Bob's first initial /sync after a restart (his unread count is every message). */
  firstSync: { medianMs: number; runsMs: number[] };
  /** Alice's first message to the big room after a restart. */
  firstSend: { medianMs: number; runsMs: number[] };
  /** Bob's first page of /messages backwards from the end after a restart. */
  firstMessages: { medianMs: number; runsMs: number[] };
}

async function bigRoom(events: number): Promise<BigRoomFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-bench-bigroom-'));
  try {
    const t0 = performance.now();
    const f = await Fixture.open(root(), dir);
    const alice = await f.user('alice');
    const bob = await f.user('bob');
    // Bob is only in the big room: his first sync after a restart is that room's.
    for (let r = 0; r < OTHER_ROOMS; r++) await f.room(alice, `other ${r}`, []);
    const roomId = await f.room(alice, 'big', [bob]);
    await f.messages(roomId, alice, events, 'big room message');
    await f.close();
    const buildSeconds = round((performance.now() - t0) / 1000, 1);
    log(`room of ${events} events built in ${buildSeconds} s`);
    const firstSync = await afterRestart(dir, async (c) => (await initialSync(c, bob)).ms);
    const firstSend = await afterRestart(
      dir,
      async (c, run) => (await timed(c, 'PUT', sendPath(roomId, `first-${run}`), { msgtype: 'm.text', body: 'first' }, alice)).ms,
    );
    const messagesPath = `${API}/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=20`;
    const firstMessages = await afterRestart(dir, async (c) => (await timed(c, 'GET', messagesPath, undefined, bob)).ms);
    log(`after a restart: first /sync ${firstSync.medianMs} ms, first send ${firstSend.medianMs} ms, first /messages ${firstMessages.medianMs} ms`);
    return { events, buildSeconds, firstSync, firstSend, firstMessages };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface SyncGrowth {
  initialSync: RoomCountFigures[];
  bigRoom: BigRoomFigures;
}

export async function benchSyncGrowth(opts: { sizes?: number[]; events?: number } = {}): Promise<SyncGrowth> {
  return { initialSync: await roomCounts(opts.sizes ?? ROOM_COUNTS), bigRoom: await bigRoom(opts.events ?? BIG_ROOM_EVENTS) };
}

/** The figures as a markdown table for BENCHMARKS.md. */
export function renderSyncGrowth(r: SyncGrowth): string {
  const rows = [
    '| Rooms | Initial /sync, first after restart | Initial /sync, warm (median) | Per room | Server CPU, warm | RSS after | First send after restart |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...r.initialSync.map(
      (s) =>
        `| ${s.rooms} | ${s.firstMs} ms | ${s.warmMedianMs} ms | ${s.warmPerRoomMs} ms | ${s.warmServerCpuMs} ms | ${s.rssMiB} MiB | ${s.firstSendMs} ms |`,
    ),
  ];
  const b = r.bigRoom;
  return (
    rows.join('\n') +
    `\n\nA room of ${b.events} events Bob never read (his only room), beside ${OTHER_ROOMS} small rooms of Alice's; the first request after a restart, median of ${RESTARTS} restarts (target < 50 ms):` +
    ` Bob's initial /sync ${b.firstSync.medianMs} ms, Alice's send ${b.firstSend.medianMs} ms, Bob's /messages (20, backwards) ${b.firstMessages.medianMs} ms.\n`
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const sizes = arg('--sizes')?.split(',').map(Number);
  const events = arg('--events') === undefined ? undefined : Number(arg('--events'));
  const r = await benchSyncGrowth({ sizes, events });
  process.stdout.write(JSON.stringify(r, null, 2) + '\n\n' + renderSyncGrowth(r));
}
