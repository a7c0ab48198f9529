// Media outlives the process: an acknowledged upload is there after a restart, thumbnails are
// cached on disk, and what a crash left in media/tmp is cleared at start.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { startTestServer, registerUser } from '../../helpers/server.ts';
import { assertNoValidationFailures } from '../../helpers/openapi.ts';
import { noiseJpeg, request, upload } from './media-helpers.ts';

describe('content repository across restarts', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hearth-media-restart-'));
  after(() => {
    rmSync(dataDir, { recursive: true, force: true });
    assertNoValidationFailures();
  });

  test('uploads and their common thumbnails survive a restart; a crashed upload’s temp file is removed', async () => {
    const jpeg = await noiseJpeg(1024, 768);
    let server = await startTestServer({ dataDir });
    const alice = await registerUser(server, 'alice');
    const { mediaId } = await upload(server, alice, jpeg, 'image/jpeg', 'kept.jpg');
    const media = join(dataDir, 'media');
    const file = join(media, mediaId.slice(0, 2), mediaId.slice(2, 4), mediaId);
    assert.ok(existsSync(file), `the upload is stored at ${file}`);
    // The spec's common sizes are made in the background after the upload, unasked.
    const thumbDir = join(media, 'thumbnails', mediaId.slice(0, 2), mediaId.slice(2, 4), mediaId);
    const expected = ['320x240-scale.jpg', '32x32-crop.jpg', '640x480-scale.jpg', '800x600-scale.jpg', '96x96-crop.jpg'];
    const deadline = Date.now() + 15_000;
    const made = () =>
      existsSync(thumbDir)
        ? readdirSync(thumbDir)
            .filter((f) => f.endsWith('.jpg'))
            .sort()
        : [];
    while (made().length < expected.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(made(), expected);
    await server.stop();

    // What an upload interrupted by a crash leaves behind.
    writeFileSync(join(media, 'tmp', 'interrupted-upload'), Buffer.alloc(1000));

    server = await startTestServer({ dataDir });
    try {
      assert.deepEqual(readdirSync(join(media, 'tmp')), [], 'media/tmp is emptied at start');
      const res = await request(server, undefined, 'GET', `/_matrix/media/v3/download/${server.serverName}/${mediaId}`);
      assert.equal(res.status, 200);
      assert.ok(res.bytes.equals(jpeg));
      assert.equal(res.headers.get('content-disposition'), 'inline; filename="kept.jpg"');
      // Served from the cache made before the restart.
      const thumb = await request(server, undefined, 'GET', `/_matrix/media/v3/thumbnail/${server.serverName}/${mediaId}?width=96&height=96&method=crop`);
      assert.equal(thumb.status, 200);
      assert.equal(thumb.headers.get('content-type'), 'image/jpeg');
    } finally {
      await server.stop();
    }
  });
});

describe('stopping during background thumbnail work', () => {
  test('stop() right after an image upload returns promptly and leaves a consistent store', async () => {
    const server = await startTestServer();
    const alice = await registerUser(server, 'alice');
    await upload(server, alice, await noiseJpeg(2000, 1500), 'image/jpeg');
    const start = Date.now();
    await server.stop();
    assert.ok(Date.now() - start < 5_000, `stop took ${Date.now() - start} ms`);
  });
});
