// The configured domains of policy 'lan' (issue #16, part R5): GET/PUT
// /_matrix/client/unstable/org.hearth.lan/domains on a real homeserver over loopback, with SQLite in
// a temp dir. Only a server admin changes them; bad names are refused; they persist and win over
// the config file; and they take effect at once for federation in and out.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { registerUser, freePort, startFederatedTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';
import { signedRequest } from '../../helpers/federation.ts';
import { decodeSigningKeyFile } from '../../../homeserver/protocol/signing-key.ts';
import { FederationRequestError } from '../../../homeserver/federation/client.ts';
import { MAX_LAN_DOMAINS } from '../../../homeserver/clientapi/lan.ts';
import { TableDiscovery, lan, startLanServer, type LanServer } from './lan-server.ts';

const scratch: string[] = [];
after(() => scratch.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('configured domains: who may read and change them, and what is refused', () => {
  let s: LanServer;
  let user: TestUser;
  before(async () => {
    s = await startLanServer({ federation: { policy: 'lan', domains: ['configured.example'] } });
    scratch.push(s.dataDir);
    user = await registerUser(s, 'someone');
  });
  after(() => s?.stop());

  test('GET /domains gives the config file domains and the policy to any signed-in user, not to anonymous callers', async () => {
    const got = await lan(s, user, 'GET', '/domains');
    assert.equal(got.status, 200, JSON.stringify(got.body));
    assert.deepEqual(got.body, { domains: ['configured.example'], policy: 'lan' });
    const anonymous = await lan(s, undefined, 'GET', '/domains');
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body.errcode, 'M_MISSING_TOKEN');
  });

  test('PUT /domains by a user who is not a server admin is 403 M_FORBIDDEN and changes nothing', async () => {
    const got = await lan(s, user, 'PUT', '/domains', { domains: ['other.example'] });
    assert.equal(got.status, 403);
    assert.equal(got.body.errcode, 'M_FORBIDDEN');
    assert.deepEqual((await lan(s, user, 'GET', '/domains')).body.domains, ['configured.example']);
    assert.deepEqual(s.hs.federation!.acl.domainList, ['configured.example']);
  });

  test('names that are not server names, and more than the bound, are 400 M_INVALID_PARAM; wrong types are 400 M_BAD_JSON; nothing changes', async () => {
    const tooMany = Array.from({ length: MAX_LAN_DOMAINS + 1 }, (_, i) => `s${i}.example.org`);
    for (const domains of [['not a name!'], ['example.org:99999999'], ['https://example.org'], ['exa_mple.org'], [''], ['[::1'], tooMany]) {
      const got = await lan(s, s.admin, 'PUT', '/domains', { domains });
      assert.equal(got.status, 400, JSON.stringify(domains).slice(0, 80));
      assert.equal(got.body.errcode, 'M_INVALID_PARAM', JSON.stringify(domains).slice(0, 80));
    }
    for (const body of [{}, { domains: 'example.org' }, { domains: [42] }, { domains: null }]) {
      const got = await lan(s, s.admin, 'PUT', '/domains', body);
      assert.equal(got.status, 400, JSON.stringify(body));
      assert.equal(got.body.errcode, 'M_BAD_JSON', JSON.stringify(body));
    }
    assert.deepEqual((await lan(s, s.admin, 'GET', '/domains')).body.domains, ['configured.example']);
  });

  test('an admin sets the domains: kept without duplicates (case-insensitive), IP literals and ports allowed, the bound itself allowed', async () => {
    const put = await lan(s, s.admin, 'PUT', '/domains', { domains: ['example.org', 'Example.ORG', 'matrix.example.com:8448', '10.0.0.7', '[::1]:8448'] });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.deepEqual(put.body, {});
    assert.deepEqual((await lan(s, user, 'GET', '/domains')).body.domains, ['example.org', 'matrix.example.com:8448', '10.0.0.7', '[::1]:8448']);
    // GET /sharing tells the same.
    assert.deepEqual((await lan(s, user, 'GET', '/sharing')).body.domains, ['example.org', 'matrix.example.com:8448', '10.0.0.7', '[::1]:8448']);
    const atBound = Array.from({ length: MAX_LAN_DOMAINS }, (_, i) => `s${i}.example.org`);
    assert.equal((await lan(s, s.admin, 'PUT', '/domains', { domains: atBound })).status, 200);
    assert.equal((await lan(s, s.admin, 'GET', '/domains')).body.domains.length, MAX_LAN_DOMAINS);
    assert.equal((await lan(s, s.admin, 'PUT', '/domains', { domains: [] })).status, 200);
    assert.deepEqual((await lan(s, s.admin, 'GET', '/domains')).body.domains, []);
  });
});

