// OpenID (openid.yaml, server-server openid.yaml, server-server-api.md "OpenID"): a user asks for
// a token through matrix-js-sdk's getOpenIdToken, and a third party exchanges it on the
// federation listener's /openid/userinfo, which takes no X-Matrix signature, for the user id.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'matrix-js-sdk';
import { call, freePort, registerUser, startFederatedTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';
import { fetchFn, quietLogger } from '../../helpers/sdk.ts';
import { serverServerValidator } from '../../helpers/openapi.ts';
import { Database } from '../../../homeserver/storage/database.ts';
import { MAX_OPENID_TOKENS_PER_USER, OPENID_TOKEN_LIFETIME_MS, OpenIdTokens } from '../../../homeserver/users/openid-tokens.ts';

const ssValidator = serverServerValidator();

describe('OpenID tokens', () => {
  let server: TestServer;
  let port: number;
  let alice: TestUser;
  let bob: TestUser;

  before(async () => {
    port = await freePort();
    server = await startFederatedTestServer(port);
    alice = await registerUser(server, 'alice');
    bob = await registerUser(server, 'bob');
  });
  after(async () => {
    await server?.stop();
  });

  /** GET /openid/userinfo on the federation listener, unsigned as a third party calls it; checked against the spec. */
  function userinfo(token: string): Promise<{ status: number; body: any }> {
    const path = `/_matrix/federation/v1/openid/userinfo?access_token=${encodeURIComponent(token)}`;
    return new Promise((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port, path, rejectUnauthorized: false }, (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => {
            const body = JSON.parse(text);
            if (ssValidator.validateResponse('get', path, res.statusCode!, body) === 'no-schema') ssValidator.validateErrorBody(body);
            resolve({ status: res.statusCode!, body });
          });
        })
        .on('error', reject);
    });
  }

  test("getOpenIdToken through matrix-js-sdk gives a token that /openid/userinfo, unsigned, exchanges for the user's id", async () => {
    const sdk = createClient({ baseUrl: server.url, fetchFn, logger: quietLogger, userId: alice.userId, accessToken: alice.accessToken });
    const token = await sdk.getOpenIdToken();
    assert.equal(token.token_type, 'Bearer');
    assert.equal(token.matrix_server_name, server.serverName);
    assert.equal(token.expires_in, OPENID_TOKEN_LIFETIME_MS / 1000);
    assert.deepEqual(await userinfo(token.access_token), { status: 200, body: { sub: alice.userId } });
  });

  test('an unknown token answers 401 M_UNKNOWN_TOKEN, and so does a client access token', async () => {
    for (const t of ['junk', alice.accessToken, '']) {
      const res = await userinfo(t);
      assert.equal(res.status, 401);
      assert.equal(res.body.errcode, 'M_UNKNOWN_TOKEN');
    }
  });

  test('an OpenID token is good for nothing else: as a client access token it is refused', async () => {
    const { status, body } = await call(server, alice, 'POST', `/user/${encodeURIComponent(alice.userId)}/openid/request_token`, {});
    assert.equal(status, 200);
    assert.equal(typeof body.access_token, 'string');
    assert.equal((await userinfo(body.access_token)).body.sub, alice.userId);
    const res = await call(server, { ...alice, accessToken: body.access_token }, 'GET', '/account/whoami');
    assert.equal(res.status, 401);
    assert.equal(res.body.errcode, 'M_UNKNOWN_TOKEN');
  });

  test('a token for another user is refused (403): only for yourself', async () => {
    const res = await call(server, bob, 'POST', `/user/${encodeURIComponent(alice.userId)}/openid/request_token`, {});
    assert.equal(res.status, 403);
    assert.equal(res.body.errcode, 'M_FORBIDDEN');
  });
});

describe('OpenID token store', () => {
  let dir: string;
  let db: Database;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hearth-openid-'));
    db = await Database.open(join(dir, 'db.sqlite'));
  });
  after(async () => {
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a token expires after its lifetime, and a user holds at most MAX_OPENID_TOKENS_PER_USER: the oldest goes first', async () => {
    let now = 1_000_000;
    const tokens = new OpenIdTokens(db, () => now);
    const first = await tokens.issue('@u:x');
    assert.equal(await tokens.owner(first.token), '@u:x');
    now += OPENID_TOKEN_LIFETIME_MS;
    assert.equal(await tokens.owner(first.token), undefined, 'expired');
    const issued: string[] = [];
    for (let i = 0; i < MAX_OPENID_TOKENS_PER_USER + 1; i++) {
      now += 1;
      issued.push((await tokens.issue('@u:x')).token);
    }
    assert.equal(await tokens.owner(issued[0]!), undefined, 'the oldest was dropped');
    for (const t of issued.slice(1)) assert.equal(await tokens.owner(t), '@u:x');
    const rows = await db.reader.get<{ n: number }>("SELECT COUNT(*) AS n FROM openid_tokens WHERE user_id = '@u:x'");
    assert.equal(rows?.n, MAX_OPENID_TOKENS_PER_USER);
  });
});
