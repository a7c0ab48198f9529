// Hostile and mistaken requests to the content repository: each gets a standard error, nothing
// outside the media folder is ever served, risky content never renders inline, and the server
// keeps serving.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestServer, registerUser, type TestServer, type TestUser } from '../../helpers/server.ts';
import { assertNoValidationFailures } from '../../helpers/openapi.ts';
import { assertStillServing } from '../../helpers/checked-call.ts';
import { assertMatrixError, noisePng, request, upload } from './media-helpers.ts';

const LIMIT = 64 * 1024;

/** A request sent byte for byte as written: fetch would normalise `..` away before sending. */
function rawGet(server: TestServer, path: string, token?: string): Promise<{ status: number; body: string }> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method: 'GET', path, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Waits for room in the send buffer, the socket's end, or 50 ms (events.once would reject on the hang-up's 'error'). */
function drainOrClose(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(done, 50);
    socket.on('drain', done);
    socket.on('close', done);
  });
}

describe('content repository: bad input', () => {
  let server: TestServer;
  let alice: TestUser;
  let secret: string;

  before(async () => {
    server = await startTestServer({ maxUploadBytes: LIMIT });
    alice = await registerUser(server, 'alice');
    // A file beside the media folder that a traversal would reach.
    secret = 'TOP-SECRET-' + Math.random();
    writeFileSync(join(server.dataDir, 'secret.txt'), secret);
  });

  after(async () => {
    await server?.stop();
    assertNoValidationFailures();
  });

  test('an upload over the limit with Content-Length is refused at once with 413 M_TOO_LARGE', async () => {
    const res = await request(server, alice, 'POST', '/_matrix/media/v3/upload', { body: Buffer.alloc(LIMIT + 1), contentType: 'application/octet-stream' });
    assertMatrixError(res, 413, 'M_TOO_LARGE');
  });

  test('a streamed (chunked) upload is answered 413 as soon as it passes the limit, then cut off', async () => {
    // A raw socket, sending one 8 kB chunk at a time and looking for the answer between chunks:
    // the 413 must arrive while the client is still sending, not after the whole body.
    const url = new URL(server.url);
    const socket = connect(Number(url.port), url.hostname);
    await once(socket, 'connect');
    let answer = '';
    let closed = false;
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    socket.on('error', () => {}); // the server hangs up on us in the end
    socket.on('close', () => (closed = true));
    socket.write(
      `POST /_matrix/media/v3/upload HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${alice.accessToken}\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n`,
    );
    const chunk = Buffer.alloc(8 * 1024, 1);
    const sendChunk = () => socket.write(`${chunk.length.toString(16)}\r\n`) && socket.write(chunk) && socket.write('\r\n');
    let sent = 0;
    while (!answer.includes('\r\n\r\n') && !closed && sent <= 2 * LIMIT) {
      sendChunk();
      sent += chunk.length;
      await new Promise((r) => setTimeout(r, 1));
    }
    // Past twice the limit the client pauses in the middle of its body, which it never ends: the
    // answer can only come from a server that refused as soon as the limit was passed. (No count of
    // the bytes sent before it: how many go through depends on how busy the machine is.)
    const deadline = Date.now() + 10_000;
    while (!answer.includes('\r\n\r\n') && !closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.match(answer, /^HTTP\/1\.1 413 /);
    assert.match(answer, /"errcode":"M_TOO_LARGE"/);
    // A client that keeps sending is hung up on instead of being read forever.
    let after = 0;
    const hangUpBy = Date.now() + 10_000;
    while (!closed && Date.now() < hangUpBy) {
      if (!sendChunk()) await drainOrClose(socket);
      after += chunk.length;
    }
    socket.destroy();
    assert.ok(closed, `the server still reads after ${after} more bytes`);
    assert.deepEqual(readdirSync(join(server.dataDir, 'media', 'tmp')), [], 'the partial temp file is removed');
    await assertStillServing(server, alice);
  });

  test('an upload refused before its body was read says Connection: close, so no next request is sent on a socket about to be cut', async () => {
    // The server answers at once, discards the rest for a while, then hangs up: a client that
    // reused the socket for its next request would see that request reset (found by fuzzing:
    // test/fuzz/client-bodies.fuzz.test.ts, a request failing with ECONNRESET after an upload).
    const url = new URL(server.url);
    const socket = connect(Number(url.port), url.hostname);
    await once(socket, 'connect');
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    socket.on('error', () => {});
    const size = 40 * LIMIT;
    socket.write(
      `POST /_matrix/media/v3/upload HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${alice.accessToken}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${size}\r\n\r\n`,
    );
    socket.write(Buffer.alloc(8 * 1024, 1));
    const deadline = Date.now() + 10_000;
    while (!answer.includes('\r\n\r\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    socket.destroy();
    assert.match(answer, /^HTTP\/1\.1 413 /);
    assert.match(answer, /\r\nConnection: close\r\n/i, answer.split('\r\n\r\n')[0]);
    // And with a client that reuses connections: every request after such an upload is answered.
    for (let i = 0; i < 10; i++) {
      const refused = await request(server, alice, 'POST', '/_matrix/media/v3/upload', { body: Buffer.alloc(size), contentType: 'application/octet-stream' });
      assertMatrixError(refused, 413, 'M_TOO_LARGE');
      await assertStillServing(server, alice);
    }
  });

  test('exactly the limit is accepted', async () => {
    await upload(server, alice, Buffer.alloc(LIMIT, 7), 'application/octet-stream');
  });

  test('an unknown media id is 404 M_NOT_FOUND on download and thumbnail, authenticated or not', async () => {
    for (const path of [
      `/_matrix/client/v1/media/download/${server.serverName}/NoSuchMediaIdAtAll123`,
      `/_matrix/client/v1/media/thumbnail/${server.serverName}/NoSuchMediaIdAtAll123?width=32&height=32`,
      `/_matrix/media/v3/download/${server.serverName}/NoSuchMediaIdAtAll123`,
      `/_matrix/media/v3/download/${server.serverName}/NoSuchMediaIdAtAll123/name.png`,
      `/_matrix/media/r0/thumbnail/${server.serverName}/NoSuchMediaIdAtAll123?width=32&height=32`,
    ]) {
      assertMatrixError(await request(server, alice, 'GET', path), 404, 'M_NOT_FOUND');
    }
  });

  test('media of another server is 404 M_NOT_FOUND (no federation yet); a malformed server name is 400', async () => {
    const { mediaId } = await upload(server, alice, await noisePng(8, 8), 'image/png');
    assertMatrixError(await request(server, alice, 'GET', `/_matrix/client/v1/media/download/elsewhere.example/${mediaId}`), 404, 'M_NOT_FOUND');
    assertMatrixError(await request(server, alice, 'GET', `/_matrix/client/v1/media/download/bad%20name!/${mediaId}`), 400, 'M_INVALID_PARAM');
  });

  const traversals = [
    '..%2F..%2Fsecret.txt',
    '..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd',
    '%2e%2e%2f%2e%2e%2fsecret.txt',
    '..%5C..%5Csecret.txt',
    '..',
    '.',
    '%00',
    'abc%00def',
    '%2Fetc%2Fpasswd',
    '%C0%AE%C0%AE%2Fsecret.txt',
    '%E2%80%AE..',
    'a'.repeat(300),
  ];
  for (const id of traversals) {
    test(`path traversal id ${id.slice(0, 40)} is M_NOT_FOUND and serves nothing`, async () => {
      for (const path of [
        `/_matrix/media/v3/download/${server.serverName}/${id}`,
        `/_matrix/client/v1/media/download/${server.serverName}/${id}`,
        `/_matrix/media/v3/thumbnail/${server.serverName}/${id}?width=32&height=32`,
      ]) {
        const res = await rawGet(server, path, alice.accessToken);
        assert.ok(!res.body.includes(secret) && !res.body.includes('root:'), `${path} leaked a file`);
        assert.ok(res.status === 404 || res.status === 400, `${path}: ${res.status} ${res.body}`);
        const body = JSON.parse(res.body);
        assert.ok(['M_NOT_FOUND', 'M_INVALID_PARAM', 'M_UNRECOGNIZED'].includes(body.errcode), `${path}: ${res.body}`);
      }
    });
  }

  test('raw ../ segments in the path never reach a file', async () => {
    for (const path of [
      `/_matrix/media/v3/download/${server.serverName}/../../secret.txt`,
      `/_matrix/media/v3/download/../../../secret.txt`,
      `/_matrix/media/v3/download/${server.serverName}/x/../../../../secret.txt`,
    ]) {
      const res = await rawGet(server, path);
      assert.ok(!res.body.includes(secret), `${path} leaked the file`);
      assert.ok(res.status >= 400, `${path}: ${res.status}`);
    }
  });

  test('a PUT upload to a traversal id is M_NOT_FOUND', async () => {
    const res = await request(server, alice, 'PUT', `/_matrix/media/v3/upload/${server.serverName}/..%2F..%2Fsecret.txt`, {
      body: 'overwrite',
      contentType: 'text/plain',
    });
    assertMatrixError(res, 404, 'M_NOT_FOUND');
  });

  test('HTML and SVG are served as attachments, whatever they were labelled', async () => {
    const cases: Array<[string, string]> = [
      ['<html><script>alert(1)</script></html>', 'text/html'],
      ['<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', 'image/svg+xml'],
      ['<script>alert(1)</script>', 'application/javascript'],
      ['<?xml version="1.0"?><x/>', 'application/xml'],
    ];
    for (const [body, type] of cases) {
      const { mediaId } = await upload(server, alice, Buffer.from(body), type, 'page.html');
      const res = await request(server, alice, 'GET', `/_matrix/client/v1/media/download/${server.serverName}/${mediaId}`);
      assert.equal(res.headers.get('content-type'), type);
      assert.equal(res.headers.get('content-disposition'), 'attachment; filename="page.html"', type);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.match(res.headers.get('content-security-policy')!, /sandbox/);
    }
  });

  test('a malformed Content-Type is ignored, and a filename with CR/LF cannot split the header', async () => {
    const { mediaId } = await upload(server, alice, Buffer.from('hello'), 'not a type', 'a\r\nSet-Cookie: x=1');
    const res = await request(server, alice, 'GET', `/_matrix/client/v1/media/download/${server.serverName}/${mediaId}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    assert.equal(res.headers.get('set-cookie'), null);
    assert.match(res.headers.get('content-disposition')!, /^attachment; filename\*=utf-8''a%0D%0ASet-Cookie/);
  });

  test('a filename of over 1024 characters is 400 M_INVALID_PARAM', async () => {
    const res = await request(server, alice, 'POST', `/_matrix/media/v3/upload?filename=${'x'.repeat(1025)}`, { body: Buffer.from('x') });
    assertMatrixError(res, 400, 'M_INVALID_PARAM');
  });

  test('the server still serves after all of the above', async () => {
    await assertStillServing(server, alice);
  });
});
