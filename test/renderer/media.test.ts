// The web client's media helpers (renderer/src/lib/media.ts, media-content.ts): mxc:// URIs
// from other people's events turned into authenticated media paths only when well formed, the
// object-URL cache that shares, keeps and revokes fetched files, and the content of media
// messages both ways (client-server-api "m.room.message msgtypes").
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encryptAttachment } from '../../renderer/src/lib/attachment-crypto.ts';
import {
  downloadPath,
  formatBytes,
  formatDuration,
  inertBlob,
  MediaError,
  MediaFetcher,
  MediaTooLargeError,
  parseMxc,
  thumbnailPath,
} from '../../renderer/src/lib/media.ts';
import { fitBox, mediaMessage, msgtypeFor, uploadedContent } from '../../renderer/src/lib/media-content.ts';

test('only a well-formed mxc:// URI becomes a media path; anything else is no media', () => {
  assert.deepEqual(parseMxc('mxc://example.org/AbC_12-x'), { serverName: 'example.org', mediaId: 'AbC_12-x' });
  assert.deepEqual(parseMxc('mxc://[::1]:8448/id'), { serverName: '[::1]:8448', mediaId: 'id' });
  for (const bad of [
    'https://example.org/a',
    'mxc://example.org/a/../../b',
    'mxc://example.org/a?x=1',
    'mxc://example.org/',
    'mxc:///id',
    'mxc://ex ample/id',
    42,
    null,
  ]) {
    assert.equal(parseMxc(bad), null, String(bad));
  }
  const mxc = parseMxc('mxc://example.org:8448/abc')!;
  assert.equal(downloadPath(mxc), '/_matrix/client/v1/media/download/example.org%3A8448/abc');
  assert.equal(thumbnailPath(mxc, 640, 480), '/_matrix/client/v1/media/thumbnail/example.org%3A8448/abc?width=640&height=480&method=scale');
  assert.equal(thumbnailPath(mxc, 64, 48, true), '/_matrix/client/v1/media/thumbnail/example.org%3A8448/abc?width=64&height=48&method=scale&animated=true');
});

/** A network that serves `bytes` for any path and counts the requests, recording their headers. */
function fakeNetwork(status = 200) {
  const requests: Array<{ url: string; authorization: string | null }> = [];
  const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
    requests.push({ url: String(input), authorization: new Headers(init?.headers).get('authorization') });
    return status === 200
      ? new Response(new Blob(['png bytes'], { type: 'image/png' }))
      : Response.json({ errcode: 'M_NOT_FOUND', error: 'Not found' }, { status });
  }) as typeof fetch;
  return { requests, fetchFn };
}

test('a file shown by several rows is fetched once, with the access token in the Authorization header', async () => {
  const net = fakeNetwork();
  const media = new MediaFetcher('http://hs.test', () => 'tok', net.fetchFn);
  const a = media.acquire('/p');
  const b = media.acquire('/p');
  const [ua, ub] = await Promise.all([a.url, b.url]);
  assert.equal(ua, ub);
  assert.match(ua, /^blob:/);
  assert.deepEqual(net.requests, [{ url: 'http://hs.test/p', authorization: 'Bearer tok' }]);
  assert.equal(await (await fetch(ua)).text(), 'png bytes', 'the object URL holds the bytes');
});

test('files no row shows stay cached up to the limit, then the oldest is revoked', async () => {
  const net = fakeNetwork();
  const media = new MediaFetcher('http://hs.test', () => 'tok', net.fetchFn, 2);
  const urls: string[] = [];
  for (const p of ['/1', '/2', '/3']) {
    const lease = media.acquire(p);
    urls.push(await lease.url);
    lease.release();
  }
  assert.equal(media.size, 2, 'two idle files kept');
  await assert.rejects(fetch(urls[0]!), 'the oldest object URL is revoked');
  assert.equal(await (await fetch(urls[2]!)).text(), 'png bytes', 'the newest is still there');
  // Scrolling back to a kept one does not fetch it again; a dropped one is fetched again.
  media.acquire('/3');
  media.acquire('/1');
  assert.deepEqual(
    net.requests.map((r) => r.url),
    ['http://hs.test/1', 'http://hs.test/2', 'http://hs.test/3', 'http://hs.test/1'],
  );
});

