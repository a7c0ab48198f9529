// A diagnostic harness for the send path, not a benchmark (bench/run.ts is): a `hearth serve`
// with 18 users in one room, then either sequential sends with B long-polling (send -> sync
// latency) or 16 senders for a while (throughput), with the server's per-thread CPU.
//
//   node bench/diag/send-load.ts seq [sends=300]     send -> /sync p50 and p99
//   node bench/diag/send-load.ts par [ms=5000]       16 senders: sends/s, CPU per send per thread
//                                                    (par and base: after WARMUP_MS=3000 of the same load, unmeasured;
//                                                    par: ROUNDS=n windows one after another on one server)
//   node bench/diag/send-load.ts base [ms=5000]      the same 16-sender loop against bench/baseline-server.ts
//
// HEARTH_ROOT=dir runs another checkout's bin/hearth.js (an A/B against an older commit, e.g. a
// `git worktree`); HEARTH_NODE_ARGS adds node options to the server (`--cpu-prof
// --cpu-prof-dir=DIR` for a profile, read with bench/diag/cpuprofile.ts).
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { HttpClient } from '../lib/http.ts';
import { createPublicRoom, join as joinRoom, register, sendText, sync, type BenchUser } from '../lib/matrix.ts';
import { startServer } from '../lib/process.ts';
import { percentile } from '../lib/stats.ts';

const mode = process.argv[2] ?? 'seq';
const amount = Number(process.argv[3] ?? (mode === 'seq' ? 300 : 5000));
const root = process.env.HEARTH_ROOT ?? fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'hearth-diag-'));
writeFileSync(join(dir, 'hearth.yaml'), 'rate_limit:\n  per_second: 1000000\n  burst: 1000000\n  registration_burst: 1000000\n');
const nodeArgs = (process.env.HEARTH_NODE_ARGS ?? '').split(' ').filter(Boolean);
if (mode === 'base') {
  const b = await startServer(process.execPath, [join(root, 'bench', 'baseline-server.ts'), join(dir, 'baseline.sqlite')], /^baseline ready url=(\S+)/m);
  const clients = Array.from({ length: 16 }, () => new HttpClient(b.url, 1));
  const postFor = async (ms: number): Promise<number> => {
    const end = performance.now() + ms;
    let count = 0;
    await Promise.all(
      clients.map(async (client) => {
        for (let seq = 0; performance.now() < end; seq++) {
          await client.request('POST', '/send', { msgtype: 'm.text', body: `load ${seq}` });
          count++;
        }
      }),
    );
    return count;
  };
  await postFor(Number(process.env.WARMUP_MS ?? 3000));
  const before = threadCpuOf(b.pid);
  const load0 = process.cpuUsage();
  const count = await postFor(amount);
  report(count, before, threadCpuOf(b.pid), process.cpuUsage(load0));
  clients.forEach((x) => x.close());
  await b.stop();
  process.exit(0);
}

const s = await startServer(
  process.execPath,
  [...nodeArgs, join(root, 'bin', 'hearth.js'), 'serve', '--data-dir', dir, '--listen', '127.0.0.1:0', '--server-name', 'localhost'],
  /^hearth ready client=(\S+)/m,
);
const c = new HttpClient(s.url);
const a = await register(c, 'alice');
const b = await register(c, 'bob');
const senders: BenchUser[] = [];
for (let i = 0; i < 16; i++) senders.push(await register(c, `sender${i}`));
const roomId = await createPublicRoom(c, a, 'diag');
for (const u of [b, ...senders]) await joinRoom(c, u, roomId);

/** CPU time (ms) of each thread of the server, by thread id and name. */
function threadCpu(): Map<string, number> {
  return threadCpuOf(s.pid);
}

if (mode === 'seq') {
  const cb = new HttpClient(s.url);
  let since = (await sync(cb, b)).nextBatch;
  const latencies: number[] = [];
  for (let i = 0; i < amount; i++) {
    const marker = `ping ${i}`;
    const arrived = (async () => {
      for (;;) {
        const r = await sync(cb, b, since, 30_000);
        since = r.nextBatch;
        if (r.events.some((e) => e.content?.body === marker)) return performance.now();
      }
    })();
    await new Promise((r) => setTimeout(r, 5));
    const t0 = performance.now();
    await Promise.all([arrived, sendText(c, a, roomId, `t${i}`, marker)]);
    latencies.push((await arrived) - t0);
  }
  console.log(`send -> sync over ${amount} sends: p50 ${percentile(latencies, 50).toFixed(2)} ms, p99 ${percentile(latencies, 99).toFixed(2)} ms`);
  cb.close();
} else {
  const clients = senders.map(() => new HttpClient(s.url, 1));
  // The same load, unmeasured, until the JIT has compiled the send path: a cold server's first
  // seconds ran 15-25% slower than its later ones (the baseline's too).
  const warmUp = Number(process.env.WARMUP_MS ?? 3000);
  const sendFor = async (ms: number, label: string): Promise<number> => {
    const end = performance.now() + ms;
    let count = 0;
    await Promise.all(
      senders.map(async (u, i) => {
        for (let seq = 0; performance.now() < end; seq++) {
          await sendText(clients[i]!, u, roomId, `${label}${i}-${seq}`, `load ${seq}`);
          count++;
        }
      }),
    );
    return count;
  };
  await sendFor(warmUp, 'w');
  // ROUNDS=n measures n windows one after another, on the same server (its database growing).
  for (let round = 0; round < Number(process.env.ROUNDS ?? 1); round++) {
    const before = threadCpu();
    const load0 = process.cpuUsage();
    const count = await sendFor(amount, `p${round}-`);
    report(count, before, threadCpu(), process.cpuUsage(load0));
  }
  clients.forEach((x) => x.close());
}
c.close();
await s.stop();

/** CPU time (ms) of each thread of process `pid`, by thread id and name. */
function threadCpuOf(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
    out.set(`${tid} ${name}`, (Number(fields[11]) + Number(fields[12])) * 10);
  }
  return out;
}

/** Sends per second, the server's CPU per send by thread and in all, and the load generator's. */
function report(count: number, before: Map<string, number>, after: Map<string, number>, load: NodeJS.CpuUsage): void {
  console.log(`16 senders: ${Math.round(count / (amount / 1000))}/s`);
  let total = 0;
  for (const [thread, ms] of after) {
    const used = ms - (before.get(thread) ?? 0);
    total += used;
    if (used > 20) console.log(`  ${thread.padEnd(24)} ${(used / count).toFixed(3)} ms/send`);
  }
  console.log(`  server, all threads       ${(total / count).toFixed(3)} ms/send`);
  console.log(`  load generator            ${((load.user + load.system) / 1000 / count).toFixed(3)} ms/send`);
}
