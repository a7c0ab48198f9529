// A JSON body over the limit is answered 413 M_TOO_LARGE, however it is sent (with a length or
// chunked), and the answer says Connection: close: the server discards the rest for a while and
// then hangs up, so a client that reused the socket for its next request would see it reset.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Agent, request as httpRequest } from 'node:http';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { assertStillServing } from '../../helpers/checked-call.ts';

/** The parser's limit (homeserver/http/json-body.ts MAX_JSON_BODY_BYTES). */
const LIMIT = 1024 * 1024;

/** A chunked POST (no Content-Length) through `agent`; the whole body is written whatever the answer. */
function post(agent: Agent, server: TestServer, path: string, body: Buffer): Promise<{ status: number; body: string }> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ agent, host: url.hostname, port: url.port, method: 'POST', path, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    for (let at = 0; at < body.length; at += 64 * 1024) req.write(body.subarray(at, at + 64 * 1024));
    req.end();
  });
}

describe('JSON bodies over the limit', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server?.stop();
  });

  test('a chunked JSON body over the limit is answered 413 M_TOO_LARGE with Connection: close while the client is still sending, never a reset', async () => {
    const url = new URL(server.url);
    const socket = connect(Number(url.port), url.hostname);
    await once(socket, 'connect');
    let answer = '';
    let closed = false;
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    socket.on('error', () => {}); // the server hangs up on us in the end
    socket.on('close', () => (closed = true));
    socket.write(`POST /_matrix/client/v3/login HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`);
    // A JSON string that never ends: only its size can refuse it.
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    chunk[0] = 0x22;
    let sent = 0;
    while (!answer.includes('\r\n\r\n') && !closed && sent < 8 * LIMIT) {
      socket.write(`${chunk.length.toString(16)}\r\n`);
      socket.write(chunk);
      socket.write('\r\n');
      sent += chunk.length;
      chunk[0] = 0x61;
      await new Promise((r) => setTimeout(r, 2));
    }
    const deadline = Date.now() + 5_000;
    while (!answer.includes('M_TOO_LARGE') && !closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    socket.destroy();
    assert.match(answer, /^HTTP\/1\.1 413 /, `no answer before the reset: ${JSON.stringify(answer.slice(0, 200))}`);
    assert.match(answer, /\r\nConnection: close\r\n/i, answer.split('\r\n\r\n')[0]);
    assert.match(answer, /"errcode":"M_TOO_LARGE"/);
    await assertStillServing(server);
  });

  test('a client reusing keep-alive connections gets every request after an oversized chunked JSON body answered', async () => {
    // node:http's keep-alive agent sends the whole body and then its next request on the same
    // socket unless the answer said Connection: close.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 3; i++) {
        const refused = await post(agent, server, '/_matrix/client/v3/login', Buffer.alloc(3 * LIMIT, 0x20));
        assert.equal(refused.status, 413);
        assert.match(refused.body, /M_TOO_LARGE/);
        const next = await post(agent, server, '/_matrix/client/v3/login', Buffer.from('{}'));
        assert.equal(next.status, 400, next.body);
      }
    } finally {
      agent.destroy();
    }
  });
});
