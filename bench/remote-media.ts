// Issue 14's media figures, over real federation between two `hearth serve` processes on loopback
// (HTTPS, self-signed certificates trusted by name): a user of B downloads images uploaded on A.
//  - first fetch: B has never seen the media, so it asks A over /_matrix/federation/v1/media/download
//    (signed request, multipart/mixed answer), writes it to its cache and serves it (p50, p95);
//  - cached fetch: the same media again, served from B's cache (p50, p95).
// Each image is a 1024x768 noise JPEG (about 700 kB: noise does not compress).
//   node bench/remote-media.ts     prints the JSON result
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { HttpClient } from './lib/http.ts';
import { register } from './lib/matrix.ts';
import { startServer, type RunningServer } from './lib/process.ts';
import { median, percentile, round } from './lib/stats.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HEARTH_BIN = join(ROOT, 'bin', 'hearth.js');
const READY = /^hearth ready client=(\S+)/m;

/** Distinct media fetched for the first time, one after another. */
const FIRST_FETCHES = 30;
const CACHED_FETCHES = 200;

function log(msg: string): void {
  process.stderr.write(`[bench:remote-media] ${msg}\n`);
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

function get(agent: http.Agent, base: URL, path: string, token: string): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: base.hostname, port: base.port, path, headers: { authorization: `Bearer ${token}` }, agent }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve({ status: res.statusCode!, bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function summary(ms: number[]) {
  return { n: ms.length, p50Ms: round(median(ms)), p95Ms: round(percentile(ms, 95)) };
}

export async function benchRemoteMedia(): Promise<object> {
  const [pa, pb] = [await freePort(), await freePort()];
  const names = [`127.0.0.1:${pa}`, `127.0.0.1:${pb}`];
  const dirs = names.map(() => mkdtempSync(join(tmpdir(), 'hearth-bench-remote-media-')));
  const servers: RunningServer[] = [];
  try {
    for (const [i, name] of names.entries()) {
      writeFileSync(join(dirs[i]!, 'hearth.yaml'), 'rate_limit:\n  per_second: 1000000\n  burst: 1000000\n  registration_burst: 1000000\n');
      const args = [HEARTH_BIN, 'serve', '--data-dir', dirs[i]!, '--server-name', name, '--listen', '127.0.0.1:0', '--federation-listen', name];
      args.push('--registration', 'open', '--trust-self-signed', names[1 - i]!);
      servers.push(await startServer(process.execPath, args, READY, 60_000));
    }
    const [a, b] = servers as [RunningServer, RunningServer];
    const alice = await register(new HttpClient(a.url), 'alice');
    const bob = await register(new HttpClient(b.url), 'bob');
    const jpeg = await sharp(randomBytes(1024 * 768 * 3), { raw: { width: 1024, height: 768, channels: 3 } })
      .jpeg({ quality: 90 })
      .toBuffer();
    const ids: string[] = [];
    for (let i = 0; i <= FIRST_FETCHES; i++) {
      const res = await fetch(`${a.url}/_matrix/media/v3/upload?filename=bench.jpg`, {
        method: 'POST',
        headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'image/jpeg' },
        body: new Uint8Array(jpeg),
      });
      if (res.status !== 200) throw new Error(`upload: ${res.status} ${await res.text()}`);
      ids.push(((await res.json()) as { content_uri: string }).content_uri.split('/').pop()!);
    }
    const base = new URL(b.url);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const timedGet = async (id: string): Promise<number> => {
      const t0 = performance.now();
      const r = await get(agent, base, `/_matrix/client/v1/media/download/${names[0]}/${id}`, bob.token);
      const ms = performance.now() - t0;
      if (r.status !== 200 || r.bytes !== jpeg.length) throw new Error(`download: ${r.status}, ${r.bytes} bytes`);
      return ms;
    };
    // Warm-up: B's first contact with A (certificate pinning, A's key) is not a media figure.
    log('warm-up');
    await timedGet(ids[0]!);
    log(`${FIRST_FETCHES} first fetches`);
    const first: number[] = [];
    for (const id of ids.slice(1)) first.push(await timedGet(id));
    log(`${CACHED_FETCHES} cached fetches`);
    const cached: number[] = [];
    for (let i = 0; i < CACHED_FETCHES; i++) cached.push(await timedGet(ids[1 + (i % FIRST_FETCHES)]!));
    agent.destroy();
    return { jpegBytes: jpeg.length, firstFetch: summary(first), cachedFetch: summary(cached) };
  } finally {
    for (const s of servers) await s.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.stdout.write(JSON.stringify(await benchRemoteMedia(), null, 2) + '\n');
}
