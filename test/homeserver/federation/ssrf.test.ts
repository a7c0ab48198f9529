// Server-side request forgery (issue #13, class 5): requests that name a server make Hearth
// connect only to public addresses, or to the peers the user configured. A TCP listener on
// 127.0.0.1 counts the connections it gets: requests naming it must give none unless it is a
// configured peer. Real servers, real sockets; only DNS is faked (the world we do not own).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import https from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call, freePort, registerUser, startFederatedTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';
import { signedRequest } from '../../helpers/federation.ts';
import { generateSigningKey } from '../../../homeserver/protocol/signing-key.ts';
import { signRequest } from '../../../homeserver/federation/request-auth.ts';
import { FederationClient, FederationRequestError, fetchWellKnown } from '../../../homeserver/federation/client.ts';
import { connectGuard } from '../../../homeserver/federation/guarded-connect.ts';
import { ServerResolver } from '../../../homeserver/federation/discovery.ts';
import { ServerAcl } from '../../../homeserver/federation/server-acl.ts';
import { AddressPolicy } from '../../../homeserver/federation/address-policy.ts';
import { Database } from '../../../homeserver/storage/database.ts';
import { MAX_FETCHES_PER_KEY_QUERY } from '../../../homeserver/federation/routes/keys.ts';

/** A TCP listener on 127.0.0.1 that counts connections and closes each at once. */
async function countingListener(): Promise<{ port: number; name: string; connections: () => number; close: () => Promise<void> }> {
  let count = 0;
  const server = net.createServer((socket) => {
    count++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    name: `127.0.0.1:${port}`,
    connections: () => count,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** An unauthenticated HTTPS request to a federation listener (the prober's view). */
function federationCall(
  port: number,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any }> {
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

describe('outbound federation reaches only public addresses and configured peers', () => {
  let target: Awaited<ReturnType<typeof countingListener>>;
  let pa: number;
  let a: TestServer;
  let alice: TestUser;

  before(async () => {
    target = await countingListener();
    pa = await freePort();
    a = await startFederatedTestServer(pa);
    alice = await registerUser(a, 'alice');
  });
  after(async () => {
    await a.stop();
    await target.close();
  });

  test('an unauthenticated key query naming 127.0.0.1:PORT makes no connection to it', async () => {
    const r1 = await federationCall(pa, 'GET', `/_matrix/key/v2/query/${encodeURIComponent(target.name)}`);
    assert.equal(r1.status, 200);
    assert.deepEqual(r1.body.server_keys, []);
    const r2 = await federationCall(pa, 'POST', '/_matrix/key/v2/query', { server_keys: { [target.name]: {}, '[::ffff:127.0.0.1]:22': {} } });
    assert.equal(r2.status, 200);
    assert.deepEqual(r2.body.server_keys, []);
    assert.equal(target.connections(), 0);
  });

  test('an X-Matrix request whose origin is 127.0.0.1:PORT is refused without connecting to it', async () => {
    const r = await signedRequest(pa, {
      method: 'GET',
      path: '/_matrix/federation/v1/query/profile?user_id=%40alice%3A127.0.0.1',
      origin: target.name,
      destination: `127.0.0.1:${pa}`,
      key: generateSigningKey(),
    });
    assert.equal(r.status, 401);
    assert.equal(r.body.errcode, 'M_UNAUTHORIZED');
    assert.equal(target.connections(), 0);
  });

  test('a profile query for @a:127.0.0.1:PORT is 502 without connecting to it', async () => {
    const r = await call(a, alice, 'GET', `/profile/${encodeURIComponent(`@a:${target.name}`)}`);
    assert.equal(r.status, 502);
    assert.equal(r.body.errcode, 'M_UNKNOWN');
    assert.equal(target.connections(), 0);
  });

  test('a join by an alias on 127.0.0.1:PORT fails without connecting to it', async () => {
    const r = await call(a, alice, 'POST', `/join/${encodeURIComponent(`#room:${target.name}`)}`, {});
    assert.ok(r.status >= 400 && r.status !== 500, `status ${r.status}`);
    assert.equal(target.connections(), 0);
  });

  test('a join by room id via 127.0.0.1:PORT fails without connecting to it', async () => {
    const r = await call(a, alice, 'POST', `/join/${encodeURIComponent(`!room:${target.name}`)}?server_name=${encodeURIComponent(target.name)}`, {});
    assert.ok(r.status >= 400 && r.status !== 500, `status ${r.status}`);
    assert.equal(target.connections(), 0);
  });
});

describe('configured peers may be reached at private addresses', () => {
  test('a profile query for a user of a name in federation.private_peers connects to it', async () => {
    const target = await countingListener();
    const b = await startFederatedTestServer(await freePort(), { privatePeers: [target.name] });
    try {
      const bob = await registerUser(b, 'bob');
      const r = await call(b, bob, 'GET', `/profile/${encodeURIComponent(`@a:${target.name}`)}`);
      // The listener is no federation server: the request fails, but it was made.
      assert.equal(r.status, 502);
      assert.equal(target.connections(), 1);
    } finally {
      await b.stop();
      await target.close();
    }
  });

  test('one unauthenticated notary query makes us fetch the keys of MAX_FETCHES_PER_KEY_QUERY servers at most', async () => {
    const targets = await Promise.all(Array.from({ length: MAX_FETCHES_PER_KEY_QUERY + 5 }, () => countingListener()));
    const pb = await freePort();
    const b = await startFederatedTestServer(pb, { privatePeers: targets.map((t) => t.name) });
    try {
      const serverKeys = Object.fromEntries([['not a server name', {}], ...targets.map((t) => [t.name, {}])]);
      const r = await federationCall(pb, 'POST', '/_matrix/key/v2/query', { server_keys: serverKeys });
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.server_keys, []);
      const contacted = targets.filter((t) => t.connections() > 0).length;
      assert.equal(contacted, MAX_FETCHES_PER_KEY_QUERY);
    } finally {
      await b.stop();
      await Promise.all(targets.map((t) => t.close()));
    }
  });

  test('an X-Matrix request from a configured peer with a malformed signature fetches no key', async () => {
    const target = await countingListener();
    const pb = await freePort();
    const b = await startFederatedTestServer(pb, { privatePeers: [target.name] });
    try {
      const path = '/_matrix/federation/v1/query/profile?user_id=%40bob%3A127.0.0.1';
      const good = signRequest({ method: 'GET', uri: path, origin: target.name, destination: `127.0.0.1:${pb}` }, generateSigningKey());
      for (const header of [
        good.replace(/sig="[^"]+"/, 'sig="not-base64!"'),
        good.replace(/sig="[^"]+"/, 'sig="AAAA"'),
        good.replace(/key="[^"]+"/, 'key="rsa:1"'),
      ]) {
        const r = await federationCall(pb, 'GET', path, undefined, { authorization: header });
        assert.equal(r.status, 401, header);
        assert.equal(r.body.errcode, 'M_UNAUTHORIZED');
      }
      assert.equal(target.connections(), 0);
      // The well-formed request is what makes B ask the peer for its keys.
      await federationCall(pb, 'GET', path, undefined, { authorization: good });
      assert.equal(target.connections(), 1);
    } finally {
      await b.stop();
      await target.close();
    }
  });
});

describe('the address policy applies to the address connected to, and failures back off', () => {
  let dir: string;
  let db: Database;
  let target: Awaited<ReturnType<typeof countingListener>>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hearth-ssrf-'));
    db = await Database.open(join(dir, 'hearth.db'));
    target = await countingListener();
  });
  after(async () => {
    await db.close();
    await target.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A client whose DNS says every name is 127.0.0.1 (no SRV, no .well-known); the clock is frozen. */
  function client(policy: AddressPolicy): FederationClient {
    const resolver = new ServerResolver({
      now: () => 1_000_000,
      resolveSrv: async () => [],
      fetchWellKnown: async () => ({ ok: false }),
      lookup: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    return new FederationClient({
      serverName: 'us.example',
      signingKey: generateSigningKey(),
      db,
      acl: new ServerAcl(),
      trustSelfSigned: [],
      policy,
      resolver,
      now: () => 1_000_000,
    });
  }

  test('a public-looking name that resolves to 127.0.0.1 is refused at connect time', async () => {
    const c = client(new AddressPolicy());
    const name = `rebind.example:${target.port}`;
    await assert.rejects(
      c.request(name, 'GET', '/_matrix/federation/v1/version'),
      (e: FederationRequestError) => e.message === `Cannot reach ${name}` && e.status === 502,
    );
    assert.equal(target.connections(), 0);
    c.close();
  });

  test('a numeric host name the system resolver reads as 127.0.0.1 (2130706433, 0x7f.1) is refused', async () => {
    const resolver = new ServerResolver({ now: () => 1_000_000, resolveSrv: async () => [], fetchWellKnown: async () => ({ ok: false }) });
    const c = new FederationClient({ serverName: 'us.example', signingKey: generateSigningKey(), db, acl: new ServerAcl(), trustSelfSigned: [], resolver });
    for (const name of [`2130706433:${target.port}`, `0x7f.1:${target.port}`]) {
      await assert.rejects(c.request(name, 'GET', '/_matrix/federation/v1/version'), (e: FederationRequestError) => e.message === `Cannot reach ${name}`);
    }
    assert.equal(target.connections(), 0);
    c.close();
  });

  test('the same name configured as a peer is contacted; a flood of requests after its failure makes no more connections', async () => {
    const name = `lan.example:${target.port}`;
    const c = client(new AddressPolicy([name]));
    const before = target.connections();
    for (let i = 0; i < 20; i++) {
      await assert.rejects(c.request(name, 'GET', '/_matrix/federation/v1/version'), (e: FederationRequestError) => e.message === `Cannot reach ${name}`);
    }
    assert.equal(target.connections() - before, 1);
    // Traffic from the server shows it is back: the next request connects again.
    c.markAlive(name);
    await assert.rejects(c.request(name, 'GET', '/_matrix/federation/v1/version'));
    assert.equal(target.connections() - before, 2);
    c.close();
  });

  test('concurrent requests naming a server not known alive make one connection, not one each', async () => {
    // A listener that accepts and never answers: the first attempt waits for its timeout.
    const held: net.Socket[] = [];
    const silent = net.createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    let connections = 0;
    silent.on('connection', () => connections++);
    const name = `silent.example:${port}`;
    const resolver = new ServerResolver({
      now: () => 1_000_000,
      resolveSrv: async () => [],
      fetchWellKnown: async () => ({ ok: false }),
      lookup: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    const c = new FederationClient({
      serverName: 'us.example',
      signingKey: generateSigningKey(),
      db,
      acl: new ServerAcl(),
      trustSelfSigned: [],
      policy: new AddressPolicy([name]),
      resolver,
      now: () => 1_000_000,
      timeoutMs: 300,
    });
    try {
      const flood = Array.from({ length: 20 }, () => c.request(name, 'GET', '/_matrix/federation/v1/version'));
      const outcomes = await Promise.allSettled(flood);
      assert.ok(outcomes.every((o) => o.status === 'rejected' && (o.reason as Error).message === `Cannot reach ${name}`));
      assert.equal(connections, 1);
    } finally {
      c.close();
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  test('a .well-known fetch goes through the guard: a host resolving to 127.0.0.1 or a literal 127.0.0.1 is not contacted', async () => {
    // fetchWellKnown takes a host; a port in it lets the test point the fetch at the listener.
    const toLoopback = async () => [{ address: '127.0.0.1', family: 4 }];
    const before = target.connections();
    assert.deepEqual(await fetchWellKnown(`rebind.example:${target.port}`, connectGuard(new AddressPolicy(), 'rebind.example', toLoopback)), { ok: false });
    assert.deepEqual(await fetchWellKnown(`127.0.0.1:${target.port}`, connectGuard(new AddressPolicy(), '127.0.0.1', toLoopback)), { ok: false });
    assert.deepEqual(await fetchWellKnown(`[::ffff:127.0.0.1]:${target.port}`, connectGuard(new AddressPolicy(), 'x.example', toLoopback)), { ok: false });
    assert.equal(target.connections(), before);
    // The same fetch for a configured peer connects (and fails: the listener speaks no TLS).
    assert.deepEqual(await fetchWellKnown(`peer.example:${target.port}`, connectGuard(new AddressPolicy(['peer.example']), 'peer.example', toLoopback)), {
      ok: false,
    });
    assert.equal(target.connections(), before + 1);
  });
});
