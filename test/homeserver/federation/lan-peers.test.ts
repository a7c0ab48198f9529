// Desktops federating on the LAN (issue #15, part H1): real Hearth federation listeners on loopback
// whose server names are key-bound LAN names, and a LanDirectory table saying where each one is
// (the seam between discovery and federation; discovery itself is tested in namespaces).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { call, freePort, registerUser, startFederatedTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';
import { eventually, signedRequest } from '../../helpers/federation.ts';
import { assertNoValidationFailures } from '../../helpers/openapi.ts';
import { certFingerprint, lanServerName } from '../../../homeserver/protocol/lan-identity.ts';
import { decodeSigningKeyFile, encodeSigningKeyFile, generateSigningKey, type SigningKey } from '../../../homeserver/protocol/signing-key.ts';
import { encodeUnpaddedBase64 } from '../../../homeserver/protocol/base64.ts';
import type { LanDirectory, LanPeer } from '../../../homeserver/discovery/lan-directory.ts';
import type { FederationConfig } from '../../../homeserver/config/types.ts';
import { FederationClient, FederationRequestError } from '../../../homeserver/federation/client.ts';
import { ServerAcl } from '../../../homeserver/federation/server-acl.ts';
import { AddressPolicy } from '../../../homeserver/federation/address-policy.ts';
import { ServerResolver } from '../../../homeserver/federation/discovery.ts';
import { CERT_FILE } from '../../../homeserver/federation/tls.ts';
import { Database } from '../../../homeserver/storage/database.ts';

/** What discovery would say: peers present now, and every name ever pinned. */
class TableDirectory implements LanDirectory {
  readonly peers = new Map<string, LanPeer>();
  readonly known = new Set<string>();
  announce(peer: LanPeer): void {
    this.peers.set(peer.serverName, peer);
    this.known.add(peer.serverName);
  }
  leave(name: string): void {
    this.peers.delete(name);
  }
  present(name: string): LanPeer | undefined {
    return this.peers.get(name.toLowerCase());
  }
  presentPeers(): LanPeer[] {
    return [...this.peers.values()];
  }
  isKnown(name: string): boolean {
    return this.known.has(name.toLowerCase());
  }
}

interface Desktop {
  server: TestServer;
  key: SigningKey;
  port: number;
  /** What it would announce, at 127.0.0.1. */
  peer: LanPeer;
}

/**
 * A Hearth whose data dir holds `key` and whose name is `name` (by default the one `key` is bound
 * to). Loopback peers must be configured (`privatePeers`): discovery never offers loopback.
 */
