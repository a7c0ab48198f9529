// Media across two Hearth servers (issue #14, "It must show" 2): an image matrix-js-sdk uploads on
// A is downloaded and thumbnailed by a user of B through B's authenticated media endpoints, B
// fetching it from A over federation (/_matrix/federation/v1/media/download, multipart/mixed).
// Client responses pass through the OpenAPI validator (fetchFn), B's federation answers through
// the server-server one (startFederatedTestServer's observer); A's multipart answer is read
// strictly by content_repository.yaml's rules.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { createClient, type MatrixClient } from 'matrix-js-sdk';
import { freePort, startFederatedTestServer, type TestServer } from '../../helpers/server.ts';
import { assertNoValidationFailures, clearValidationFailures, serverServerValidator } from '../../helpers/openapi.ts';
import { fetchFn, quietLogger, registerWithSdk } from '../../helpers/sdk.ts';
import { decodeSigningKeyFile } from '../../../homeserver/protocol/signing-key.ts';
import { noiseJpeg } from './media-helpers.ts';
import { parseSpecMultipart, signedGet } from './multipart-answer.ts';

describe('an image uploaded on one Hearth server, seen by a user of another', () => {
  let a: TestServer, b: TestServer;
  let alice: MatrixClient, bob: MatrixClient;
  let jpeg: Buffer;
  let mxc: string;

  before(async () => {
    clearValidationFailures();
    const [pa, pb] = [await freePort(), await freePort()];
    a = await startFederatedTestServer(pa, { trustSelfSigned: [`127.0.0.1:${pb}`] });
    b = await startFederatedTestServer(pb, { trustSelfSigned: [`127.0.0.1:${pa}`] });
    alice = createClient({ baseUrl: a.url, fetchFn, logger: quietLogger, ...(await registerWithSdk(a, 'alice')) });
    bob = createClient({ baseUrl: b.url, fetchFn, logger: quietLogger, ...(await registerWithSdk(b, 'bob')) });
    jpeg = await noiseJpeg(1024, 768);
    ({ content_uri: mxc } = await alice.uploadContent(new Uint8Array(jpeg), { name: 'harbour.jpg', type: 'image/jpeg' }));
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    assertNoValidationFailures();
  });

  test("bob on B downloads alice's image from A through the SDK's authenticated URL, byte-identical, with its name", async () => {
    assert.ok(mxc.startsWith(`mxc://${a.serverName}/`), mxc);
    const url = bob.mxcUrlToHttp(mxc, undefined, undefined, undefined, false, true, true);
    assert.ok(url?.startsWith(`${b.url}/_matrix/client/v1/media/download/`), String(url));
    const res = await fetchFn(url!, { headers: { authorization: `Bearer ${bob.getAccessToken()}` } });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(res.headers.get('content-type'), 'image/jpeg');
    assert.equal(res.headers.get('content-disposition'), 'inline; filename="harbour.jpg"');
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(jpeg));
  });

  test('and a 96x96 crop thumbnail of it, made on B', async () => {
    const url = bob.mxcUrlToHttp(mxc, 96, 96, 'crop', false, true, true);
    assert.ok(url?.startsWith(`${b.url}/_matrix/client/v1/media/thumbnail/`), String(url));
    const res = await fetchFn(url!, { headers: { authorization: `Bearer ${bob.getAccessToken()}` } });
    assert.equal(res.status, 200);
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 96, 96]);
  });

  test("A's federation download answer is the spec's multipart/mixed: {} then the bytes with their type and name", async () => {
    const bKey = decodeSigningKeyFile(readFileSync(join(b.dataDir, 'signing.key'), 'utf8'));
    const mediaId = mxc.split('/').pop()!;
    const path = `/_matrix/federation/v1/media/download/${mediaId}`;
    const answer = await signedGet(Number(a.serverName.split(':')[1]), path, b.serverName, a.serverName, bKey);
    assert.equal(answer.status, 200, answer.bytes.toString().slice(0, 300));
    // The operation exists in the spec; its 200 declares no JSON schema to check beyond this.
    assert.equal(serverServerValidator().validateResponse('GET', path, 200, {}), 'no-schema');
    const part = parseSpecMultipart(answer);
    assert.deepEqual(part.metadata, {});
    assert.equal(part.headers['content-type'], 'image/jpeg');
    assert.equal(part.headers['content-disposition'], 'inline; filename="harbour.jpg"');
    assert.ok(part.body.equals(jpeg));
    assert.equal(Number(answer.headers['content-length']), answer.bytes.length);
  });

  test("A's federation thumbnail answer is multipart too, with a standard size; unknown media is a standard 404", async () => {
    const bKey = decodeSigningKeyFile(readFileSync(join(b.dataDir, 'signing.key'), 'utf8'));
    const port = Number(a.serverName.split(':')[1]);
    const mediaId = mxc.split('/').pop()!;
    const answer = await signedGet(
      port,
      `/_matrix/federation/v1/media/thumbnail/${mediaId}?width=300&height=200&method=scale`,
      b.serverName,
      a.serverName,
      bKey,
    );
    assert.equal(answer.status, 200, answer.bytes.toString().slice(0, 300));
    const part = parseSpecMultipart(answer);
    assert.equal(part.headers['content-type'], 'image/jpeg');
    assert.match(part.headers['content-disposition'] ?? '', /^inline\b/);
    const meta = await sharp(part.body).metadata();
    // 300x200 is answered with the 320x240 standard size, scaled: 320 wide keeps 4:3.
    assert.deepEqual([meta.width, meta.height], [320, 240]);
    const missing = await signedGet(port, '/_matrix/federation/v1/media/download/nosuchmedia', b.serverName, a.serverName, bKey);
    assert.equal(missing.status, 404);
    const body = JSON.parse(missing.bytes.toString());
    serverServerValidator().validateErrorBody(body, 'federation media 404');
    assert.equal(body.errcode, 'M_NOT_FOUND');
  });
});
