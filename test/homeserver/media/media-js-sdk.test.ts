// matrix-js-sdk, a client nobody here wrote, uses the content repository: it uploads an image,
// sends it as an m.image with its info block, and the other user downloads it and its thumbnail
// through the authenticated media URLs the SDK builds. Every JSON response is spec-validated.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { createClient, Preset, MsgType, type MatrixClient } from 'matrix-js-sdk';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { assertNoValidationFailures, clearValidationFailures } from '../../helpers/openapi.ts';
import { fetchFn, quietLogger, registerWithSdk, startSyncing, waitFor } from '../../helpers/sdk.ts';
import { noiseJpeg } from './media-helpers.ts';

describe('matrix-js-sdk sends and receives an image through Hearth', () => {
  let server: TestServer;
  let alice: MatrixClient;
  let bob: MatrixClient;
  let roomId: string;
  let jpeg: Buffer;
  let mxc: string;

  before(async () => {
    clearValidationFailures();
    server = await startTestServer();
    alice = createClient({ baseUrl: server.url, fetchFn, logger: quietLogger, ...(await registerWithSdk(server, 'alice')) });
    bob = createClient({ baseUrl: server.url, fetchFn, logger: quietLogger, ...(await registerWithSdk(server, 'bob')) });
    await startSyncing(alice);
    await startSyncing(bob);
    ({ room_id: roomId } = await alice.createRoom({ preset: Preset.PrivateChat, invite: [bob.getUserId()!] }));
    await waitFor('bob to be invited', () => bob.getRoom(roomId)?.getMyMembership() === 'invite');
    await bob.joinRoom(roomId);
    jpeg = await noiseJpeg(1200, 900);
  });

  after(async () => {
    alice?.stopClient();
    bob?.stopClient();
    await server?.stop();
    assertNoValidationFailures();
  });

  test('the SDK reads the upload limit from the authenticated config endpoint', async () => {
    const config = await alice.getMediaConfig(true);
    assert.equal(config['m.upload.size'], 50 * 1024 * 1024);
  });

  test('uploadContent returns an mxc:// URI of this server', async () => {
    ({ content_uri: mxc } = await alice.uploadContent(new Uint8Array(jpeg), { name: 'kitchen.jpg', type: 'image/jpeg' }));
    assert.match(mxc, new RegExp(`^mxc://${server.serverName}/[A-Za-z0-9_-]+$`));
  });

  test('an m.image with its info block reaches bob intact', async () => {
    const { content_uri: thumbMxc } = await alice.uploadContent(new Uint8Array(await sharp(jpeg).resize(320, 240).jpeg().toBuffer()), {
      type: 'image/jpeg',
      includeFilename: false,
    });
    const content = {
      msgtype: MsgType.Image,
      body: 'kitchen.jpg',
      url: mxc,
      info: { mimetype: 'image/jpeg', size: jpeg.length, w: 1200, h: 900, thumbnail_url: thumbMxc, thumbnail_info: { mimetype: 'image/jpeg', w: 320, h: 240 } },
    };
    // The SDK's content union wants relation fields an image does not have.
    const { event_id } = await alice.sendMessage(roomId, null, content as unknown as Parameters<MatrixClient['sendMessage']>[2]);
    const seen = await waitFor('bob to receive the image', () => bob.getRoom(roomId)?.findEventById(event_id));
    assert.deepEqual(seen.getContent(), content);
  });

  test("bob downloads the original through the SDK's authenticated URL, byte-identical", async () => {
    const url = bob.mxcUrlToHttp(mxc, undefined, undefined, undefined, false, true, true);
    assert.ok(url?.startsWith(`${server.url}/_matrix/client/v1/media/download/`), String(url));
    const res = await fetch(url!, { headers: { authorization: `Bearer ${bob.getAccessToken()}` } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/jpeg');
    assert.equal(res.headers.get('content-disposition'), 'inline; filename="kitchen.jpg"');
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(jpeg));
  });

  test('and a 96x96 crop thumbnail of it', async () => {
    const url = bob.mxcUrlToHttp(mxc, 96, 96, 'crop', false, true, true);
    assert.ok(url?.includes('/_matrix/client/v1/media/thumbnail/'), String(url));
    const res = await fetch(url!, { headers: { authorization: `Bearer ${bob.getAccessToken()}` } });
    assert.equal(res.status, 200);
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 96, 96]);
  });

  test('the unauthenticated legacy URL the SDK builds still works', async () => {
    const url = bob.mxcUrlToHttp(mxc);
    assert.ok(url?.includes('/_matrix/media/v3/download/'), String(url));
    const res = await fetch(url!);
    assert.equal(res.status, 200);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(jpeg));
  });
});
