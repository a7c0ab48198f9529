// `npm run bench`: Hearth's headline figures beside a bare Koa + sqlite3 baseline measured in the
// same run. Servers run in their own processes; this process only generates load over keep-alive
// HTTP on loopback. Prints a JSON summary on stdout, then the markdown table; progress on stderr.
// `npm run bench -- --write` also rewrites BENCHMARKS.md. Hearth runs from dist/, built first when
// it does not match the sources (as `hearth serve` would run once built); `--from-source` measures the
// TypeScript sources instead.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { HttpClient } from './lib/http.ts';
import { closedLoop, type ThroughputResult } from './lib/load.ts';
import { describeMachine } from './lib/machine.ts';
import { createPublicRoom, join as joinRoom, register, sendPath, sendText, sync, type BenchUser } from './lib/matrix.ts';
import { cpuMs, rssKiB, sleep, startServer, type RunningServer } from './lib/process.ts';
import { renderBenchmarksMd, renderTable, type Results } from './lib/report.ts';
import { median, percentile, round } from './lib/stats.ts';
import { benchChatFeatures } from './chat-features.ts';
import { benchMedia } from './media.ts';
import { benchRemoteMedia } from './remote-media.ts';
import { benchFederation } from './federation.ts';
import { benchBackfill } from './backfill.ts';
import { benchSyncGrowth, renderSyncGrowth, type SyncGrowth } from './sync-growth.ts';
import { benchRenderer } from './renderer.ts';
import { benchFirstDecryptedMessage } from './renderer-crypto.ts';
import { benchLoad } from './load.ts';
import { benchLan } from './lan.ts';
import { compiledFile } from '../bin/lib/compiled.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HEARTH_BIN = join(ROOT, 'bin', 'hearth.js');
const BASELINE = join(ROOT, 'bench', 'baseline-server.ts');

const COLD_START_RUNS = 5;
const LATENCY_WARMUP = 30;
const LATENCY_SAMPLES = 300;
/** How long B's long-poll is left to reach the server and park before A sends. */
const PARK_MS = 5;
const THROUGHPUT_WARMUP_MS = 1000;
const THROUGHPUT_MS = 5000;
/**
 * Rounds of Hearth then baseline per sender count; the figures are those of the round with the
 * median ratio. This machine's speed drifts by a third over minutes (other tenants): a single
 * pair of windows can catch Hearth in a slow minute and the baseline in a fast one.
 */
const THROUGHPUT_ROUNDS = 3;
const IDLE_MS = 2000;

const write = process.argv.includes('--write');
const tempDirs: string[] = [];
const running = new Set<RunningServer>();

