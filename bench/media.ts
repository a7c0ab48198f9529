// Content repository throughput for a 2 MB JPEG: uploads (streamed to disk, hashed, fsynced, row
// committed), thumbnails rendered on demand by sharp, and thumbnails served from the cache.
// Hearth runs in its own process, as in run.ts; this process only sends requests.
//   node bench/media.ts        prints the JSON result
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { HttpClient } from './lib/http.ts';
import { register } from './lib/matrix.ts';
import { cpuMs, startServer } from './lib/process.ts';
import { median, percentile, round } from './lib/stats.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HEARTH_BIN = join(ROOT, 'bin', 'hearth.js');

const UPLOADS = 40;
const CONCURRENT_UPLOADS = 40;
const CONCURRENCY = 4;
const THUMBNAILS = 40;
const CACHED_THUMBNAILS = 200;

interface RawResult {
  status: number;
  body: Buffer;
}

function raw(agent: http.Agent, base: URL, method: string, path: string, token: string | undefined, body?: Buffer, type?: string): Promise<RawResult> {
  const headers: http.OutgoingHttpHeaders = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body) {
    headers['content-length'] = body.length;
    headers['content-type'] = type ?? 'application/octet-stream';
  }
  return new Promise((resolve, reject) => {
    const req = http.request({ host: base.hostname, port: base.port, method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function summary(ms: number[], bytesEach?: number) {
  const total = ms.reduce((a, b) => a + b, 0);
  return {
    n: ms.length,
    p50Ms: round(median(ms)),
    p95Ms: round(percentile(ms, 95)),
    perSecond: round((ms.length * 1000) / total, 1),
    ...(bytesEach ? { mbPerSecond: round((ms.length * bytesEach) / 1e6 / (total / 1000), 1) } : {}),
  };
}

export async function benchMedia(): Promise<object> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hearth-bench-media-'));
  const server = await startServer(
    process.execPath,
    [HEARTH_BIN, 'serve', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--server-name', 'localhost'],
    /^hearth ready client=(\S+)/m,
  );
  try {
    const base = new URL(server.url);
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const user = await register(new HttpClient(server.url), 'bench');
    // Noise does not compress: 1600x1200 at quality 95 is about 2 MB.
    const jpeg = await sharp(randomBytes(1600 * 1200 * 3), { raw: { width: 1600, height: 1200, channels: 3 } })
      .jpeg({ quality: 95 })
      .toBuffer();
    const upload = async (): Promise<string> => {
      const res = await raw(agent, base, 'POST', '/_matrix/media/v3/upload?filename=bench.jpg', user.token, jpeg, 'image/jpeg');
      if (res.status !== 200) throw new Error(`upload: ${res.status} ${res.body.toString()}`);
      return (JSON.parse(res.body.toString()) as { content_uri: string }).content_uri.split('/').pop()!;
    };
    const timed = async <T>(fn: () => Promise<T>): Promise<[number, T]> => {
      const t0 = performance.now();
      const v = await fn();
      return [performance.now() - t0, v];
    };

    await upload(); // warm-up: first request, JIT, sharp's first load in the server
    // One at a time. Each image upload also starts the spec's five common thumbnails in the
    // background, as in real use, so this is upload throughput with that work alongside.
    const cpu0 = cpuMs(server.pid);
    const sequential: number[] = [];
    let mediaId = '';
    for (let i = 0; i < UPLOADS; i++) {
      const [ms, id] = await timed(upload);
      sequential.push(ms);
      mediaId = id;
    }
    const uploadCpuMs = cpuMs(server.pid) - cpu0;

    // CONCURRENCY clients at once: the wall clock figure a busy household would see.
    let left = CONCURRENT_UPLOADS;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (left-- > 0) await upload();
      }),
    );
    const concurrentMs = performance.now() - t0;

    // Let the background thumbnails of the uploads above finish before timing thumbnails.
    await new Promise((r) => setTimeout(r, 2000));

    // On demand: every request a size not made before, so sharp decodes the 2 MB JPEG each time.
    const rendered: number[] = [];
    for (let i = 0; i < THUMBNAILS; i++) {
      const size = 100 + i;
      const [ms, res] = await timed(() =>
        raw(agent, base, 'GET', `/_matrix/client/v1/media/thumbnail/localhost/${mediaId}?width=${size}&height=${size}&method=crop`, user.token),
      );
      if (res.status !== 200) throw new Error(`thumbnail: ${res.status} ${res.body.toString()}`);
      rendered.push(ms);
    }
    const cached: number[] = [];
    for (let i = 0; i < CACHED_THUMBNAILS; i++) {
      const [ms, res] = await timed(() =>
        raw(agent, base, 'GET', `/_matrix/client/v1/media/thumbnail/localhost/${mediaId}?width=320&height=240&method=scale`, user.token),
      );
      if (res.status !== 200) throw new Error(`thumbnail: ${res.status}`);
      cached.push(ms);
    }
    const downloads: number[] = [];
    for (let i = 0; i < 40; i++)
      downloads.push((await timed(() => raw(agent, base, 'GET', `/_matrix/client/v1/media/download/localhost/${mediaId}`, user.token)))[0]);
    agent.destroy();

    return {
      jpegBytes: jpeg.length,
      upload: { ...summary(sequential, jpeg.length), serverCpuMsPerUpload: round(uploadCpuMs / UPLOADS, 1) },
      uploadConcurrent: {
        clients: CONCURRENCY,
        n: CONCURRENT_UPLOADS,
        perSecond: round((CONCURRENT_UPLOADS * 1000) / concurrentMs, 1),
        mbPerSecond: round((CONCURRENT_UPLOADS * jpeg.length) / 1e6 / (concurrentMs / 1000), 1),
      },
      thumbnailRendered: summary(rendered),
      thumbnailCached: summary(cached),
      download: summary(downloads, jpeg.length),
    };
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.stdout.write(JSON.stringify(await benchMedia(), null, 2) + '\n');
}
