// The web client's files on the client listener (homeserver/http/static-files.ts), over real
// HTTP: content types, caching, the Content-Security-Policy on HTML, and paths that try to leave
// the web root.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { CONTENT_SECURITY_POLICY } from '../../../homeserver/http/static-files.ts';

let server: TestServer;
let scratch: string;
/** A built chunk with compressed copies beside it, as renderer/vite.config.ts writes them. */
const APP_JS = `export const greeting = ${JSON.stringify('hello '.repeat(500))};\n`;

/**
 * A raw GET/HEAD that sends the path exactly as given (fetch would normalise '..' away) and
 * decodes nothing: `bytes` is the body as sent, `body` the same read as UTF-8.
 */
function raw(
  method: string,
  rawPath: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string; bytes: Buffer }> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path: rawPath, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        resolve({ status: res.statusCode!, headers: res.headers, body: bytes.toString('utf8'), bytes });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

before(async () => {
  scratch = mkdtempSync(path.join(tmpdir(), 'hearth-static-'));
  const web = path.join(scratch, 'web');
  mkdirSync(path.join(web, 'assets'), { recursive: true });
  writeFileSync(path.join(web, 'index.html'), '<!doctype html><title>Hearth</title>');
  writeFileSync(path.join(web, 'assets', 'index-AbCdEf12.js'), 'console.log(1)');
  writeFileSync(path.join(web, 'assets', 'index-AbCdEf12.css'), 'body{}');
  writeFileSync(path.join(web, 'robots.txt'), 'User-agent: *');
  writeFileSync(path.join(web, '.env'), 'SECRET=1');
  writeFileSync(path.join(scratch, 'outside.txt'), 'not for the web');
  symlinkSync(path.join(scratch, 'outside.txt'), path.join(web, 'escape.txt'));
  writeFileSync(path.join(web, 'assets', 'app-AbCdEf12.js'), APP_JS);
  writeFileSync(path.join(web, 'assets', 'app-AbCdEf12.js.br'), brotliCompressSync(APP_JS));
  writeFileSync(path.join(web, 'assets', 'app-AbCdEf12.js.gz'), gzipSync(APP_JS));
  writeFileSync(path.join(web, 'assets', 'lone-AbCdEf12.js'), APP_JS);
  symlinkSync(path.join(scratch, 'outside.txt'), path.join(web, 'assets', 'lone-AbCdEf12.js.br'));
  server = await startTestServer({ webRoot: web });
});