/** The commit measured, marked dirty when the tree has uncommitted changes. */
function revision(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'homeserver', 'bin'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head} + uncommitted changes` : head;
  } catch {
    return 'unknown';
  }
}

/**
 * What `hearth serve` runs: the compiled JS in dist/, as a deployment would (`npm run build:main`
 * first, when dist/ does not match the sources), or with `--from-source` the TypeScript sources.
 */
function prepareHearthCode(): string {
  if (process.argv.includes('--from-source')) {
    process.env.HEARTH_FROM_SOURCE = '1';
    return 'the TypeScript sources (--from-source)';
  }
  if (!compiledFile(ROOT, 'homeserver/cli/main.ts')) {
    log('dist/ does not match the sources: npm run build:main...');
    spawnSync(process.execPath, [join(ROOT, 'bin', 'build-main.js')], { cwd: ROOT, stdio: ['ignore', 2, 2] });
  }
  if (compiledFile(ROOT, 'homeserver/cli/main.ts')) return 'compiled JS from dist/ (npm run build:main)';
  log('warning: npm run build:main failed; measuring the TypeScript sources');
  return 'the TypeScript sources (npm run build:main failed)';
}

function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

function tempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `hearth-bench-${label}-`));
  tempDirs.push(dir);
  return dir;
}

async function startHearth(dataDir: string): Promise<RunningServer> {
  const s = await startServer(
    process.execPath,
    [HEARTH_BIN, 'serve', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--server-name', 'localhost'],
    /^hearth ready client=(\S+)/m,
  );
  running.add(s);
  return s;
}

async function stop(s: RunningServer): Promise<void> {
  await s.stop();
  running.delete(s);
}

/**
 * Spawn to `hearth ready`, on fresh data dirs and then on one that already holds a room. The
 * server that fills that data dir also gives the idle RSS: start-up, a few requests, 2 s idle.
 */
async function coldStartAndIdle(): Promise<{ cold: Results['coldStart']; idleKiB: number }> {
  // One untimed start first, so that every timed run reads the sources from the page cache.
  await stop(await startHearth(tempDir('warm')));
  const fresh: number[] = [];
  for (let i = 0; i < COLD_START_RUNS; i++) {
    const s = await startHearth(tempDir('fresh'));
    fresh.push(s.readyMs);
    await stop(s);
  }
  const dir = tempDir('existing');
  const first = await startHearth(dir);
  const c = new HttpClient(first.url);
  const alice = await register(c, 'alice');
  const bob = await register(c, 'bob');
  const room = await createPublicRoom(c, alice, 'existing');
  await joinRoom(c, bob, room);
  for (let i = 0; i < 20; i++) await sendText(c, i % 2 ? bob : alice, room, `t${i}`, `hello ${i}`);
  await sync(c, alice);
  await sync(c, bob);
  c.close();
  await sleep(IDLE_MS);
  const idleKiB = rssKiB(first.pid);
  await stop(first);
  const existing: number[] = [];
  for (let i = 0; i < COLD_START_RUNS; i++) {
    const s = await startHearth(dir);
    existing.push(s.readyMs);
    await stop(s);
  }
  const cold = {
    runs: COLD_START_RUNS,
    freshMs: fresh.map((v) => round(v, 1)),
    freshMedianMs: round(median(fresh), 1),
    existingMs: existing.map((v) => round(v, 1)),
    existingMedianMs: round(median(existing), 1),
  };
  return { cold, idleKiB };
}

/** A sends, B's parked long-poll /sync returns the event: time from just before the send. */
async function sendToSync(url: string, a: BenchUser, b: BenchUser, roomId: string): Promise<Results['sendToSync']> {
  const ca = new HttpClient(url);
  const cb = new HttpClient(url);
  let since = (await sync(cb, b)).nextBatch;
  const latencies: number[] = [];
  const sendRtts: number[] = [];
  for (let i = 0; i < LATENCY_WARMUP + LATENCY_SAMPLES; i++) {
    const marker = `ping ${i} ${Date.now()}`;
    const arrived = (async () => {
      // Bounded: the event is in the first response unless something else woke B first.
      for (let tries = 0; tries < 10; tries++) {
        const r = await sync(cb, b, since, 30_000);
        since = r.nextBatch;
        if (r.events.some((e) => e.content?.body === marker)) return performance.now();
      }
      throw new Error(`B never saw ${marker}`);
    })();
    await sleep(PARK_MS);
    const t0 = performance.now();
    const sent = sendText(ca, a, roomId, `lat-${i}`, marker).then(() => performance.now());
    const [tSync, tSent] = await Promise.all([arrived, sent]);
    if (i >= LATENCY_WARMUP) {
      latencies.push(tSync - t0);
      sendRtts.push(tSent - t0);
    }
  }
  ca.close();
  cb.close();
  return {
    samples: LATENCY_SAMPLES,
    parkMs: PARK_MS,
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
    maxMs: round(Math.max(...latencies)),
    sendRttP50Ms: round(percentile(sendRtts, 50)),
  };
}

function hearthLoad(url: string, senders: BenchUser[], roomId: string, label: string) {
  const clients = senders.map(() => new HttpClient(url, 1));
  // Each run's transaction ids are new: a repeated one is answered from the first send, which is
  // idempotence, not a send.
  let runs = 0;
  return {
    run: (n: number) => {
      const run = ++runs;
      return closedLoop(n, THROUGHPUT_WARMUP_MS, THROUGHPUT_MS, async (i, seq) => {
        const res = await clients[i]!.request(
          'PUT',
          sendPath(roomId, `${label}-${run}-${n}-${i}-${seq}`),
          { msgtype: 'm.text', body: `load ${seq}` },
          senders[i]!.token,
        );
        if (res.status !== 200) throw new Error(`send -> ${res.status} ${JSON.stringify(res.body)}`);
      });
    },
    close: () => clients.forEach((c) => c.close()),
  };
}

function baselineLoad(url: string, n: number) {
  const clients = Array.from({ length: n }, () => new HttpClient(url, 1));
  return {
    run: (senders: number) =>
      closedLoop(senders, THROUGHPUT_WARMUP_MS, THROUGHPUT_MS, async (i, seq) => {
        const res = await clients[i]!.request('POST', '/send', { msgtype: 'm.text', body: `load ${seq}` });
        if (res.status !== 200) throw new Error(`send -> ${res.status} ${JSON.stringify(res.body)}`);
      }),
    close: () => clients.forEach((c) => c.close()),
  };
}

type Throughput = Results['throughput']['hearth1'];

/** Runs a load and reads the server's CPU time around it: CPU per request shows cost apart from waiting. */
async function measured(server: RunningServer, run: () => Promise<ThroughputResult>): Promise<Throughput> {
  const cpu0 = cpuMs(server.pid);
  const r = await run();
  const cpu = cpuMs(server.pid) - cpu0;
  const out: Throughput = {
    perSecond: round(r.perSecond, 0),
    requests: r.requests,
    errors: r.errors,
    serverCpuMsPerRequest: round(cpu / Math.max(1, r.allRequests), 3),
  };
  if (r.firstError !== undefined) out.firstError = r.firstError;
  return out;
}

async function main(): Promise<void> {
  const started = performance.now();
  const machine = describeMachine(tmpdir());
  log(`machine: ${machine.cpuModel}, ${machine.cores} cores, node ${machine.node}, load ${machine.loadAverage1m}`);
  const hearthCode = prepareHearthCode();
  log(`hearth runs ${hearthCode}`);
  if (machine.loadAverage1m > 1) log('warning: the machine is busy; figures will be pessimistic');

  log('cold start and idle RSS...');
  const { cold, idleKiB: hearthIdleKiB } = await coldStartAndIdle();
  log(`cold start: fresh ${cold.freshMedianMs} ms, existing ${cold.existingMedianMs} ms; idle RSS ${round(hearthIdleKiB / 1024, 1)} MiB`);

  // The server under load: its own data dir, with the per-user rate limit lifted so that the
  // figure is the server's capacity, not the limiter's (default 50/s per user).
  const hearthDir = tempDir('load');
  writeFileSync(join(hearthDir, 'hearth.yaml'), 'rate_limit:\n  per_second: 1000000\n  burst: 1000000\n  registration_burst: 1000000\n');
  const hearth = await startHearth(hearthDir);
  const baseline = await startServer(process.execPath, [BASELINE, join(tempDir('baseline'), 'baseline.sqlite')], /^baseline ready url=(\S+)/m);
  running.add(baseline);

  log('setting up users and a room...');
  const c = new HttpClient(hearth.url);
  const a = await register(c, 'alice');
  const b = await register(c, 'bob');
  const senders: BenchUser[] = [];
  for (let i = 0; i < 16; i++) senders.push(await register(c, `sender${i}`));
  const roomId = await createPublicRoom(c, a, 'bench');
  for (const u of [b, ...senders]) await joinRoom(c, u, roomId);
  for (let i = 0; i < 5; i++) await sendText(c, a, roomId, `setup-${i}`, `setup ${i}`);
  await sync(c, a);
  await sync(c, b);
  c.close();
  const bc = new HttpClient(baseline.url);
  for (let i = 0; i < 5; i++) await bc.ok('POST', '/send', { msgtype: 'm.text', body: `setup ${i}` });
  bc.close();
  await sleep(IDLE_MS);
  const hearthSetupKiB = rssKiB(hearth.pid);
  const baselineIdleKiB = rssKiB(baseline.pid);
  log(`RSS: hearth after 18 registrations ${round(hearthSetupKiB / 1024, 1)} MiB, baseline idle ${round(baselineIdleKiB / 1024, 1)} MiB`);

  log(`send -> sync latency (${LATENCY_SAMPLES} samples)...`);
  const latency = await sendToSync(hearth.url, a, b, roomId);
  log(`send -> sync: p50 ${latency.p50Ms} ms, p99 ${latency.p99Ms} ms`);

  // Interleaved so that drift in the machine (other tenants, page cache) hits both alike.
  const hl = hearthLoad(hearth.url, senders, roomId, 'tp');
  const bl = baselineLoad(baseline.url, 16);
  const rounds = async (senders: number) => {
    const all: Array<{ hearth: Throughput; baseline: Throughput; ratio: number }> = [];
    for (let i = 0; i < THROUGHPUT_ROUNDS; i++) {
      const h = await measured(hearth, () => hl.run(senders));
      const b = await measured(baseline, () => bl.run(senders));
      all.push({ hearth: h, baseline: b, ratio: round(h.perSecond / b.perSecond) });
      log(`${senders} sender(s), round ${i + 1}: hearth ${h.perSecond}/s, baseline ${b.perSecond}/s (${all.at(-1)!.ratio} x)`);
    }
    const mid = [...all].sort((x, y) => x.ratio - y.ratio)[Math.floor(all.length / 2)]!;
    return { ...mid, ratios: all.map((r) => r.ratio) };
  };
  log('throughput, 1 sender...');
  const one = await rounds(1);
  log('throughput, 16 senders...');
  const sixteen = await rounds(16);
  const [hearth1, baseline1, hearth16, baseline16] = [one.hearth, one.baseline, sixteen.hearth, sixteen.baseline];
  hl.close();
  bl.close();
  const hearthAfterLoadKiB = rssKiB(hearth.pid);

  await stop(hearth);
  await stop(baseline);

  const results: Results = {
    date: new Date().toISOString(),
    command: write ? 'npm run bench -- --write' : 'npm run bench',
    revision: revision(),
    hearthCode,
    machine,
    sendToSync: latency,
    throughput: {
      windowSeconds: THROUGHPUT_MS / 1000,
      rounds: THROUGHPUT_ROUNDS,
      hearth1,
      baseline1,
      ratio1: one.ratio,
      ratios1: one.ratios,
      hearth16,
      baseline16,
      ratio16: sixteen.ratio,
      ratios16: sixteen.ratios,
    },
    coldStart: cold,
    rss: {
      hearthIdleMiB: round(hearthIdleKiB / 1024, 1),
      baselineIdleMiB: round(baselineIdleKiB / 1024, 1),
      hearthAfterSetupMiB: round(hearthSetupKiB / 1024, 1),
      hearthAfterLoadMiB: round(hearthAfterLoadKiB / 1024, 1),
    },
    benchSeconds: 0,
  };
  results.benchSeconds = round((performance.now() - started) / 1000, 1);

  // The chat client (issue 4) and the chat features (issue 5), each in its own servers.
  const more: Record<string, unknown> = {};
  if (!process.argv.includes('--core')) {
    for (const [name, run] of [
      ['renderer', benchRenderer],
      // Issue 16: page load to the first message decrypted by the lazily loaded Rust crypto.
      ['first_decrypted_message', benchFirstDecryptedMessage],
      ['chat_features', benchChatFeatures],
      ['media', benchMedia],
      ['remote_media', benchRemoteMedia],
      ['federation', benchFederation],
      ['backfill', benchBackfill],
      ['sync_growth', benchSyncGrowth],
      ['load', benchLoad],
      // Needs root for network namespaces; elsewhere recorded as skipped with the reason.
      ['lan', benchLan],
    ] as const) {
      log(`${name}...`);
      try {
        more[name] = await run();
      } catch (err) {
        more[name] = { skipped: (err as Error).message };
        log(`${name} skipped: ${(err as Error).message}`);
      }
    }
  }
  results.benchSeconds = round((performance.now() - started) / 1000, 1);

  process.stdout.write(JSON.stringify({ ...results, more }, null, 2) + '\n\n');
  process.stdout.write(renderTable(results) + '\n');
  const growth = more.sync_growth as SyncGrowth | { skipped: string } | undefined;
  const growthMd = growth && 'initialSync' in growth ? renderSyncGrowth(growth) : '';
  if (growthMd) process.stdout.write(`\n${growthMd}`);
  if (write) {
    const extra =
      Object.keys(more).length === 0
        ? ''
        : `\n## Chat client and chat features\n\nFrom the same run (\`bench/renderer.ts\`, \`bench/renderer-crypto.ts\`, \`bench/chat-features.ts\`, \`bench/media.ts\`; ` +
          `\`bench/load.ts\`: 200 long-polling /sync clients and 50 senders for 60 s; \`npm run bench -- --core\` leaves them out). Targets: room list interactive < 1 s, initial JS < 400 kB gzip.\n\n\`\`\`json\n${JSON.stringify(more, null, 2)}\n\`\`\`\n`;
    const growthSection = growthMd
      ? `\n## Growth: initial /sync by room count, first requests after a restart\n\nFrom the same run (\`bench/sync-growth.ts\`; data written through Hearth's room service, measured over HTTP). Targets (issue 13): cost per room flat, 1,000 rooms < 1 s, 2,000 < 2 s, no first request after a restart > 50 ms.\n\n${growthMd}`
      : '';
    writeFileSync(join(ROOT, 'BENCHMARKS.md'), renderBenchmarksMd(results) + growthSection + extra);
    log('wrote BENCHMARKS.md');
  }
}

try {
  await main();
} catch (err) {
  log(`failed: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
} finally {
  for (const s of running) await s.stop();
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
}