test('a file still shown is never revoked, however many others come and go; clear() revokes all', async () => {
  const net = fakeNetwork();
  const media = new MediaFetcher('http://hs.test', () => null, net.fetchFn, 1);
  const held = media.acquire('/held');
  const heldUrl = await held.url;
  // A second row showing it goes away: the first still shows it.
  media.acquire('/held').release();
  for (let i = 0; i < 5; i++) {
    const l = media.acquire(`/other${i}`);
    await l.url;
    l.release();
    l.release(); // a second release is ignored
  }
  assert.equal(await (await fetch(heldUrl)).text(), 'png bytes');
  assert.equal(net.requests[0]!.authorization, null, 'no token, no header');
  media.clear();
  await assert.rejects(fetch(heldUrl));
  assert.equal(media.size, 0);
});

test("a refused file rejects with the server's words and is not cached: the next row tries again", async () => {
  const net = fakeNetwork(404);
  const media = new MediaFetcher('http://hs.test', () => 'tok', net.fetchFn);
  const err = await media.acquire('/gone').url.catch((e: unknown) => e);
  assert.ok(err instanceof MediaError);
  assert.equal(err.status, 404);
  assert.equal(err.message, 'Not found');
  await media.acquire('/gone').url.catch(() => {});
  assert.equal(net.requests.length, 2);
});

test('received media content: kinds, names, captions, encrypted files, and hostile info values ignored', () => {
  assert.equal(mediaMessage({ msgtype: 'm.text', body: 'hi' }), null);
  assert.equal(mediaMessage({ body: 'x' }), null);
  const image = mediaMessage({ msgtype: 'm.image', body: 'cat.png', url: 'mxc://hs/abc', info: { mimetype: 'image/png', size: 1234, w: 800, h: 600 } })!;
  assert.deepEqual(image, {
    kind: 'image',
    name: 'cat.png',
    caption: null,
    mxc: { serverName: 'hs', mediaId: 'abc' },
    encrypted: false,
    mimetype: 'image/png',
    size: 1234,
    width: 800,
    height: 600,
    durationMs: null,
    thumbnail: null,
    file: null,
    thumbnailFile: null,
    thumbnailMimetype: null,
  });
  // v1.10 "Media captions": a body that differs from filename is a caption.
  const captioned = mediaMessage({ msgtype: 'm.file', filename: 'q3.pdf', body: 'The Q3 numbers', url: 'mxc://hs/f' })!;
  assert.equal(captioned.name, 'q3.pdf');
  assert.equal(captioned.caption, 'The Q3 numbers');
  const encrypted = mediaMessage({ msgtype: 'm.video', body: 'v.mp4', file: { url: 'mxc://hs/e' } })!;
  assert.equal(encrypted.encrypted, true);
  assert.equal(encrypted.mxc, null);
  const hostile = mediaMessage({
    msgtype: 'm.audio',
    url: 'javascript:alert(1)',
    info: { size: -1, w: 1e9, h: 'x', duration: 1.5, thumbnail_url: 'http://evil' },
  })!;
  assert.deepEqual(
    [hostile.name, hostile.mxc, hostile.size, hostile.width, hostile.height, hostile.durationMs, hostile.thumbnail],
    ['Attachment', null, null, null, null, null, null],
  );
});

test('an image box fits 320 x 240 keeping its aspect ratio, never grows, and has a default when unknown', () => {
  assert.deepEqual(fitBox(400, 300), { width: 320, height: 240 });
  assert.deepEqual(fitBox(1280, 720), { width: 320, height: 180 });
  assert.deepEqual(fitBox(100, 2000), { width: 12, height: 240 });
  assert.deepEqual(fitBox(64, 48), { width: 64, height: 48 });
  assert.deepEqual(fitBox(null, 48), { width: 240, height: 180 });
});

test('an uploaded file is sent as the msgtype of its MIME type, with the info the browser read', () => {
  assert.equal(msgtypeFor('image/png'), 'm.image');
  assert.equal(msgtypeFor('image/svg+xml'), 'm.file', 'the server does not thumbnail SVG');
  assert.equal(msgtypeFor('video/webm'), 'm.video');
  assert.equal(msgtypeFor('audio/ogg'), 'm.audio');
  assert.equal(msgtypeFor(''), 'm.file');
  assert.deepEqual(uploadedContent({ name: 'a.png', type: 'image/png', size: 10 }, 'mxc://hs/a', { width: 4, height: 3 }), {
    msgtype: 'm.image',
    body: 'a.png',
    filename: 'a.png',
    url: 'mxc://hs/a',
    info: { mimetype: 'image/png', size: 10, w: 4, h: 3 },
  });
  assert.deepEqual(uploadedContent({ name: 'v.webm', type: 'video/webm', size: 9 }, 'mxc://hs/v', { width: 640, height: 360, durationMs: 61000 }).info, {
    mimetype: 'video/webm',
    size: 9,
    w: 640,
    h: 360,
    duration: 61000,
  });
  assert.deepEqual(uploadedContent({ name: 'x', type: '', size: 1 }, 'mxc://hs/x', { durationMs: 5 }), {
    msgtype: 'm.file',
    body: 'x',
    filename: 'x',
    url: 'mxc://hs/x',
    info: { mimetype: 'application/octet-stream', size: 1 },
  });
});

