// The first requests after a restart, each alone, on a data dir kept between runs: what a send,
// a /messages and a /sync cost first and second, to find what the first one pays for.
//   node bench/diag/first-requests.ts DIR [--events N] [--runs N] [--prof]
// Builds DIR on the first run (a room of N events Bob never read, beside small rooms of Alice's).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { HttpClient } from '../lib/http.ts';
import { sendPath, type BenchUser } from '../lib/matrix.ts';
import { cpuMs, startServer } from '../lib/process.ts';
import { Fixture } from '../lib/fixtures.ts';

const API = '/_matrix/client/v3';
const root = fileURLToPath(new URL('../..', import.meta.url));
const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const dir = process.argv[2]!;
const events = Number(arg('--events') ?? 20_000);
const runs = Number(arg('--runs') ?? 3);
const prof = process.argv.includes('--prof');
const meta = join(dir, 'diag.json');

if (!existsSync(meta)) {
  mkdirSync(dir, { recursive: true });
  const f = await Fixture.open(root, dir);
  const alice = await f.user('alice');
  const bob = await f.user('bob');
  for (let r = 0; r < 200; r++) await f.room(alice, `other ${r}`, []);
  const roomId = await f.room(alice, 'big', [bob]);
  await f.messages(roomId, alice, events, 'big room message');
  await f.close();
  writeFileSync(meta, JSON.stringify({ alice, bob, roomId }));
}
const { alice, bob, roomId } = JSON.parse(readFileSync(meta, 'utf8')) as { alice: BenchUser; bob: BenchUser; roomId: string };

async function timed(c: HttpClient, method: string, path: string, body: unknown, user: BenchUser): Promise<number> {
  const t0 = performance.now();
  const res = await c.request(method, path, body, user.token);
  if (res.status !== 200) throw new Error(`${method} ${path} -> ${res.status}`);
  return Math.round((performance.now() - t0) * 10) / 10;
}

const messages = `${API}/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=20`;
for (let run = 0; run < runs; run++) {
  for (const first of ['send', 'messages', 'sync'] as const) {
    const flags = prof ? ['--cpu-prof', '--cpu-prof-dir', join(dir, `prof-${first}`)] : [];
    const s = await startServer(
      process.execPath,
      [...flags, join(root, 'bin', 'hearth.js'), 'serve', '--data-dir', dir, '--listen', '127.0.0.1:0', '--server-name', 'localhost'],
      /^hearth ready client=(\S+)/m,
      60_000,
    );
    const c = new HttpClient(s.url);
    const send = (n: string) => timed(c, 'PUT', sendPath(roomId, `${first}-${run}-${n}-${Date.now()}`), { msgtype: 'm.text', body: 'x' }, alice);
    const out: number[] = [];
    const cpu0 = cpuMs(s.pid);
    if (first === 'send') out.push(await send('a'), await send('b'));
    if (first === 'messages') out.push(await timed(c, 'GET', messages, undefined, bob), await timed(c, 'GET', messages, undefined, bob));
    if (first === 'sync')
      out.push(await timed(c, 'GET', `${API}/sync?timeout=0`, undefined, bob), await timed(c, 'GET', `${API}/sync?timeout=0`, undefined, bob));
    const cpu = cpuMs(s.pid) - cpu0;
    process.stdout.write(`run ${run} first ${first}: ${out.join(' ms, then ')} ms (both: ${cpu} ms of server CPU; ready after ${Math.round(s.readyMs)} ms)\n`);
    c.close();
    await s.stop();
  }
}
