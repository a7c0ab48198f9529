// Remote media against crafted peers (a world we do not own): a server that lacks the federation
// media endpoint (the legacy fallback), one that dies half way through the bytes, one that sends
// more than the upload limit, and one slow enough that ten clients ask for its media at once.
// Hearth is real (B, with a real SQLite file and media folder); only the peer is crafted.
import assert from 'node:assert/strict';
import https from 'node:https';
import http from 'node:http';
import net from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import sharp from 'sharp';
import { freePort, registerUser, startFederatedTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';
import { assertNoValidationFailures, clearValidationFailures } from '../../helpers/openapi.ts';
import { eventually } from '../../helpers/federation.ts';
import { loadTlsPair } from '../../../homeserver/federation/tls.ts';
import { assertMatrixError, noisePng, request } from './media-helpers.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

interface CraftedPeer {
  name: string;
  /** Every request, in arrival order. */
  seen: Array<{ url: string; authorization: string | undefined }>;
  handle: Handler;
  close(): Promise<void>;
}

async function startCraftedPeer(port: number): Promise<CraftedPeer> {
  const name = `127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'hearth-crafted-peer-'));
  const tls = await loadTlsPair({ dataDir: dir, serverName: name, listenHost: '127.0.0.1' });
  const peer: CraftedPeer = {
    name,
    seen: [],
    handle: (_req, res) => void res.writeHead(404, { 'content-type': 'application/json' }).end('{"errcode":"M_UNRECOGNIZED","error":"crafted"}'),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const server = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    peer.seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
    peer.handle(req, res);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return peer;
}

const BOUNDARY = 'crafted-boundary-7d1f';
function multipartHead(contentType: string): Buffer {
  return Buffer.from(
    `--${BOUNDARY}\r\nContent-Type: application/json\r\n\r\n{}\r\n--${BOUNDARY}\r\nContent-Type: ${contentType}\r\nContent-Disposition: inline; filename="crafted.png"\r\n\r\n`,
  );
}
const multipartTail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);

/** A well-formed federation answer for `bytes`. */
function answerMultipart(res: ServerResponse, bytes: Buffer, contentType = 'image/png'): void {
  res.writeHead(200, { 'content-type': `multipart/mixed; boundary=${BOUNDARY}` });
  res.end(Buffer.concat([multipartHead(contentType), bytes, multipartTail]));
}

/** Every file under `dir` (the media folder), relative paths. */
function filesUnder(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = join(prefix, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(dir, rel));
    else if (statSync(join(dir, rel)).isFile()) out.push(rel);
  }
  return out.sort();
}

const UPLOAD_LIMIT = 256 * 1024;

describe('remote media from crafted peers', () => {
  let b: TestServer;
  let bob: TestUser;
  let peer: CraftedPeer;
  let png: Buffer;
  let n = 0;
  /** A fresh media id per test, so that nothing cached by an earlier test answers for it. */
  let mediaId: string;
  const download = (id = mediaId, q = '') => request(b, bob, 'GET', `/_matrix/client/v1/media/download/${peer.name}/${id}${q}`);
  const mediaFiles = () => filesUnder(join(b.dataDir, 'media'));

  before(async () => {
    clearValidationFailures();
    const [pp, pb] = [await freePort(), await freePort()];
    peer = await startCraftedPeer(pp);
    b = await startFederatedTestServer(pb, { trustSelfSigned: [peer.name] }, { maxUploadBytes: UPLOAD_LIMIT, remoteMediaCacheBytes: 4 * UPLOAD_LIMIT });
    bob = await registerUser(b, 'bob');
    png = await noisePng(120, 90);
  });
  beforeEach(() => {
    mediaId = `crafted${++n}`;
    peer.seen.length = 0;
  });
  after(async () => {
    await b?.stop();
    await peer?.close();
    assertNoValidationFailures();
  });

  test('a peer without the federation media endpoint (404 M_UNRECOGNIZED) is asked on the legacy endpoint, unsigned, with allow_remote=false', async () => {
    peer.handle = (req, res) => {
      if (req.url!.startsWith(`/_matrix/media/v3/download/${peer.name}/${mediaId}?`)) {
        res.writeHead(200, { 'content-type': 'image/png', 'content-disposition': 'attachment; filename="old-server.png"', 'content-length': png.length });
        res.end(png);
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"errcode":"M_UNRECOGNIZED","error":"Unrecognized request"}');
    };
    const res = await download();
    assert.equal(res.status, 200, res.bytes.toString().slice(0, 300));
    assert.ok(res.bytes.equals(png));
    assert.equal(res.headers.get('content-type'), 'image/png');
    assert.equal(res.headers.get('content-disposition'), 'inline; filename="old-server.png"');
    assert.equal(peer.seen.length, 2, JSON.stringify(peer.seen));
    assert.match(peer.seen[0]!.url, new RegExp(`^/_matrix/federation/v1/media/download/${mediaId}\\b`));
    assert.match(peer.seen[0]!.authorization ?? '', /^X-Matrix /);
    const legacy = new URL(peer.seen[1]!.url, 'https://x');
    assert.equal(legacy.pathname, `/_matrix/media/v3/download/${peer.name}/${mediaId}`);
    assert.equal(legacy.searchParams.get('allow_remote'), 'false');
    assert.equal(peer.seen[1]!.authorization, undefined);
    // The thumbnail is made here from the cached original: the peer is not asked again.
    const thumb = await request(b, bob, 'GET', `/_matrix/client/v1/media/thumbnail/${peer.name}/${mediaId}?width=32&height=32&method=crop`);
    assert.equal(thumb.status, 200);
    const meta = await sharp(thumb.bytes).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 32, 32]);
    assert.equal(peer.seen.length, 2);
  });

  test('a peer that dies half way through the bytes gives 502 and leaves nothing behind; the next request asks again', async () => {
    peer.handle = (_req, res) => {
      res.writeHead(200, { 'content-type': `multipart/mixed; boundary=${BOUNDARY}` });
      res.write(Buffer.concat([multipartHead('image/png'), png.subarray(0, png.length >> 1)]), () => res.socket?.destroy());
    };
    const before = mediaFiles();
    assertMatrixError(await download(), 502, 'M_UNKNOWN');
    assert.deepEqual(mediaFiles(), before, 'no file was added to the media folder, tmp included');
    peer.handle = (_req, res) => answerMultipart(res, png);
    const again = await download();
    assert.equal(again.status, 200);
    assert.ok(again.bytes.equals(png));
    assert.equal(peer.seen.length, 2, 'the failed fetch was not cached: the peer was asked again');
  });

  test('a peer that ends its answer cleanly before the close delimiter (a truncated multipart body) gives 502, nothing kept', async () => {
    peer.handle = (_req, res) => {
      res.writeHead(200, { 'content-type': `multipart/mixed; boundary=${BOUNDARY}` });
      res.end(Buffer.concat([multipartHead('image/png'), png.subarray(0, png.length >> 1)]));
    };
    const before = mediaFiles();
    assertMatrixError(await download(), 502, 'M_UNKNOWN');
    assert.deepEqual(mediaFiles(), before);
  });

  test('a peer that sends more than the upload limit is refused with 502 M_TOO_LARGE, nothing kept', async () => {
    const huge = randomBytes(UPLOAD_LIMIT + 1);
    peer.handle = (_req, res) => answerMultipart(res, huge, 'application/octet-stream');
    const before = mediaFiles();
    assertMatrixError(await download(), 502, 'M_TOO_LARGE');
    assert.deepEqual(mediaFiles(), before);
    // A legacy answer announcing too much in Content-Length is refused before its bytes are read:
    // this one sends only 1 KiB of what it announced, then hangs up.
    peer.handle = (req, res) => {
      if (req.url!.startsWith('/_matrix/media/v3/')) {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': huge.length });
        res.write(huge.subarray(0, 1024), () => setTimeout(() => res.socket?.destroy(), 50));
      } else res.writeHead(404, { 'content-type': 'application/json' }).end('{"errcode":"M_UNRECOGNIZED","error":"no"}');
    };
    assertMatrixError(await download(`${mediaId}legacy`), 502, 'M_TOO_LARGE');
    assert.deepEqual(mediaFiles(), before);
  });

  test('ten concurrent requests for one remote media make one request to its server, and all get the bytes', async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    peer.handle = (_req, res) => void released.then(() => answerMultipart(res, png));
    const answers = Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        i % 2 ? download() : request(b, bob, 'GET', `/_matrix/client/v1/media/thumbnail/${peer.name}/${mediaId}?width=96&height=96&method=crop`),
      ),
    );
    await eventually('the peer to be asked', async () => (peer.seen.length > 0 ? true : undefined));
    // Time for the other nine to reach B while the first fetch is held; if they came later they
    // would be served from the cache, and the count below would still hold.
    await new Promise((r) => setTimeout(r, 500));
    release();
    const all = await answers;
    assert.deepEqual(
      all.map((r) => r.status),
      Array(10).fill(200),
    );
    for (const [i, r] of all.entries()) if (i % 2) assert.ok(r.bytes.equals(png));
    assert.equal(peer.seen.length, 1, JSON.stringify(peer.seen));
  });

  test('at most four remote fetches run at once; the others wait for a slot and are then served', async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    peer.handle = (_req, res) => void released.then(() => answerMultipart(res, png));
    const answers = Promise.all(Array.from({ length: 7 }, (_, i) => download(`${mediaId}x${i}`)));
    await eventually('four fetches to reach the peer', async () => (peer.seen.length >= 4 ? true : undefined));
    // Time for a fifth to arrive if nothing held it back.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(peer.seen.length, 4, JSON.stringify(peer.seen.map((s) => s.url)));
    release();
    assert.deepEqual(
      (await answers).map((r) => r.status),
      Array(7).fill(200),
    );
    assert.equal(peer.seen.length, 7);
  });

  test('allow_remote=false on the legacy endpoint never asks the remote server, and serves what is cached', async () => {
    peer.handle = (_req, res) => answerMultipart(res, png);
    const path = `/_matrix/media/v3/download/${peer.name}/${mediaId}`;
    assertMatrixError(await request(b, undefined, 'GET', `${path}?allow_remote=false`), 404, 'M_NOT_FOUND');
    assert.equal(peer.seen.length, 0);
    assert.equal((await request(b, undefined, 'GET', path)).status, 200);
    const cached = await request(b, undefined, 'GET', `${path}?allow_remote=false`);
    assert.equal(cached.status, 200);
    assert.ok(cached.bytes.equals(png));
    assert.equal(peer.seen.length, 1);
  });

  test("a multipart answer whose second part is a Location is followed there, through the peer's address policy", async () => {
    const blob = http.createServer((_req, res) => void res.writeHead(200, { 'content-type': 'image/png' }).end(png));
    await new Promise<void>((r) => blob.listen(0, '127.0.0.1', () => r()));
    try {
      const location = `http://127.0.0.1:${(blob.address() as net.AddressInfo).port}/blob/${mediaId}`;
      peer.handle = (_req, res) => {
        res.writeHead(200, { 'content-type': `multipart/mixed; boundary=${BOUNDARY}` });
        res.end(`--${BOUNDARY}\r\nContent-Type: application/json\r\n\r\n{}\r\n--${BOUNDARY}\r\nLocation: ${location}\r\n\r\n\r\n--${BOUNDARY}--\r\n`);
      };
      const res = await download();
      assert.equal(res.status, 200, res.bytes.toString().slice(0, 300));
      assert.ok(res.bytes.equals(png));
    } finally {
      blob.closeAllConnections();
      await new Promise<void>((r) => blob.close(() => r()));
    }
  });

  test('media of a server at a loopback address that is no configured peer is refused without connecting to it', async () => {
    let connections = 0;
    const target = net.createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', () => r()));
    try {
      const name = `127.0.0.1:${(target.address() as net.AddressInfo).port}`;
      assertMatrixError(await request(b, bob, 'GET', `/_matrix/client/v1/media/download/${name}/${mediaId}`), 502, 'M_UNKNOWN');
      assert.equal(connections, 0);
    } finally {
      await new Promise<void>((r) => target.close(() => r()));
    }
  });

  test('the remote cache stays under its cap: the least recently fetched media goes first, and is fetched again when asked', async () => {
    // The cap is four upload limits; five items of a little less than one limit each cannot all stay.
    const items = Array.from({ length: 5 }, () => randomBytes(UPLOAD_LIMIT - 1024));
    peer.handle = (req, res) => {
      const i = Number(/evict(\d)/.exec(req.url!)?.[1]);
      answerMultipart(res, items[i]!, 'application/octet-stream');
    };
    for (let i = 0; i < 5; i++) {
      const r = await download(`evict${i}${mediaId}`);
      assert.equal(r.status, 200);
      assert.ok(r.bytes.equals(items[i]!));
    }
    assert.equal(peer.seen.length, 5);
    const bytesOnDisk = mediaFiles()
      .filter((f) => !f.startsWith('tmp'))
      .reduce((sum, f) => sum + statSync(join(b.dataDir, 'media', f)).size, 0);
    assert.ok(bytesOnDisk <= 4 * UPLOAD_LIMIT, `${bytesOnDisk} bytes of media on disk`);
    // The newest is still cached; the oldest was evicted and is fetched again.
    assert.equal((await download(`evict4${mediaId}`)).status, 200);
    assert.equal(peer.seen.length, 5);
    const first = await download(`evict0${mediaId}`);
    assert.ok(first.bytes.equals(items[0]!));
    assert.equal(peer.seen.length, 6);
  });
});