async function startDesktop(
  lan: LanDirectory,
  opts: { key?: SigningKey; name?: string; port?: number; federation?: Partial<FederationConfig> } = {},
): Promise<Desktop> {
  const key = opts.key ?? generateSigningKey();
  const port = opts.port ?? (await freePort());
  const dataDir = mkdtempSync(join(tmpdir(), 'hearth-lan-'));
  writeFileSync(join(dataDir, 'signing.key'), encodeSigningKeyFile(key) + '\n', { mode: 0o600 });
  const name = opts.name ?? lanServerName(key.publicKey);
  const server = await startFederatedTestServer(port, opts.federation ?? {}, { serverName: name, dataDir }, { lanDirectory: lan });
  const stop = server.stop;
  server.stop = async () => {
    await stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  const tlsFingerprint = certFingerprint(new X509Certificate(readFileSync(join(dataDir, CERT_FILE))).raw);
  const peer: LanPeer = {
    serverName: name,
    port,
    keyId: key.keyId,
    publicKey: encodeUnpaddedBase64(key.publicKey),
    tlsFingerprint,
    version: 'test',
    users: [],
    addresses: ['127.0.0.1'],
    lastSeenTs: Date.now(),
  };
  return { server, key, port, peer };
}

async function messages(server: TestServer, user: TestUser, roomId: string): Promise<string[]> {
  const r = await call(server, user, 'GET', `/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=100`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.chunk
    .filter((e: any) => e.type === 'm.room.message')
    .map((e: any) => e.content.body)
    .reverse();
}

/** A federation client of our own outside any server, with a temp SQLite file; `done` cleans up. */
async function standaloneClient(
  lan: LanDirectory,
  configured: string[],
  resolver?: ServerResolver,
): Promise<{ client: FederationClient; done: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hearth-lan-'));
  const db = await Database.open(join(dataDir, 'db.sqlite'));
  const client = new FederationClient({
    serverName: 'us.example',
    signingKey: generateSigningKey(),
    db,
    acl: new ServerAcl(),
    trustSelfSigned: [],
    policy: new AddressPolicy(configured, lan),
    ...(resolver ? { resolver } : {}),
    lan,
  });
  return {
    client,
    async done() {
      client.close();
      await db.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A TCP listener that counts the connections it is offered. */
async function connectionCounter(): Promise<{ server: Server; port: number; count: () => number }> {
  let n = 0;
  const server = createServer((s) => {
    n++;
    s.destroy();
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { server, port, count: () => n };
}

describe('desktops with key-bound LAN names federate through the LAN directory', () => {
  const lan = new TableDirectory();
  const keyA = generateSigningKey();
  const keyB = generateSigningKey();
  const nameA = lanServerName(keyA.publicKey);
  const nameB = lanServerName(keyB.publicKey);
  let a: Desktop, b: Desktop;
  let alice: TestUser, bob: TestUser;
  let roomId: string;

  before(async () => {
    // privatePeers: the directory points at loopback, which only a configured name may use.
    a = await startDesktop(lan, { key: keyA, federation: { privatePeers: [nameB] } });
    b = await startDesktop(lan, { key: keyB, federation: { privatePeers: [nameA] } });
    lan.announce(a.peer);
    lan.announce(b.peer);
    alice = await registerUser(a.server, 'alice');
    bob = await registerUser(b.server, 'bob');
  });
  after(async () => {
    await Promise.all([a?.server.stop(), b?.server.stop()]);
    assertNoValidationFailures();
  });

  test('a user of B joins a room of A by its alias, and messages cross both ways', async () => {
    const created = await call(a.server, alice, 'POST', '/createRoom', { preset: 'public_chat', room_alias_name: 'lobby' });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    roomId = created.body.room_id;
    const joined = await call(b.server, bob, 'POST', `/join/${encodeURIComponent(`#lobby:${nameA}`)}`, {});
    assert.equal(joined.status, 200, JSON.stringify(joined.body));
    await call(b.server, bob, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/b1`, { msgtype: 'm.text', body: 'hello from B' });
    await eventually('B message on A', async () => ((await messages(a.server, alice, roomId)).includes('hello from B') ? true : undefined));
    await call(a.server, alice, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/a1`, { msgtype: 'm.text', body: 'hello from A' });
    await eventually('A message on B', async () => ((await messages(b.server, bob, roomId)).includes('hello from A') ? true : undefined));
  });

  test('what was queued while a peer was away is sent as soon as it reappears, not at the next backoff', async () => {
    assert.ok(roomId, 'needs the room of the previous test');
    // Backoffs far longer than the test: only peerAppeared can deliver in time.
    b.server.hs.outbound!.configure({ retry: { initialMs: 600_000, maxMs: 600_000, jitter: 0 } });
    lan.leave(nameA);
    const sent = await call(b.server, bob, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/away1`, {
      msgtype: 'm.text',
      body: 'while you were away',
    });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    // The attempt failed (A is not on the LAN): the row waits in B's queue.
    await eventually('a failed attempt to reach A', async () => (b.server.hs.federation!.client.backoff.isBackingOff(nameA) ? true : undefined));
    assert.ok((await b.server.hs.outbound!.queued(nameA)) >= 1);
    lan.announce(a.peer);
    b.server.hs.federation!.peerAppeared(nameA);
    await eventually('the queued message on A', async () => ((await messages(a.server, alice, roomId)).includes('while you were away') ? true : undefined));
    assert.equal((await messages(a.server, alice, roomId)).filter((m) => m === 'while you were away').length, 1);
  });

  test('an announced certificate fingerprint that is not the server’s certificate is refused', async () => {
    lan.announce({ ...a.peer, tlsFingerprint: certFingerprint(Buffer.from('another certificate')) });
    try {
      const err = await b.server.hs.federation!.client.request(nameA, 'GET', '/_matrix/federation/v1/version').then(
        () => assert.fail('a peer with another certificate was believed'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof FederationRequestError);
      assert.equal(err.kind, 'tls');
      assert.match(err.detail ?? '', /not the one it announced/);
    } finally {
      lan.announce(a.peer);
      b.server.hs.federation!.peerAppeared(nameA);
    }
    // With the true fingerprint announced again, it is reached.
    const version = await b.server.hs.federation!.client.request<{ server: unknown }>(nameA, 'GET', '/_matrix/federation/v1/version');
    assert.ok(version.server);
  });

  test('a peer is reached at its next announced address when the first one refuses the connection', async () => {
    const directory = new TableDirectory();
    // Nothing listens on 127.0.0.2 (A listens on 127.0.0.1 only): that connection is refused.
    directory.announce({ ...a.peer, addresses: ['127.0.0.2', '127.0.0.1'] });
    const { client, done } = await standaloneClient(directory, [nameA]);
    try {
      const version = await client.request<{ server: unknown }>(nameA, 'GET', '/_matrix/federation/v1/version', undefined, { signed: false });
      assert.ok(version.server);
    } finally {
      await done();
    }
  });

  test('a server whose key is not the one its LAN name is bound to cannot sign as that name', async () => {
    // M claims B's name but serves its own key (it does not hold B's private key).
    const keyM = generateSigningKey();
    const m = await startDesktop(lan, { key: keyM, name: nameB, federation: { privatePeers: [nameA] } });
    const directory = new TableDirectory();
    directory.announce({ ...m.peer });
    // A third desktop C whose directory says B's name is at M.
    const c = await startDesktop(directory, { federation: { privatePeers: [nameB] } });
    try {
      const path = `/_matrix/federation/v1/query/profile?user_id=${encodeURIComponent(`@nobody:${c.server.serverName}`)}`;
      const forged = await signedRequest(c.port, { method: 'GET', path, origin: nameB, destination: c.server.serverName, key: keyM });
      assert.equal(forged.status, 401, JSON.stringify(forged.body));
      assert.equal(await c.server.hs.federation!.remoteKeys.getKey(nameB, keyM.keyId), null);
    } finally {
      await Promise.all([m.server.stop(), c.server.stop()]);
    }
  });
});

describe('a LAN name is resolved only from the directory', () => {
  test('a LAN name that is not announced is never contacted, even when DNS would answer for it', async () => {
    const counter = await connectionCounter();
    // A DNS world that sends every name to the counting listener.
    const resolver = new ServerResolver({
      resolveSrv: async () => [],
      fetchWellKnown: async () => ({ ok: true, server: `127.0.0.1:${counter.port}` }),
      now: Date.now,
    });
    const never = lanServerName(generateSigningKey().publicKey);
    const { client, done } = await standaloneClient(new TableDirectory(), ['ordinary.example', never], resolver);
    try {
      const err = await client.request(never, 'GET', '/_matrix/federation/v1/version').catch((e: unknown) => e);
      assert.ok(err instanceof FederationRequestError);
      assert.equal(err.detail, 'not on the LAN now');
      assert.equal(counter.count(), 0);
      // The counter does count: an ordinary name that DNS sends there is tried.
      await client.request('ordinary.example', 'GET', '/_matrix/federation/v1/version').catch(() => undefined);
      assert.ok(counter.count() > 0);
    } finally {
      counter.server.close();
      await done();
    }
  });
});

describe("policy 'lan': LAN peers and configured domains only", () => {
  const lan = new TableDirectory();
  let l: Desktop, desk: Desktop;
  let open: TestServer, domain: TestServer;
  let openPort: number, domainPort: number;
  let openKey: SigningKey, domainKey: SigningKey;

  before(async () => {
    [openPort, domainPort] = [await freePort(), await freePort()];
    const lPort = await freePort();
    open = await startFederatedTestServer(openPort, { trustSelfSigned: [`127.0.0.1:${lPort}`] });
    domain = await startFederatedTestServer(domainPort, { trustSelfSigned: [`127.0.0.1:${lPort}`] });
    openKey = signingKeyOf(open);
    domainKey = signingKeyOf(domain);
    const deskKey = generateSigningKey();
    const deskName = lanServerName(deskKey.publicKey);
    desk = await startDesktop(new TableDirectory(), { key: deskKey });
    lan.announce(desk.peer);
    l = await startDesktop(lan, {
      port: lPort,
      federation: {
        policy: 'lan',
        domains: [domain.serverName],
        trustSelfSigned: [domain.serverName, open.serverName],
        privatePeers: [deskName],
      },
    });
  });
  after(async () => {
    await Promise.all([l?.server.stop(), desk?.server.stop(), open?.stop(), domain?.stop()]);
  });

  const profilePath = () => `/_matrix/federation/v1/query/profile?user_id=${encodeURIComponent(`@nobody:${l.server.serverName}`)}`;

  test('a server that is neither a LAN peer nor a configured domain is refused both ways', async () => {
    const inbound = await signedRequest(l.port, {
      method: 'GET',
      path: profilePath(),
      origin: open.serverName,
      destination: l.server.serverName,
      key: openKey,
    });
    assert.equal(inbound.status, 403, JSON.stringify(inbound.body));
    assert.equal(inbound.body.errcode, 'M_FORBIDDEN');
    const outbound = await l.server.hs.federation!.client.request(open.serverName, 'GET', '/_matrix/federation/v1/version').catch((e: unknown) => e);
    assert.ok(outbound instanceof FederationRequestError);
    assert.equal(outbound.kind, 'forbidden');
  });

  test('a configured domain and a known LAN peer are allowed both ways', async () => {
    const inbound = await signedRequest(l.port, {
      method: 'GET',
      path: profilePath(),
      origin: domain.serverName,
      destination: l.server.serverName,
      key: domainKey,
    });
    assert.equal(inbound.status, 404, JSON.stringify(inbound.body)); // Through the ACL: no such user.
    await l.server.hs.federation!.client.request(domain.serverName, 'GET', '/_matrix/federation/v1/version');
    const fromDesk = await signedRequest(l.port, {
      method: 'GET',
      path: profilePath(),
      origin: desk.peer.serverName,
      destination: l.server.serverName,
      key: desk.key,
    });
    assert.equal(fromDesk.status, 404, JSON.stringify(fromDesk.body));
  });

  test('the domains can be changed at run time', async () => {
    l.server.hs.federation!.setDomains([open.serverName]);
    try {
      const inbound = await signedRequest(l.port, {
        method: 'GET',
        path: profilePath(),
        origin: open.serverName,
        destination: l.server.serverName,
        key: openKey,
      });
      assert.equal(inbound.status, 404, JSON.stringify(inbound.body));
      const dropped = await signedRequest(l.port, {
        method: 'GET',
        path: profilePath(),
        origin: domain.serverName,
        destination: l.server.serverName,
        key: domainKey,
      });
      assert.equal(dropped.status, 403, JSON.stringify(dropped.body));
    } finally {
      l.server.hs.federation!.setDomains([domain.serverName]);
    }
  });
});

function signingKeyOf(server: TestServer): SigningKey {
  return decodeSigningKeyFile(readFileSync(join(server.dataDir, 'signing.key'), 'utf8'));
}
