// Two (and three) real homeservers federating over HTTPS on loopback with self-signed certificates:
// key exchange, signed requests, refusals, certificate pinning. Every response is checked against
// the server-server OpenAPI.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { rmSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, registerUser, startFederatedTestServer, type TestServer } from '../../helpers/server.ts';
import { serverServerValidator } from '../../helpers/openapi.ts';
import { checkKeyDocument } from '../../../homeserver/federation/keys.ts';
import { signRequest } from '../../../homeserver/federation/request-auth.ts';
import { decodeSigningKeyFile, generateSigningKey } from '../../../homeserver/protocol/signing-key.ts';
import { FederationRequestError } from '../../../homeserver/federation/client.ts';

const validator = serverServerValidator();

/** A raw HTTPS request that accepts any certificate: the test plays a remote server or a prober. */
function raw(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, method, path, headers: { 'content-type': 'application/json', ...headers }, rejectUnauthorized: false },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined }));
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

function validated(method: string, path: string, r: { status: number; body: any }) {
  if (r.status >= 400) validator.validateErrorBody(r.body, `${method} ${path}`);
  else validator.validateResponse(method, path.split('?')[0]!, r.status, r.body);
  return r;
}

describe('federation transport between two Hearth servers', () => {
  let a: TestServer, b: TestServer, c: TestServer;
  let pa: number, pb: number, pc: number;
  const nameOf = (p: number) => `127.0.0.1:${p}`;

  before(async () => {
    [pa, pb, pc] = [await freePort(), await freePort(), await freePort()];
    // C is a private peer of A (it may connect to it on loopback) whose certificate A does not trust.
    a = await startFederatedTestServer(pa, { trustSelfSigned: [nameOf(pb)], privatePeers: [nameOf(pc)] });
    b = await startFederatedTestServer(pb, { trustSelfSigned: [nameOf(pa)], deny: [nameOf(pc)] });
    c = await startFederatedTestServer(pc, { trustSelfSigned: [nameOf(pb)] });
    await registerUser(b, 'bob');
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
  });

  test('version needs no auth and names Hearth', async () => {
    const r = validated('GET', '/_matrix/federation/v1/version', await raw(pb, 'GET', '/_matrix/federation/v1/version'));
    assert.equal(r.status, 200);
    assert.equal(r.body.server.name, 'Hearth');
  });

  test('only federation and key paths are served: others are 404 M_UNRECOGNIZED', async () => {
    const r = await raw(pb, 'GET', '/_matrix/client/versions');
    assert.equal(r.status, 404);
    assert.equal(r.body.errcode, 'M_UNRECOGNIZED');
  });

  test("B's key document is valid per keys_server.yaml, self-signed, valid about a day", async () => {
    for (const path of ['/_matrix/key/v2/server', '/_matrix/key/v2/server/ed25519:whatever']) {
      // The legacy form with a key id answers the same document as the current one.
      const r = validated('GET', '/_matrix/key/v2/server', await raw(pb, 'GET', path));
      const checked = checkKeyDocument(r.body, nameOf(pb));
      assert.notEqual(typeof checked, 'string', String(checked));
      assert.ok(r.body.valid_until_ts > Date.now() + 23 * 3600_000 && r.body.valid_until_ts <= Date.now() + 24 * 3600_000);
    }
  });

  test("A fetches, verifies and caches B's key through RemoteKeys", async () => {
    const doc = (await raw(pb, 'GET', '/_matrix/key/v2/server')).body;
    const keyId = Object.keys(doc.verify_keys)[0]!;
    const key = await a.hs.federation!.remoteKeys.getKey(nameOf(pb), keyId);
    assert.ok(key);
    assert.equal(Buffer.from(key).toString('base64').replace(/=+$/, ''), doc.verify_keys[keyId].key);
    assert.equal(await a.hs.federation!.remoteKeys.getKey(nameOf(pb), 'ed25519:nope'), null);
  });

  test('A serves as a notary for B (GET and POST /_matrix/key/v2/query), adding its signature', async () => {
    const g = validated('GET', `/_matrix/key/v2/query/${nameOf(pb)}`, await raw(pa, 'GET', `/_matrix/key/v2/query/${encodeURIComponent(nameOf(pb))}`));
    assert.equal(g.body.server_keys.length, 1);
    assert.ok(g.body.server_keys[0].signatures[nameOf(pa)], 'notary signature');
    assert.ok(g.body.server_keys[0].signatures[nameOf(pb)], 'origin signature kept');
    const p = validated(
      'POST',
      '/_matrix/key/v2/query',
      await raw(pa, 'POST', '/_matrix/key/v2/query', {}, { server_keys: { [nameOf(pb)]: {}, [nameOf(pa)]: {} } }),
    );
    assert.equal(p.body.server_keys.length, 2);
  });

  test('a signed request from A to B is verified and answered (query/profile)', async () => {
    const path = `/_matrix/federation/v1/query/profile?user_id=${encodeURIComponent(`@bob:${nameOf(pb)}`)}`;
    const body = await a.hs.federation!.client.request<any>(nameOf(pb), 'GET', path);
    validated('GET', '/_matrix/federation/v1/query/profile', { status: 200, body });
    assert.equal(body.displayname, 'bob');
  });

  test('an unsigned or badly signed request is 401 M_UNAUTHORIZED', async () => {
    const path = '/_matrix/federation/v1/query/profile?user_id=%40bob%3A127.0.0.1';
    const none = await raw(pb, 'GET', path);
    assert.equal(none.status, 401);
    assert.equal(none.body.errcode, 'M_UNAUTHORIZED');
    // Signed by a key that is not A's.
    const doc = (await raw(pa, 'GET', '/_matrix/key/v2/server')).body;
    const forged = { ...generateSigningKey(), keyId: Object.keys(doc.verify_keys)[0]! };
    const header = signRequest({ method: 'GET', uri: path, origin: nameOf(pa), destination: nameOf(pb) }, forged);
    const bad = validated('GET', path, await raw(pb, 'GET', path, { authorization: header }));
    assert.equal(bad.status, 401);
    assert.equal(bad.body.errcode, 'M_UNAUTHORIZED');
  });

  test('a request signed for another destination is 401 M_UNAUTHORIZED', async () => {
    await assert.rejects(
      // A signs for C but the bytes go to B: B refuses (destination mismatch).
      (async () => {
        const path = '/_matrix/federation/v1/query/profile?user_id=%40bob%3A127.0.0.1';
        const header = signRequest(
          { method: 'GET', uri: path, origin: nameOf(pa), destination: nameOf(pc) },
          decodeSigningKeyFile(readFileSync(join(a.dataDir, 'signing.key'), 'utf8')),
        );
        const r = await raw(pb, 'GET', path, { authorization: header });
        if (r.status !== 200) throw Object.assign(new Error(r.body.errcode), { status: r.status });
      })(),
      (e: any) => e.status === 401 && e.message === 'M_UNAUTHORIZED',
    );
  });

  test('a denied server is refused with 403 M_FORBIDDEN', async () => {
    const path = `/_matrix/federation/v1/query/profile?user_id=${encodeURIComponent(`@bob:${nameOf(pb)}`)}`;
    await assert.rejects(
      c.hs.federation!.client.request(nameOf(pb), 'GET', path),
      (e: FederationRequestError) => e.status === 403 && e.errcode === 'M_FORBIDDEN',
    );
    // And B will not call C either.
    await assert.rejects(
      b.hs.federation!.client.request(nameOf(pc), 'GET', '/_matrix/federation/v1/version'),
      (e: FederationRequestError) => e.kind === 'forbidden',
    );
  });

  test('a server whose self-signed certificate we were not told to trust is refused', async () => {
    // A trusts only B's certificate; C may be reached (a private peer) but not believed.
    await assert.rejects(a.hs.federation!.client.request(nameOf(pc), 'GET', '/_matrix/federation/v1/version'), (e: FederationRequestError) => e.kind === 'tls');
  });
});

describe('certificate pinning', () => {
  test('a pinned certificate that changes is refused', async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    const bDir = mkdtempSync(join(tmpdir(), 'hearth-pin-'));
    const a = await startFederatedTestServer(pa, { trustSelfSigned: [`127.0.0.1:${pb}`] });
    let b = await startFederatedTestServer(pb, {}, { dataDir: bDir });
    try {
      const v = await a.hs.federation!.client.request<any>(`127.0.0.1:${pb}`, 'GET', '/_matrix/federation/v1/version');
      assert.equal(v.server.name, 'Hearth');
      await b.stop();
      // B comes back with a new certificate (its files removed).
      rmSync(join(bDir, 'federation.crt'));
      b = await startFederatedTestServer(pb, {}, { dataDir: bDir });
      await assert.rejects(
        a.hs.federation!.client.request(`127.0.0.1:${pb}`, 'GET', '/_matrix/federation/v1/version'),
        (e: FederationRequestError) => e.kind === 'tls',
      );
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      rmSync(bDir, { recursive: true, force: true });
    }
  });
});
