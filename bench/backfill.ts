// Issue 14's backfill figure, over real federation between `hearth serve` processes on loopback:
// a room of server A holds 1,000 messages; a user of a fresh server B joins it and pages back
// through /messages (100 events a page, as a client scrolling up asks) until all 1,000 are shown.
// B holds none of them at the join: every page past the first fills the history from A
// (GET /backfill, then the events checked and placed by their prev_events). Timed: the whole
// walk, and each page (p50, max). Each run uses a fresh B (a server that has backfilled once
// holds the history). The 1,000 messages are sent over HTTP on A; that set-up is not timed.
//   node bench/backfill.ts [--runs N]   prints the JSON result
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { HttpClient } from './lib/http.ts';
import { register, sendText, type BenchUser } from './lib/matrix.ts';
import { cpuMs, startServer, type RunningServer } from './lib/process.ts';
import { median, round } from './lib/stats.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HEARTH_BIN = join(ROOT, 'bin', 'hearth.js');
const API = '/_matrix/client/v3';
const READY = /^hearth ready client=(\S+)/m;
const enc = encodeURIComponent;

const MESSAGES = 1000;
/** Events per /messages page: what a client scrolling up asks for at a time. */
const PAGE = 100;
/** Pages before giving up: twice what 1,000 messages and the room's state events need. */
const MAX_PAGES = 40;
const DEFAULT_RUNS = 3;

function log(msg: string): void {
  process.stderr.write(`[bench:backfill] ${msg}\n`);
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

interface Server {
  dir: string;
  name: string;
  trust: string[];
  running?: RunningServer;
}

function server(label: string, port: number, trust: string[]): Server {
  const dir = mkdtempSync(join(tmpdir(), `hearth-bench-backfill-${label}-`));
  // The set-up sends 1,000 messages from one user as fast as it can: lift the per-user rate limit.
  writeFileSync(join(dir, 'hearth.yaml'), 'rate_limit:\n  per_second: 1000000\n  burst: 1000000\n  registration_burst: 1000000\n');
  return { dir, name: `127.0.0.1:${port}`, trust };
}

async function start(s: Server): Promise<RunningServer> {
  const args = [
    HEARTH_BIN,
    'serve',
    '--data-dir',
    s.dir,
    '--server-name',
    s.name,
    '--listen',
    '127.0.0.1:0',
    '--federation-listen',
    s.name,
    '--registration',
    'open',
  ];
  for (const t of s.trust) args.push('--trust-self-signed', t);
  s.running = await startServer(process.execPath, args, READY, 60_000);
  return s.running;
}

interface Run {
  messages_seen: number;
  pages: number;
  total_ms: number;
  page_p50_ms: number;
  page_max_ms: number;
  server_b_cpu_ms: number;
}

/** A fresh B: its user joins by alias and pages back until every message is shown. */
async function run(b: Server, alias: string, roomId: string): Promise<Run> {
  const bs = await start(b);
  const c = new HttpClient(bs.url);
  try {
    const bob = await register(c, 'bob');
    const joined = await c.ok('POST', `${API}/join/${enc(alias)}`, {}, bob.token);
    if (joined.room_id !== roomId) throw new Error(`joined ${joined.room_id}, not ${roomId}`);
    const cpu0 = cpuMs(bs.pid);
    const seen = new Set<string>();
    const pageMs: number[] = [];
    let from: string | undefined;
    const t0 = performance.now();
    while (seen.size < MESSAGES && pageMs.length < MAX_PAGES) {
      const p0 = performance.now();
      const q = `dir=b&limit=${PAGE}${from ? `&from=${enc(from)}` : ''}`;
      const page = await c.ok('GET', `${API}/rooms/${enc(roomId)}/messages?${q}`, undefined, bob.token);
      pageMs.push(performance.now() - p0);
      for (const e of page.chunk as Array<{ type: string; content?: { body?: unknown } }>) if (e.type === 'm.room.message') seen.add(String(e.content?.body));
      if (!page.end) break;
      from = page.end as string;
    }
    const total = performance.now() - t0;
    if (seen.size < MESSAGES) throw new Error(`B showed ${seen.size} of ${MESSAGES} messages after ${pageMs.length} pages`);
    return {
      messages_seen: seen.size,
      pages: pageMs.length,
      total_ms: round(total, 0),
      page_p50_ms: round(median(pageMs), 1),
      page_max_ms: round(Math.max(...pageMs), 1),
      server_b_cpu_ms: round(cpuMs(bs.pid) - cpu0, 0),
    };
  } finally {
    c.close();
    await bs.stop();
  }
}

export async function benchBackfill(opts: { runs?: number } = {}): Promise<Record<string, unknown>> {
  const runs = opts.runs ?? DEFAULT_RUNS;
  const [pa, ...pb] = await Promise.all(Array.from({ length: 1 + runs }, () => freePort()));
  const a = server(
    'a',
    pa!,
    pb.map((p) => `127.0.0.1:${p}`),
  );
  const bs = pb.map((p, i) => server(`b${i}`, p!, [a.name]));
  try {
    await start(a);
    const ac = new HttpClient(a.running!.url);
    const alice: BenchUser = await register(ac, 'alice');
    const room = await ac.ok('POST', `${API}/createRoom`, { preset: 'public_chat', room_alias_name: 'history', history_visibility: 'shared' }, alice.token);
    const roomId = room.room_id as string;
    const s0 = performance.now();
    for (let i = 0; i < MESSAGES; i++) await sendText(ac, alice, roomId, `h${i}`, `history ${i}`);
    log(`sent ${MESSAGES} messages on A in ${round((performance.now() - s0) / 1000, 1)} s`);
    ac.close();
    const results: Run[] = [];
    for (const b of bs) {
      const r = await run(b, `#history:${a.name}`, roomId);
      log(`run ${results.length + 1}/${runs}: ${r.messages_seen} messages in ${r.pages} pages, ${r.total_ms} ms`);
      results.push(r);
    }
    return {
      messages: MESSAGES,
      page_limit: PAGE,
      runs: results,
      all_messages_median_ms: round(median(results.map((r) => r.total_ms)), 0),
      page_p50_median_ms: round(median(results.map((r) => r.page_p50_ms)), 1),
    };
  } finally {
    for (const s of [a, ...bs]) {
      await s.running?.stop();
      rmSync(s.dir, { recursive: true, force: true });
    }
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { runs: { type: 'string' } } });
  const t0 = performance.now();
  const result = await benchBackfill(values.runs !== undefined ? { runs: Number(values.runs) } : {});
  console.log(JSON.stringify({ ...result, bench_seconds: round((performance.now() - t0) / 1000, 1) }, null, 2));
}
