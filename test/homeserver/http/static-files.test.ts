// The web client's files on the client listener (homeserver/http/static-files.ts), over real
// HTTP: content types, caching, the Content-Security-Policy on HTML, and paths that try to leave
// the web root.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { CONTENT_SECURITY_POLICY } from '../../../homeserver/http/static-files.ts';

let server: TestServer;
let scratch: string;

/** A raw GET/HEAD that sends the path exactly as given (fetch would normalise '..' away). */
function raw(method: string, rawPath: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path: rawPath, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
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
  server = await startTestServer({ webRoot: web });
});

after(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('serving the web client', () => {
  test('/ answers index.html as UTF-8 HTML with the strict Content-Security-Policy, not cached', async () => {
    const res = await raw('GET', '/');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(res.body, '<!doctype html><title>Hearth</title>');
    assert.equal(res.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
    for (const directive of ["script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "object-src 'none'"]) {
      assert.ok(CONTENT_SECURITY_POLICY.includes(directive), directive);
    }
    assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe-inline|unsafe-eval/);
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