test('sizes and lengths read as people write them', () => {
  assert.deepEqual([0, 12, 1024, 51200, 1536 * 1024, 3 * 1024 ** 3].map(formatBytes), ['0 B', '12 B', '1 KB', '50 KB', '1.5 MB', '3 GB']);
  assert.deepEqual([500, 61_000, 3_725_000].map(formatDuration), ['0:01', '1:01', '1:02:05']);
});

test('an mxc URI whose server name is "." or ".." is refused: it would be a path segment the URL resolves', () => {
  assert.equal(parseMxc('mxc://../config'), null);
  assert.equal(parseMxc('mxc://./x'), null);
  assert.deepEqual(parseMxc('mxc://a..b/x'), { serverName: 'a..b', mediaId: 'x' });
});

test('a fetched file keeps its type only when it is image, audio or video (not SVG): an HTML file becomes inert bytes', () => {
  assert.equal(inertBlob(new Blob(['x'], { type: 'image/png' })).type, 'image/png');
  assert.equal(inertBlob(new Blob(['<p>'], { type: 'text/html' })).type, 'application/octet-stream');
  assert.equal(inertBlob(new Blob(['<svg>'], { type: 'image/svg+xml' })).type, 'application/octet-stream');
});

/**
 * A server that answers `chunks` chunks of 64 KiB for any path, with the Content-Length it is told
 * (or none), counting the chunks the client pulled: a misbehaving remote media server.
 */
function streamingNetwork(chunks: number, contentLength: number | null) {
  const pulled = { count: 0 };
  const fetchFn = (async () => {
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled.count === chunks) return controller.close();
        pulled.count++;
        controller.enqueue(new Uint8Array(64 * 1024));
      },
    });
    const headers: Record<string, string> = { 'content-type': 'image/png' };
    if (contentLength !== null) headers['content-length'] = String(contentLength);
    return new Response(body, { headers });
  }) as typeof fetch;
  return { pulled, fetchFn };
}

test('an automatic load stops reading at its byte cap when the answer is larger than declared (or than any length given)', async () => {
  // 200 chunks of 64 KiB = 12.5 MiB, sent without a length: the read stops just past 256 KiB.
  const net = streamingNetwork(200, null);
  const media = new MediaFetcher('http://hs.test', () => 'tok', net.fetchFn);
  await assert.rejects(media.acquire('/big', { maxBytes: 256 * 1024 }).url, MediaTooLargeError);
  assert.ok(net.pulled.count <= 6, `read stopped at the cap: ${net.pulled.count} chunks pulled of 200`);
  // A lying Content-Length (small) does not help: the bytes are counted as they come.
  const liar = streamingNetwork(200, 1000);
  await assert.rejects(new MediaFetcher('http://hs.test', () => 'tok', liar.fetchFn).acquire('/big', { maxBytes: 256 * 1024 }).url, MediaTooLargeError);
  assert.ok(liar.pulled.count <= 6, `read stopped at the cap: ${liar.pulled.count} chunks pulled of 200`);
  // A Content-Length over the cap is refused before reading the body.
  const honest = streamingNetwork(200, 200 * 64 * 1024);
  await assert.rejects(new MediaFetcher('http://hs.test', () => 'tok', honest.fetchFn).acquire('/big', { maxBytes: 256 * 1024 }).url, MediaTooLargeError);
  assert.ok(honest.pulled.count <= 2, `nothing much read: ${honest.pulled.count} chunks`);
  // Under the cap, or with no cap (a click), the whole file comes.
  const small = streamingNetwork(3, null);
  const url = await new MediaFetcher('http://hs.test', () => 'tok', small.fetchFn).acquire('/small', { maxBytes: 256 * 1024 }).url;
  assert.equal((await (await fetch(url)).arrayBuffer()).byteLength, 3 * 64 * 1024);
});

test('the idle cache keeps files within its byte budget, revoking the oldest first', async () => {
  const net = streamingNetwork(4, null); // 256 KiB a file
  const media = new MediaFetcher('http://hs.test', () => 'tok', net.fetchFn, 100, 600 * 1024);
  const urls: string[] = [];
  for (const p of ['/1', '/2', '/3']) {
    net.pulled.count = 0;
    const lease = media.acquire(p);
    urls.push(await lease.url);
    lease.release();
  }
  assert.equal(media.size, 2, 'two files of 256 KiB fit in 600 KiB, three do not');
  await assert.rejects(fetch(urls[0]!), 'the oldest object URL is revoked');
  assert.equal((await (await fetch(urls[2]!)).arrayBuffer()).byteLength, 256 * 1024);
});

