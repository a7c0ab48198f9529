// A server under a crowd: 200 clients long-polling /sync and 50 senders for 60 s against one
// Hearth, with the default rate limits. Reports errors, the latency of sends and of delivery (from
// just before a send to each member's /sync returning it), and the server's RSS every 5 s, so that
// growth after warm-up shows. Hearth runs in its own process; this process only makes requests.
//   node bench/load.ts                 prints the JSON result (LOAD_SECONDS=20 for a shorter run)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { HttpClient } from './lib/http.ts';
import { createPublicRoom, join as joinRoom, register, sendPath, type BenchUser } from './lib/matrix.ts';
import { cpuMs, rssKiB, sleep, startServer } from './lib/process.ts';
import { percentile, round } from './lib/stats.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HEARTH_BIN = join(ROOT, 'bin', 'hearth.js');
const API = '/_matrix/client/v3';

const SYNCERS = 200;
const SENDERS = 50;
/** Ten rooms of 20 readers and 5 writers each: a busy family or office server, not one huge room. */
const ROOMS = 10;
/** Each sender sends one message per second: 50 messages/s, each delivered to 25 members. */
const SEND_INTERVAL_MS = 1000;
const SECONDS = Number(process.env.LOAD_SECONDS ?? 60);
/** RSS climbs for the first 20 s or so (caches filling, one /sync answer per client in flight). */
const WARMUP_SECONDS = Math.min(20, SECONDS / 3);
const RSS_EVERY_MS = 5000;
/** The long-poll timeout a client such as Element uses. */
const POLL_TIMEOUT_MS = 30_000;

interface Counters {
  errors: number;
  firstError?: string;
  sends: number;
  syncs: number;
  delivered: number;
  sendMs: number[];
  deliveryMs: number[];
}

function fail(c: Counters, what: string): void {
  c.errors++;
  c.firstError ??= what;
}

async function setUp(url: string): Promise<{ syncers: BenchUser[]; senders: BenchUser[]; rooms: string[]; roomOf: Map<string, string> }> {
  const c = new HttpClient(url, 8);
  const owner = await register(c, 'owner');
  const rooms: string[] = [];
  for (let i = 0; i < ROOMS; i++) rooms.push(await createPublicRoom(c, owner, `load ${i}`));
  const roomOf = new Map<string, string>();
  // Registration hashes a password (scrypt): a few at a time is what the server allows anyway.
  const registerAll = async (prefix: string, n: number): Promise<BenchUser[]> => {
    const users: BenchUser[] = new Array(n);
    for (let i = 0; i < n; i += 4) {
      await Promise.all(
        Array.from({ length: Math.min(4, n - i) }, async (_, k) => {
          const u = await register(c, `${prefix}${i + k}`);
          const room = rooms[(i + k) % ROOMS]!;
          await joinRoom(c, u, room);
          roomOf.set(u.userId, room);
          users[i + k] = u;
        }),
      );
    }
    return users;
  };
  const syncers = await registerAll('reader', SYNCERS);
  const senders = await registerAll('writer', SENDERS);
  c.close();
  return { syncers, senders, rooms, roomOf };
}

/** One client's /sync loop: an initial sync, then long-polls until `stopAt`. */
async function syncLoop(c: HttpClient, user: BenchUser, stopAt: number, counters: Counters, measure: () => boolean): Promise<void> {
  let since: string | undefined;
  while (performance.now() < stopAt) {
    // The last long-poll ends with the run, so that the run's figures are its own.
    const timeout = since ? Math.max(0, Math.min(POLL_TIMEOUT_MS, Math.floor(stopAt - performance.now()))) : 0;
    const q = new URLSearchParams({ timeout: String(timeout) });
    if (since) q.set('since', since);
    let res;
    try {
      res = await c.request('GET', `${API}/sync?${q}`, undefined, user.token);
    } catch (err) {
      fail(counters, `sync: ${(err as Error).message}`);
      await sleep(100);
      continue;
    }
    if (res.status !== 200) {
      fail(counters, `sync -> ${res.status} ${JSON.stringify(res.body)}`);
      await sleep(100);
      continue;
    }
    counters.syncs++;
    const now = Date.now();
    for (const room of Object.values<any>(res.body.rooms?.join ?? {})) {
      for (const e of room.timeline?.events ?? []) {
        const sentAt = e.content?.sent_at;
        if (since && typeof sentAt === 'number') {
          counters.delivered++;
          if (measure()) counters.deliveryMs.push(now - sentAt);
        }
      }
    }
    since = res.body.next_batch;
  }
}