after(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('serving the web client', () => {
  test('/ answers index.html as UTF-8 HTML with the strict Content-Security-Policy (WebAssembly but no eval), not cached', async () => {
    const res = await raw('GET', '/');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(res.body, '<!doctype html><title>Hearth</title>');
    assert.equal(res.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
    for (const directive of [
      "script-src 'self' 'wasm-unsafe-eval'",
      "style-src 'self'",
      "connect-src 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
      "object-src 'none'",
    ]) {
      assert.ok(CONTENT_SECURITY_POLICY.includes(directive), directive);
    }
    // WebAssembly compiles (the crypto), script is never eval'd.
    assert.doesNotMatch(CONTENT_SECURITY_POLICY, /'unsafe-inline'|'unsafe-eval'/);
    assert.equal(res.headers['cache-control'], 'no-cache');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
  });

  test('hashed assets get their content type and a year-long immutable cache, without a CSP', async () => {
    const js = await raw('GET', '/assets/index-AbCdEf12.js');
    assert.equal(js.status, 200);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(js.headers['content-security-policy'], undefined);
    const css = await raw('GET', '/assets/index-AbCdEf12.css');
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
    const txt = await raw('GET', '/robots.txt');
    assert.equal(txt.headers['cache-control'], 'no-cache', 'an unhashed file is revalidated');
  });

  test('HEAD answers the headers and length without a body; a matching ETag answers 304', async () => {
    const head = await raw('HEAD', '/assets/index-AbCdEf12.js');
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String('console.log(1)'.length));
    assert.equal(head.body, '');
    const etag = head.headers.etag as string;
    assert.ok(etag);
    const again = await raw('GET', '/assets/index-AbCdEf12.js', { 'if-none-match': etag });
    assert.equal(again.status, 304);
  });

  test('a file built with .br and .gz copies is sent brotli-encoded to a browser that accepts br, else gzip, else as is; Vary names Accept-Encoding', async () => {
    const chrome = await raw('GET', '/assets/app-AbCdEf12.js', { 'accept-encoding': 'gzip, deflate, br, zstd' });
    assert.equal(chrome.status, 200);
    assert.equal(chrome.headers['content-encoding'], 'br');
    assert.equal(chrome.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(chrome.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(chrome.headers.vary, 'Accept-Encoding');
    assert.equal(chrome.headers['content-length'], String(chrome.bytes.length));
    assert.ok(chrome.bytes.length < APP_JS.length / 4, 'the compressed copy is what was sent');
    assert.equal(brotliDecompressSync(chrome.bytes).toString('utf8'), APP_JS);

    const gzip = await raw('GET', '/assets/app-AbCdEf12.js', { 'accept-encoding': 'gzip' });
    assert.equal(gzip.headers['content-encoding'], 'gzip');
    assert.equal(gunzipSync(gzip.bytes).toString('utf8'), APP_JS);

    const refused = await raw('GET', '/assets/app-AbCdEf12.js', { 'accept-encoding': 'br;q=0, gzip;q=0' });
    const plain = await raw('GET', '/assets/app-AbCdEf12.js');
    for (const res of [refused, plain]) {
      assert.equal(res.headers['content-encoding'], undefined);
      assert.equal(res.headers.vary, 'Accept-Encoding');
      assert.equal(res.body, APP_JS);
    }
  });

  test('each encoding has its own ETag, and a conditional request is answered 304 only for the same encoding', async () => {
    const br = await raw('HEAD', '/assets/app-AbCdEf12.js', { 'accept-encoding': 'br' });
    const plain = await raw('HEAD', '/assets/app-AbCdEf12.js');
    assert.notEqual(br.headers.etag, plain.headers.etag);
    assert.equal((await raw('GET', '/assets/app-AbCdEf12.js', { 'accept-encoding': 'br', 'if-none-match': br.headers.etag as string })).status, 304);
    assert.equal((await raw('GET', '/assets/app-AbCdEf12.js', { 'if-none-match': br.headers.etag as string })).status, 200);
  });

  test('a compressed copy that is a symlink out of the web root is ignored: the file is sent as is', async () => {
    const res = await raw('GET', '/assets/lone-AbCdEf12.js', { 'accept-encoding': 'br' });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-encoding'], undefined);
    assert.equal(res.body, APP_JS);
  });

  test('a file without compressed copies varies on nothing', async () => {
    const res = await raw('GET', '/assets/index-AbCdEf12.js', { 'accept-encoding': 'br, gzip' });
    assert.equal(res.headers['content-encoding'], undefined);
    assert.equal(res.headers.vary, undefined);
    assert.equal(res.body, 'console.log(1)');
  });

  const escapes: Array<[string, string]> = [
    ['a dot-dot segment', '/../outside.txt'],
    ['an encoded dot-dot', '/%2e%2e/outside.txt'],
    ['an encoded slash and dot-dot', '/assets/..%2f..%2foutside.txt'],
    ['an encoded backslash', '/..%5coutside.txt'],
    ['a NUL byte', '/index.html%00.txt'],
    ['a malformed escape', '/%E0%A4%A'],
    ['a dot-file', '/.env'],
    ['a symlink that points outside the web root', '/escape.txt'],
    ['a missing file', '/nope.js'],
    ['a folder', '/assets'],
  ];
  for (const [what, p] of escapes) {
    test(`${what} (${p}) is not served`, async () => {
      const res = await raw('GET', p);
      assert.equal(res.status, 404);
      assert.doesNotMatch(res.body, /not for the web|SECRET/);
    });
  }

  test('other methods and the API paths are left to the API: POST / and GET /_matrix/... are M_UNRECOGNIZED', async () => {
    const post = await raw('POST', '/');
    assert.equal(post.status, 404);
    assert.equal(JSON.parse(post.body).errcode, 'M_UNRECOGNIZED');
    const api = await raw('GET', '/_matrix/client/v3/nothing-here');
    assert.equal(JSON.parse(api.body).errcode, 'M_UNRECOGNIZED');
    const versions = await raw('GET', '/_matrix/client/versions');
    assert.equal(versions.status, 200, 'the API still answers next to the files');
  });
});
