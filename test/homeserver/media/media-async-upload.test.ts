// Asynchronous uploads (content-repo.yaml, v1.7): POST /create reserves an mxc:// URI, PUT
// /upload/{serverName}/{mediaId} fills it once, and a download waits for the bytes up to timeout_ms.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestServer, registerUser, type TestServer, type TestUser } from '../../helpers/server.ts';
import { assertNoValidationFailures } from '../../helpers/openapi.ts';
import { assertMatrixError, noisePng, request } from './media-helpers.ts';

describe('content repository: create, then upload', () => {
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;

  before(async () => {
    server = await startTestServer();
    alice = await registerUser(server, 'alice');
    bob = await registerUser(server, 'bob');
  });

  after(async () => {
    await server?.stop();
    assertNoValidationFailures();
  });

  async function create(user: TestUser): Promise<{ mediaId: string; expires: number }> {
    const res = await request(server, user, 'POST', '/_matrix/media/v1/create');
    assert.equal(res.status, 200, res.bytes.toString());
    assert.match(res.json.content_uri, new RegExp(`^mxc://${server.serverName}/[A-Za-z0-9_-]{24}$`));
    return { mediaId: res.json.content_uri.split('/').pop(), expires: res.json.unused_expires_at };
  }

  test('create answers an mxc URI that expires in about 24 hours', async () => {
    const { expires } = await create(alice);
    const day = 24 * 60 * 60 * 1000;
    assert.ok(Math.abs(expires - (Date.now() + day)) < 60_000);
  });

  test('a download started before the upload waits for it and gets the bytes', async () => {
    const { mediaId } = await create(alice);
    const png = await noisePng(64, 48);
    const waiting = request(server, alice, 'GET', `/_matrix/client/v1/media/download/${server.serverName}/${mediaId}?timeout_ms=10000`);
    await new Promise((r) => setTimeout(r, 100));
    const put = await request(server, alice, 'PUT', `/_matrix/media/v3/upload/${server.serverName}/${mediaId}?filename=late.png`, {
      body: png,
      contentType: 'image/png',
    });
    assert.equal(put.status, 200);
    assert.deepEqual(put.json, {});
    const res = await waiting;
    assert.equal(res.status, 200);
    assert.ok(res.bytes.equals(png));
    assert.equal(res.headers.get('content-disposition'), 'inline; filename="late.png"');
  });

  test('a download of a pending id that stays empty is 504 M_NOT_YET_UPLOADED after timeout_ms', async () => {
    const { mediaId } = await create(alice);
    const start = Date.now();
    const res = await request(server, alice, 'GET', `/_matrix/client/v1/media/download/${server.serverName}/${mediaId}?timeout_ms=300`);
    assertMatrixError(res, 504, 'M_NOT_YET_UPLOADED');
    assert.ok(Date.now() - start >= 250, 'answered before the timeout');
    const thumb = await request(server, alice, 'GET', `/_matrix/client/v1/media/thumbnail/${server.serverName}/${mediaId}?width=32&height=32&timeout_ms=0`);
    assertMatrixError(thumb, 504, 'M_NOT_YET_UPLOADED');
  });

  test('a second PUT to the same id is 409 M_CANNOT_OVERWRITE_MEDIA and the first bytes stay', async () => {
    const { mediaId } = await create(alice);
    const first = Buffer.from('first');
    assert.equal(
      (await request(server, alice, 'PUT', `/_matrix/media/v3/upload/${server.serverName}/${mediaId}`, { body: first, contentType: 'text/plain' })).status,
      200,
    );
    assertMatrixError(
      await request(server, alice, 'PUT', `/_matrix/media/v3/upload/${server.serverName}/${mediaId}`, {
        body: Buffer.from('second'),
        contentType: 'text/plain',
      }),
      409,
      'M_CANNOT_OVERWRITE_MEDIA',
    );
    const res = await request(server, undefined, 'GET', `/_matrix/media/v3/download/${server.serverName}/${mediaId}`);
    assert.equal(res.bytes.toString(), 'first');
  });

  test("another user's PUT is 403 M_FORBIDDEN; an id never created is 404 M_NOT_FOUND", async () => {
    const { mediaId } = await create(alice);
    assertMatrixError(
      await request(server, bob, 'PUT', `/_matrix/media/v3/upload/${server.serverName}/${mediaId}`, { body: Buffer.from('x') }),
      403,
      'M_FORBIDDEN',
    );
    assertMatrixError(
      await request(server, bob, 'PUT', `/_matrix/media/v3/upload/${server.serverName}/NeverCreatedId12345`, { body: Buffer.from('x') }),
      404,
      'M_NOT_FOUND',
    );
    assertMatrixError(
      await request(server, alice, 'PUT', `/_matrix/media/v3/upload/elsewhere.example/${mediaId}`, { body: Buffer.from('x') }),
      404,
      'M_NOT_FOUND',
    );
  });

  test('a PUT to an id that came from POST /upload is 409', async () => {
    const res = await request(server, alice, 'POST', '/_matrix/media/v3/upload', { body: Buffer.from('done'), contentType: 'text/plain' });
    const mediaId = res.json.content_uri.split('/').pop();
    assertMatrixError(
      await request(server, alice, 'PUT', `/_matrix/media/v3/upload/${server.serverName}/${mediaId}`, { body: Buffer.from('x') }),
      409,
      'M_CANNOT_OVERWRITE_MEDIA',
    );
  });

  test('at most 50 ids may wait for their upload per user: the next is 429 M_LIMIT_EXCEEDED', async () => {
    const carol = await registerUser(server, 'carol');
    for (let i = 0; i < 50; i++) await create(carol);
    assertMatrixError(await request(server, carol, 'POST', '/_matrix/media/v1/create'), 429, 'M_LIMIT_EXCEEDED');
    // Others are not affected.
    await create(bob);
  });
});