test('an encrypted attachment is decrypted into an object URL of the type its event gives (a safe one only), and one with a wrong hash is damaged', async () => {
  const { ciphertext, file } = await encryptAttachment(new TextEncoder().encode('the plaintext picture'));
  const fetchFn = (async () => new Response(ciphertext, { headers: { 'content-type': 'application/octet-stream' } })) as unknown as typeof fetch;
  const media = new MediaFetcher('http://hs.test', () => 'tok', fetchFn);
  const enc = { ...file, url: 'mxc://hs/e' };
  const url = await media.acquire('/e', { encrypted: { file: enc, mimetype: 'image/png' } }).url;
  const blob = await (await fetch(url)).blob();
  assert.equal(await blob.text(), 'the plaintext picture');
  assert.equal(blob.type, 'image/png');
  const html = await media.acquire('/e', { encrypted: { file: enc, mimetype: 'text/html' } }).url;
  assert.equal((await (await fetch(html)).blob()).type, 'application/octet-stream', 'an HTML "attachment" stays inert');
  const wrongHash = { ...enc, hashes: { sha256: file.hashes.sha256.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) } };
  await assert.rejects(media.acquire('/e', { encrypted: { file: wrongHash, mimetype: 'image/png' } }).url, /damaged/);
});

test('an encrypted media message is read from `file` and info.thumbnail_file; the content sent for an encrypted upload carries them instead of url', async () => {
  const { file: main } = await encryptAttachment(new Uint8Array([1, 2, 3]));
  const { file: thumb } = await encryptAttachment(new Uint8Array([4, 5]));
  const poster = { blob: new Blob(['jpeg'], { type: 'image/jpeg' }), width: 320, height: 180 };
  const content = uploadedContent(
    { name: 'clip.webm', type: 'video/webm', size: 3 },
    { contentUri: 'mxc://hs/cipher', encrypted: main },
    { width: 640, height: 360, durationMs: 1000, thumbnail: poster },
    { contentUri: 'mxc://hs/thumbcipher', encrypted: thumb },
  );
  assert.equal(content.url, undefined, 'no url beside file');
  assert.deepEqual(content.file, { ...main, url: 'mxc://hs/cipher' });
  const info = content.info as Record<string, unknown>;
  assert.equal(info.thumbnail_url, undefined);
  assert.deepEqual(info.thumbnail_file, { ...thumb, url: 'mxc://hs/thumbcipher' });
  assert.deepEqual(info.thumbnail_info, { mimetype: 'image/jpeg', size: 4, w: 320, h: 180 });
  const read = mediaMessage(content)!;
  assert.equal(read.encrypted, true);
  assert.deepEqual(read.mxc, { serverName: 'hs', mediaId: 'cipher' });
  assert.deepEqual(read.file, { ...main, url: 'mxc://hs/cipher' });
  assert.deepEqual(read.thumbnail, { serverName: 'hs', mediaId: 'thumbcipher' });
  assert.deepEqual(read.thumbnailFile, { ...thumb, url: 'mxc://hs/thumbcipher' });
  assert.equal(read.thumbnailMimetype, 'image/jpeg');
  // A plain upload with a poster: thumbnail_url.
  const plain = uploadedContent({ name: 'v.webm', type: 'video/webm', size: 3 }, 'mxc://hs/v', { thumbnail: poster }, { contentUri: 'mxc://hs/p' });
  assert.equal((plain.info as Record<string, unknown>).thumbnail_url, 'mxc://hs/p');
  assert.deepEqual(mediaMessage(plain)!.thumbnail, { serverName: 'hs', mediaId: 'p' });
});

test('a click that opens a file while its capped automatic load is still under way gets the whole file, not the cap error', async () => {
  // Each request gets its own 10 chunks of 64 KiB, without a length.
  const fetchFn = ((input, init) => streamingNetwork(10, null).fetchFn(input, init)) as typeof fetch;
  const media = new MediaFetcher('http://hs.test', () => 'tok', fetchFn);
  const row = media.acquire('/big', { maxBytes: 256 * 1024 });
  const viewer = media.acquire('/big');
  await assert.rejects(row.url, MediaTooLargeError);
  const url = await viewer.url;
  assert.equal((await (await fetch(url)).arrayBuffer()).byteLength, 10 * 64 * 1024);
});
