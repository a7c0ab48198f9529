// The content repository over real HTTP: upload, download, thumbnails and config, on the
// authenticated /_matrix/client/v1/media endpoints and the legacy /_matrix/media/{v3,r0} ones.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { startTestServer, registerUser, type TestServer, type TestUser } from '../../helpers/server.ts';
import { assertNoValidationFailures, validationCounts } from '../../helpers/openapi.ts';
import { animatedGif, assertMatrixError, noiseJpeg, noisePng, request, upload } from './media-helpers.ts';

describe('content repository', () => {
  let server: TestServer;
  let alice: TestUser;
  let jpeg: Buffer;
  let png: Buffer;
  let jpegId: string;
  let pngId: string;

  before(async () => {
    server = await startTestServer();
    alice = await registerUser(server, 'alice');
    // ~2 MB of noise, so that the test moves real bytes rather than a few kB of flat colour.
    jpeg = await noiseJpeg(1600, 1200);
    png = await noisePng(400, 300);
    ({ mediaId: jpegId } = await upload(server, alice, jpeg, 'image/jpeg', 'holiday photo.jpg'));
    ({ mediaId: pngId } = await upload(server, alice, png, 'image/png'));
  });

  after(async () => {
    await server?.stop();
    assertNoValidationFailures();
  });

  test('the test JPEG is about 2 MB', () => {
    assert.ok(jpeg.length > 1_500_000 && jpeg.length < 4_000_000, `${jpeg.length} bytes`);
  });

  test('an uploaded JPEG downloads byte-identical with its type, upload filename and security headers', async () => {
    const res = await request(server, alice, 'GET', `/_matrix/client/v1/media/download/${server.serverName}/${jpegId}`);
    assert.equal(res.status, 200);
    assert.ok(res.bytes.equals(jpeg), 'downloaded bytes differ from the upload');
    assert.equal(res.headers.get('content-type'), 'image/jpeg');
    assert.equal(res.headers.get('content-length'), String(jpeg.length));
    assert.equal(res.headers.get('content-disposition'), 'inline; filename="holiday photo.jpg"');
    assert.match(res.headers.get('content-security-policy')!, /^sandbox; default-src 'none'; script-src 'none';/);
    assert.equal(res.headers.get('cross-origin-resource-policy'), 'cross-origin');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.match(res.headers.get('cache-control')!, /immutable/);
  });

  test('a PNG uploaded without a filename downloads with a bare disposition', async () => {
    const res = await request(server, alice, 'GET', `/_matrix/client/v1/media/download/${server.serverName}/${pngId}`);
    assert.equal(res.status, 200);
    assert.ok(res.bytes.equals(png));
    assert.equal(res.headers.get('content-type'), 'image/png');
    assert.equal(res.headers.get('content-disposition'), 'inline');
  });

  test('the fileName in the URL replaces the upload name, non-ASCII names as RFC 8187 filename*', async () => {
    const plain = await request(server, alice, 'GET', `/_matrix/client/v1/media/download/${server.serverName}/${jpegId}/other.jpg`);
    assert.equal(plain.headers.get('content-disposition'), 'inline; filename="other.jpg"');
    const name = 'crème brûlée "quoted".jpg';
    const fancy = await request(server, alice, 'GET', `/_matrix/client/v1/media/download/${server.serverName}/${jpegId}/${encodeURIComponent(name)}`);
    assert.equal(fancy.status, 200);
    const header = fancy.headers.get('content-disposition')!;
    const m = /^inline; filename\*=utf-8''(.+)$/.exec(header);
    assert.ok(m, header);
    assert.equal(decodeURIComponent(m[1]!), name);
  });

  test('an upload name with non-ASCII characters comes back unchanged', async () => {
    const name = 'фото 🐈.png';
    const { mediaId } = await upload(server, alice, png, 'image/png', name);
    const res = await request(server, alice, 'GET', `/_matrix/client/v1/media/download/${server.serverName}/${mediaId}`);
    const m = /filename\*=utf-8''(.+)$/.exec(res.headers.get('content-disposition')!);
    assert.equal(decodeURIComponent(m![1]!), name);
  });

  test('the legacy v3 and r0 downloads work without a token, with public caching', async () => {
    for (const prefix of ['/_matrix/media/v3', '/_matrix/media/r0', '/_matrix/media/v1']) {
      const res = await request(server, undefined, 'GET', `${prefix}/download/${server.serverName}/${jpegId}`);
      assert.equal(res.status, 200, prefix);
      assert.ok(res.bytes.equals(jpeg), prefix);
      assert.match(res.headers.get('cache-control')!, /^public/);
    }
  });

  test('the authenticated download without a token is 401 M_MISSING_TOKEN, with a bad token M_UNKNOWN_TOKEN', async () => {
    const path = `/_matrix/client/v1/media/download/${server.serverName}/${jpegId}`;
    assertMatrixError(await request(server, undefined, 'GET', path), 401, 'M_MISSING_TOKEN');
    assertMatrixError(await request(server, undefined, 'GET', path, { headers: { authorization: 'Bearer nope' } }), 401, 'M_UNKNOWN_TOKEN');
    assertMatrixError(
      await request(server, undefined, 'GET', `/_matrix/client/v1/media/thumbnail/${server.serverName}/${jpegId}?width=32&height=32`),
      401,
      'M_MISSING_TOKEN',
    );
  });

  test('uploading needs a token', async () => {
    assertMatrixError(await request(server, undefined, 'POST', '/_matrix/media/v3/upload', { body: png, contentType: 'image/png' }), 401, 'M_MISSING_TOKEN');
  });

  test('a repeated download with If-None-Match is 304', async () => {
    const path = `/_matrix/client/v1/media/download/${server.serverName}/${jpegId}`;
    const first = await request(server, alice, 'GET', path);
    const etag = first.headers.get('etag')!;
    assert.ok(etag);
    const again = await request(server, alice, 'GET', path, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    assert.equal(again.bytes.length, 0);
  });

  test('crop 96x96 gives exactly 96x96, as a JPEG for a JPEG, inline', async () => {
    const res = await request(server, alice, 'GET', `/_matrix/client/v1/media/thumbnail/${server.serverName}/${jpegId}?width=96&height=96&method=crop`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/jpeg');
    assert.equal(res.headers.get('content-disposition'), 'inline; filename="thumbnail.jpg"');
    const meta = await sharp(res.bytes).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 96, 96]);
  });

  test('scale 320x240 fits inside the box and keeps the aspect ratio', async () => {
    const res = await request(server, alice, 'GET', `/_matrix/client/v1/media/thumbnail/${server.serverName}/${jpegId}?width=320&height=240&method=scale`);
    assert.equal(res.status, 200);
    const meta = await sharp(res.bytes).metadata();
    assert.ok(meta.width! <= 320 && meta.height! <= 240, `${meta.width}x${meta.height}`);
    assert.ok(meta.width === 320 || meta.height === 240, 'one side reaches the box');
    assert.ok(Math.abs(meta.width! / meta.height! - 1600 / 1200) < 0.02);
  });

  test('a scale request is answered with the smallest standard size that covers it (800x300 -> the 800x600 box)', async () => {
    const res = await request(server, undefined, 'GET', `/_matrix/media/v3/thumbnail/${server.serverName}/${jpegId}?width=800&height=300&method=scale`);
    const meta = await sharp(res.bytes).metadata();
    assert.deepEqual([meta.width, meta.height], [800, 600]);
  });

  test('a PNG thumbnails to PNG; a crop beyond 96x96 is the scaled standard size, here the original that fits it', async () => {
    const crop = await request(server, alice, 'GET', `/_matrix/client/v1/media/thumbnail/${server.serverName}/${pngId}?width=90&height=30&method=crop`);
    assert.equal(crop.status, 200);
    assert.equal(crop.headers.get('content-type'), 'image/png');
    const meta = await sharp(crop.bytes).metadata();
    assert.deepEqual([meta.width, meta.height], [96, 96]);
    // 600x200 crop -> 640x480 scale, which the 400x300 original fits: served as it is, never upscaled.
    const res = await request(server, alice, 'GET', `/_matrix/client/v1/media/thumbnail/${server.serverName}/${pngId}?width=600&height=200&method=crop`);
    assert.equal(res.status, 200);
    assert.ok(res.bytes.equals(png), 'expected the original bytes');
  });

  test('a thumbnail larger than the original is the original itself', async () => {
    const res = await request(server, alice, 'GET', `/_matrix/client/v1/media/thumbnail/${server.serverName}/${pngId}?width=1000&height=1000&method=scale`);
    assert.equal(res.status, 200);
    assert.ok(res.bytes.equals(png), 'expected the original bytes');
    assert.equal(res.headers.get('content-type'), 'image/png');
  });

  test('a huge request is bounded instead of refused', async () => {
    const res = await request(server, alice, 'GET', `/_matrix/client/v1/media/thumbnail/${server.serverName}/${jpegId}?width=100000&height=100000`);
    assert.equal(res.status, 200);
    assert.ok(res.bytes.equals(jpeg), 'the 1600x1200 original fits a 100000 box');
  });

  test('the same thumbnail twice is served from the cache, byte-identical', async () => {
    const path = `/_matrix/client/v1/media/thumbnail/${server.serverName}/${jpegId}?width=150&height=150&method=crop`;
    const [a, b] = await Promise.all([request(server, alice, 'GET', path), request(server, alice, 'GET', path)]);
    const c = await request(server, alice, 'GET', path);
    assert.ok(a.bytes.equals(b.bytes) && a.bytes.equals(c.bytes));
  });

  test('animated=true keeps an animated GIF moving (as WebP, at the standard 96x96 crop); without it the thumbnail is a still PNG', async () => {
    const { mediaId } = await upload(server, alice, await animatedGif(200, 150, 3), 'image/gif');
    const moving = await request(
      server,
      alice,
      'GET',
      `/_matrix/client/v1/media/thumbnail/${server.serverName}/${mediaId}?width=64&height=64&method=crop&animated=true`,
    );
    assert.equal(moving.status, 200);
    assert.equal(moving.headers.get('content-type'), 'image/webp');
    const m1 = await sharp(moving.bytes, { animated: true }).metadata();
    assert.equal(m1.pages, 3);
    assert.deepEqual([m1.width, m1.pageHeight], [96, 96]);
    const still = await request(server, alice, 'GET', `/_matrix/client/v1/media/thumbnail/${server.serverName}/${mediaId}?width=64&height=64&method=crop`);
    assert.equal(still.headers.get('content-type'), 'image/png');
    assert.equal((await sharp(still.bytes, { animated: true }).metadata()).pages ?? 1, 1);
    // Smaller than the box, yet not served as the (animated) original when animation was not asked for.
    const big = await request(server, alice, 'GET', `/_matrix/client/v1/media/thumbnail/${server.serverName}/${mediaId}?width=400&height=400`);
    assert.equal(big.headers.get('content-type'), 'image/png');
  });

  test('thumbnails of something that is not an image are 400 M_UNKNOWN', async () => {
    const { mediaId } = await upload(server, alice, Buffer.from('just some text'), 'text/plain');
    assertMatrixError(
      await request(server, alice, 'GET', `/_matrix/client/v1/media/thumbnail/${server.serverName}/${mediaId}?width=32&height=32`),
      400,
      'M_UNKNOWN',
    );
    // Claimed to be a PNG, but it is not one.
    const { mediaId: fake } = await upload(server, alice, Buffer.from('<html>not a png</html>'), 'image/png');
    assertMatrixError(
      await request(server, alice, 'GET', `/_matrix/client/v1/media/thumbnail/${server.serverName}/${fake}?width=32&height=32`),
      400,
      'M_UNKNOWN',
    );
  });

  test('bad thumbnail parameters are standard 400 errors', async () => {
    const base = `/_matrix/client/v1/media/thumbnail/${server.serverName}/${jpegId}`;
    assertMatrixError(await request(server, alice, 'GET', `${base}?height=32`), 400, 'M_MISSING_PARAM');
    assertMatrixError(await request(server, alice, 'GET', `${base}?width=-3&height=32`), 400, 'M_INVALID_PARAM');
    assertMatrixError(await request(server, alice, 'GET', `${base}?width=0&height=32`), 400, 'M_INVALID_PARAM');
    assertMatrixError(await request(server, alice, 'GET', `${base}?width=1.5&height=32`), 400, 'M_INVALID_PARAM');
    assertMatrixError(await request(server, alice, 'GET', `${base}?width=32&height=32&method=stretch`), 400, 'M_INVALID_PARAM');
  });

  test('config reports the upload limit (50 MiB by default) on both prefixes, with a token', async () => {
    for (const path of ['/_matrix/client/v1/media/config', '/_matrix/media/v3/config', '/_matrix/media/r0/config']) {
      const res = await request(server, alice, 'GET', path);
      assert.equal(res.status, 200, path);
      assert.deepEqual(res.json, { 'm.upload.size': 50 * 1024 * 1024 });
    }
    assertMatrixError(await request(server, undefined, 'GET', '/_matrix/client/v1/media/config'), 401, 'M_MISSING_TOKEN');
  });

  test('preview_url answers an empty preview rather than fetching the URL', async () => {
    const res = await request(server, alice, 'GET', `/_matrix/client/v1/media/preview_url?url=${encodeURIComponent('http://192.168.1.1/admin')}`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, {});
  });

  test('the content type is sniffed from the bytes: a JPEG labelled text/plain is served as image/jpeg', async () => {
    const small = await noiseJpeg(40, 30);
    const { mediaId } = await upload(server, alice, small, 'text/plain');
    const res = await request(server, alice, 'GET', `/_matrix/client/v1/media/download/${server.serverName}/${mediaId}`);
    assert.equal(res.headers.get('content-type'), 'image/jpeg');
    const none = await upload(server, alice, Buffer.from([1, 2, 3, 4]));
    const res2 = await request(server, alice, 'GET', `/_matrix/client/v1/media/download/${server.serverName}/${none.mediaId}`);
    assert.equal(res2.headers.get('content-type'), 'application/octet-stream');
    assert.match(res2.headers.get('content-disposition')!, /^attachment/);
  });

  test('an empty upload is allowed and downloads empty', async () => {
    const { mediaId } = await upload(server, alice, Buffer.alloc(0), 'text/plain');
    const res = await request(server, alice, 'GET', `/_matrix/client/v1/media/download/${server.serverName}/${mediaId}`);
    assert.equal(res.status, 200);
    assert.equal(res.bytes.length, 0);
  });

  test('every JSON answer above was validated against the spec', () => {
    assert.ok(validationCounts().validated >= 20, JSON.stringify(validationCounts()));
  });
});