describe('configured domains persist', () => {
  test('domains set at run time win over federation.domains after a restart, and the restarted server federates by them', async () => {
    const first = await startLanServer({ federation: { policy: 'lan', domains: ['from-config.example'] } });
    scratch.push(first.dataDir);
    try {
      assert.equal((await lan(first, first.admin, 'PUT', '/domains', { domains: ['set-at-run-time.example'] })).status, 200);
    } finally {
      await first.stop();
    }
    const again = await startLanServer({ dataDir: first.dataDir, fedPort: first.fedPort, federation: { policy: 'lan', domains: ['from-config.example'] } });
    try {
      assert.deepEqual((await lan(again, again.admin, 'GET', '/domains')).body.domains, ['set-at-run-time.example']);
      const acl = again.hs.federation!.acl;
      assert.equal(acl.allows('set-at-run-time.example'), true);
      assert.equal(acl.allows('from-config.example'), false);
    } finally {
      await again.stop();
    }
  });
});

describe('configured domains change federation at once', () => {
  // A: a desktop (lan, policy 'lan', sharing on so its listener is open); B: an ordinary
  // federating server on loopback, which A trusts self-signed so that it may be reached at all.
  let a: LanServer;
  let b: TestServer;
  before(async () => {
    const aPort = await freePort();
    b = await startFederatedTestServer(await freePort(), { trustSelfSigned: [`127.0.0.1:${aPort}`] });
    a = await startLanServer({
      fedPort: aPort,
      sharing: true,
      discovery: new TableDiscovery(),
      federation: { policy: 'lan', trustSelfSigned: [b.serverName] },
    });
    scratch.push(a.dataDir);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  const inbound = () =>
    signedRequest(a.fedPort, {
      method: 'GET',
      path: `/_matrix/federation/v1/query/profile?user_id=${encodeURIComponent(`@nobody:${a.serverName}`)}`,
      origin: b.serverName,
      destination: a.serverName,
      key: decodeSigningKeyFile(readFileSync(join(b.dataDir, 'signing.key'), 'utf8')),
    });
  const outbound = () => a.hs.federation!.client.request(b.serverName, 'GET', '/_matrix/federation/v1/version').catch((e: unknown) => e);

  test('B is refused both ways before, allowed both ways once an admin adds it, refused again once removed', async () => {
    const before = await inbound();
    assert.equal(before.status, 403, JSON.stringify(before.body));
    const refusedOut = await outbound();
    assert.ok(refusedOut instanceof FederationRequestError, String(refusedOut));
    assert.equal(refusedOut.kind, 'forbidden');

    assert.equal((await lan(a, a.admin, 'PUT', '/domains', { domains: [b.serverName] })).status, 200);
    const allowedIn = await inbound();
    assert.equal(allowedIn.status, 404, JSON.stringify(allowedIn.body)); // Through the ACL: no such user.
    const allowedOut = (await outbound()) as { server?: { name?: string } };
    assert.equal(allowedOut.server?.name, 'Hearth', JSON.stringify(allowedOut));

    assert.equal((await lan(a, a.admin, 'PUT', '/domains', { domains: [] })).status, 200);
    const after = await inbound();
    assert.equal(after.status, 403, JSON.stringify(after.body));
    const refusedAgain = await outbound();
    assert.ok(refusedAgain instanceof FederationRequestError, String(refusedAgain));
    assert.equal(refusedAgain.kind, 'forbidden');
  });
});

describe('configured domains while sharing could not start', () => {
  class BrokenDiscovery extends TableDiscovery {
    override async start(): Promise<void> {
      throw new Error('no multicast here');
    }
  }

  test('a domains change is applied (200), not answered 503 by a retry of the switch', async () => {
    const s = await startLanServer({ sharing: true, discovery: new BrokenDiscovery(), federation: { policy: 'lan' } });
    scratch.push(s.dataDir);
    try {
      const got = await lan(s, s.admin, 'PUT', '/domains', { domains: ['example.org'] });
      assert.equal(got.status, 200, JSON.stringify(got.body));
      assert.deepEqual((await lan(s, s.admin, 'GET', '/domains')).body.domains, ['example.org']);
      assert.equal(s.hs.federation!.acl.allows('example.org'), true);
    } finally {
      await s.stop();
    }
  });
});