async function sendLoop(
  c: HttpClient,
  user: BenchUser,
  roomId: string,
  index: number,
  stopAt: number,
  counters: Counters,
  measure: () => boolean,
): Promise<void> {
  // Spread the senders over the interval, so that sends do not all land in the same millisecond.
  await sleep((index * SEND_INTERVAL_MS) / SENDERS);
  for (let seq = 0; performance.now() < stopAt; seq++) {
    const next = performance.now() + SEND_INTERVAL_MS;
    const t0 = performance.now();
    try {
      const res = await c.request(
        'PUT',
        sendPath(roomId, `load-${index}-${seq}`),
        { msgtype: 'm.text', body: `message ${seq}`, sent_at: Date.now() },
        user.token,
      );
      if (res.status === 200) {
        counters.sends++;
        if (measure()) counters.sendMs.push(performance.now() - t0);
      } else {
        fail(counters, `send -> ${res.status} ${JSON.stringify(res.body)}`);
      }
    } catch (err) {
      fail(counters, `send: ${(err as Error).message}`);
    }
    await sleep(Math.max(0, next - performance.now()));
  }
}

export async function benchLoad() {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-bench-load-'));
  // Default configuration, the rate limits included, except that one address may register the
  // 251 accounts of the set-up (a real crowd registers from many addresses).
  writeFileSync(join(dir, 'hearth.yaml'), 'rate_limit:\n  registration_burst: 1000\n');
  const server = await startServer(
    process.execPath,
    [HEARTH_BIN, 'serve', '--data-dir', dir, '--listen', '127.0.0.1:0', '--server-name', 'localhost'],
    /^hearth ready client=(\S+)/m,
  );
  try {
    const setupStarted = performance.now();
    const { syncers, senders, roomOf } = await setUp(server.url);
    const setupSeconds = round((performance.now() - setupStarted) / 1000, 1);
    const counters: Counters = { errors: 0, sends: 0, syncs: 0, delivered: 0, sendMs: [], deliveryMs: [] };
    const started = performance.now();
    const warmEnd = started + WARMUP_SECONDS * 1000;
    const stopAt = started + SECONDS * 1000;
    const measure = () => performance.now() >= warmEnd;
    const syncClient = new HttpClient(server.url, SYNCERS + 8);
    const sendClient = new HttpClient(server.url, SENDERS + 8);
    const rss: Array<{ second: number; mib: number }> = [{ second: 0, mib: round(rssKiB(server.pid) / 1024, 1) }];
    const sampler = setInterval(
      () => rss.push({ second: round((performance.now() - started) / 1000, 0), mib: round(rssKiB(server.pid) / 1024, 1) }),
      RSS_EVERY_MS,
    );
    const cpu0 = cpuMs(server.pid);
    await Promise.all([
      ...syncers.map((u) => syncLoop(syncClient, u, stopAt, counters, measure)),
      ...senders.map((u, i) => sendLoop(sendClient, u, roomOf.get(u.userId)!, i, stopAt, counters, measure)),
    ]);
    clearInterval(sampler);
    const cpuSeconds = (cpuMs(server.pid) - cpu0) / 1000;
    rss.push({ second: round((performance.now() - started) / 1000, 0), mib: round(rssKiB(server.pid) / 1024, 1) });
    syncClient.close();
    sendClient.close();
    const afterWarmup = rss.filter((s) => s.second >= WARMUP_SECONDS);
    const pct = (xs: number[]) => ({
      p50Ms: round(percentile(xs, 50)),
      p95Ms: round(percentile(xs, 95)),
      p99Ms: round(percentile(xs, 99)),
      maxMs: round(Math.max(...xs)),
    });
    return {
      syncers: SYNCERS,
      senders: SENDERS,
      rooms: ROOMS,
      seconds: SECONDS,
      warmupSeconds: WARMUP_SECONDS,
      setupSeconds,
      errors: counters.errors,
      ...(counters.firstError ? { firstError: counters.firstError } : {}),
      sends: counters.sends,
      syncResponses: counters.syncs,
      eventsDelivered: counters.delivered,
      send: pct(counters.sendMs),
      delivery: pct(counters.deliveryMs),
      serverCpuShare: round(cpuSeconds / SECONDS, 2),
      rssMiB: rss,
      rssGrowthAfterWarmupMiB: round(afterWarmup.at(-1)!.mib - afterWarmup[0]!.mib, 1),
      rssGrowthInSecondHalfMiB: round(rss.at(-1)!.mib - rss.find((s) => s.second >= SECONDS / 2)!.mib, 1),
    };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(JSON.stringify(await benchLoad(), null, 2) + '\n');
}
