// LAN sharing on a real homeserver (issue #15, part H2b): the switch opens and closes the
// federation listener (checked by connecting), persists, is an admin's to change; the people
// nearby are served and pushed as account data. mDNS is the one world these tests do not touch
// (announcing here would announce on the machine's real LAN): discovery is a table the test fills,
// behind the same LanDiscoveryService interface (test/lan/ runs the real one in namespaces).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHomeserver } from '../../../homeserver/index.ts';
import { loadOrCreateSigningKey } from '../../../homeserver/config/signing-key-file.ts';
import { certFingerprint, lanServerName } from '../../../homeserver/protocol/lan-identity.ts';
import { encodeUnpaddedBase64 } from '../../../homeserver/protocol/base64.ts';
import type { LanPeer } from '../../../homeserver/discovery/lan-directory.ts';
import { call, freePort, registerUser, startFederatedTestServer, startTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';
import { waitForAsync } from '../../helpers/poll.ts';
import { createClient, Method } from 'matrix-js-sdk';
import { fetchFn, quietLogger, startSyncing, waitFor } from '../../helpers/sdk.ts';
import { LAN, TableDiscovery, connect, lan, refused, startLanServer, type LanServer } from './lan-server.ts';

const scratch: string[] = [];
after(() => scratch.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('LAN sharing switch', () => {
  let s: LanServer;
  let user: TestUser;
  before(async () => {
    s = await startLanServer();
    scratch.push(s.dataDir);
    user = await registerUser(s, 'someone');
  });
  after(() => s?.stop());

  test('sharing off at start: nothing listens on the federation port and nothing is announced', async () => {
    assert.equal(await refused(s.fedPort), true);
    assert.equal(s.discovery.running, false);
    assert.equal(s.discovery.starts, 0);
    const got = await lan(s, user, 'GET', '/sharing');
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, { enabled: false, announce_label: false, policy: 'open', domains: [] });
  });

  test('an admin switching sharing on opens the listener and announces its port, certificate and users; off closes both', async () => {
    assert.deepEqual((await lan(s, s.admin, 'PUT', '/sharing', { enabled: true })).body, {});
    const open = await connect(s.fedPort);
    assert.ok('cert' in open, JSON.stringify(open));
    assert.equal(s.discovery.running, true);
    assert.equal(s.discovery.own?.port, s.fedPort);
    assert.equal(s.discovery.own?.tlsFingerprint, certFingerprint(open.cert.raw));
    assert.deepEqual(s.discovery.own?.users, ['owner', 'someone']);
    assert.equal(s.discovery.own?.label, undefined, 'no label unless allowed');
    assert.equal((await lan(s, user, 'GET', '/sharing')).body.enabled, true);

    assert.deepEqual((await lan(s, s.admin, 'PUT', '/sharing', { enabled: false })).body, {});
    assert.equal(await refused(s.fedPort), true);
    assert.equal(s.discovery.running, false);

    // And on again, on the same port.
    await lan(s, s.admin, 'PUT', '/sharing', { enabled: true });
    assert.ok('cert' in (await connect(s.fedPort)));
    await lan(s, s.admin, 'PUT', '/sharing', { enabled: false });
  });

  test('an account registered through /register while sharing is on is announced at once', async () => {
    await lan(s, s.admin, 'PUT', '/sharing', { enabled: true });
    await registerUser(s, 'newcomer');
    assert.ok(s.discovery.own?.users.includes('newcomer'), JSON.stringify(s.discovery.own?.users));
    await lan(s, s.admin, 'PUT', '/sharing', { enabled: false });
  });

  test('announce_label puts the first local user display name in the announcement, and follows its changes', async () => {
    await call(s, s.admin, 'PUT', `/profile/${encodeURIComponent(s.admin.userId)}/displayname`, { displayname: 'Owner Person' });
    await lan(s, s.admin, 'PUT', '/sharing', { enabled: true, announce_label: true });
    assert.equal(s.discovery.own?.label, 'Owner Person');
    // A change of that display name is announced at once.
    await call(s, s.admin, 'PUT', `/profile/${encodeURIComponent(s.admin.userId)}/displayname`, { displayname: 'Owner Renamed' });
    assert.equal(s.discovery.own?.label, 'Owner Renamed');
    await lan(s, s.admin, 'PUT', '/sharing', { announce_label: false });
    assert.equal(s.discovery.own?.label, undefined);
    await lan(s, s.admin, 'PUT', '/sharing', { enabled: false });
  });

  test('only a server admin may change sharing; anyone signed in may read it; nobody else', async () => {
    const refusedPut = await lan(s, user, 'PUT', '/sharing', { enabled: true });
    assert.equal(refusedPut.status, 403);
    assert.equal(refusedPut.body.errcode, 'M_FORBIDDEN');
    assert.equal(s.discovery.running, false);
    assert.equal(await refused(s.fedPort), true);
    for (const [method, path] of [
      ['GET', '/sharing'],
      ['PUT', '/sharing'],
      ['GET', '/nearby'],
    ]) {
      const anonymous = await lan(s, undefined, method!, path!, method === 'PUT' ? { enabled: true } : undefined);
      assert.equal(anonymous.status, 401, `${method} ${path}`);
      assert.equal(anonymous.body.errcode, 'M_MISSING_TOKEN');
    }
  });

  test('an admin forgets a LAN peer (to accept its changed certificate); nobody else may; only LAN names', async () => {
    const name = 'abcdefghijklmnopqrstuvwxyz.local';
    const path = `/peers/${encodeURIComponent(name)}`;
    const byUser = await lan(s, user, 'DELETE', path);
    assert.equal(byUser.status, 403);
    assert.equal((await lan(s, undefined, 'DELETE', path)).status, 401);
    assert.deepEqual(s.discovery.forgotten, []);
    const notLan = await lan(s, s.admin, 'DELETE', '/peers/example.org');
    assert.equal(notLan.status, 400);
    assert.equal(notLan.body.errcode, 'M_INVALID_PARAM');
    const done = await lan(s, s.admin, 'DELETE', path);
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.deepEqual(s.discovery.forgotten, [name]);
  });

  test('bad bodies are 400 (M_BAD_JSON for wrong types, M_INVALID_PARAM for bad names or too many) and change nothing', async () => {
    const tooMany = Array.from({ length: 101 }, (_, i) => `s${i}.example.org`);
    for (const [body, errcode] of [
      [{ enabled: 'yes' }, 'M_BAD_JSON'],
      [{ announce_label: 1 }, 'M_BAD_JSON'],
      [{ domains: 'example.org' }, 'M_BAD_JSON'],
      [{ domains: ['not a name!'] }, 'M_INVALID_PARAM'],
      [{ domains: tooMany }, 'M_INVALID_PARAM'],
      [{ domains: [42] }, 'M_BAD_JSON'],
    ] as const) {
      const got = await lan(s, s.admin, 'PUT', '/sharing', body);
      assert.equal(got.status, 400, JSON.stringify(body));
      assert.equal(got.body.errcode, errcode, JSON.stringify(body));
    }
    assert.equal((await lan(s, user, 'GET', '/sharing')).body.enabled, false);
  });

  test('domains set by an admin are kept, without duplicates', async () => {
    assert.equal((await lan(s, s.admin, 'PUT', '/sharing', { domains: ['example.org', 'matrix.example.com:8448', 'example.org'] })).status, 200);
    assert.deepEqual((await lan(s, user, 'GET', '/sharing')).body.domains, ['example.org', 'matrix.example.com:8448']);
  });

  test('a client may not write the server-managed org.hearth.lan.nearby account data', async () => {
    const got = await call(s, user, 'PUT', `/user/${encodeURIComponent(user.userId)}/account_data/org.hearth.lan.nearby`, { peers: [] });
    assert.equal(got.status, 405);
    assert.equal(got.body.errcode, 'M_BAD_JSON');
  });
});

describe('LAN sharing setting persists', () => {
  test('sharing switched on at run time wins over lan.sharing: false after a restart', async () => {
    const first = await startLanServer({ sharing: false });
    scratch.push(first.dataDir);
    await lan(first, first.admin, 'PUT', '/sharing', { enabled: true, domains: ['example.org'] });
    await first.stop();
    assert.equal(await refused(first.fedPort), true);
    const again = await startLanServer({ dataDir: first.dataDir, fedPort: first.fedPort, sharing: false });
    try {
      assert.equal(again.serverName, first.serverName, 'same data dir, same key-bound name');
      assert.ok('cert' in (await connect(again.fedPort)), 'the listener opened at start');
      assert.equal(again.discovery.running, true);
      assert.deepEqual((await lan(again, again.admin, 'GET', '/sharing')).body, {
        enabled: true,
        announce_label: false,
        policy: 'open',
        domains: ['example.org'],
      });
      // Switched off, it stays off at the next start even with lan.sharing: true.
      await lan(again, again.admin, 'PUT', '/sharing', { enabled: false });
    } finally {
      await again.stop();
    }
    const third = await startLanServer({ dataDir: first.dataDir, fedPort: first.fedPort, sharing: true });
    try {
      assert.equal(await refused(third.fedPort), true);
      assert.equal(third.discovery.running, false);
    } finally {
      await third.stop();
    }
  });

  test('lan.sharing: true with nothing set at run time shares from the start', async () => {
    const s = await startLanServer({ sharing: true });
    scratch.push(s.dataDir);
    try {
      assert.ok('cert' in (await connect(s.fedPort)));
      assert.equal(s.discovery.running, true);
    } finally {
      await s.stop();
    }
  });

  test('a lan config whose server name is not the key-bound one does not start', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hearth-lan-'));
    scratch.push(dataDir);
    const hs = createHomeserver(
      {
        dataDir,
        serverName: 'example.org',
        listen: { host: '127.0.0.1', port: 0 },
        registration: 'open',
        registrationTokens: [],
        allowedHosts: [],
        rateLimit: { perSecond: 1000, burst: 10_000 },
        federation: { listen: { host: '127.0.0.1', port: 0 }, trustSelfSigned: [], allow: [], deny: [], keyNotaries: [] },
        lan: { sharing: false },
      },
      { createLanDiscovery: () => new TableDiscovery() },
    );
    await assert.rejects(hs.start(), /bound to the signing key/);
    await hs.stop();
  });
});

describe('LAN sharing when discovery cannot start', () => {
  class BrokenDiscovery extends TableDiscovery {
    override async start(): Promise<void> {
      throw new Error('no multicast here');
    }
  }

  test('PUT enabled answers 503 and leaves nothing listening; a start with sharing set still starts, not sharing', async () => {
    const s = await startLanServer({ discovery: new BrokenDiscovery() });
    scratch.push(s.dataDir);
    try {
      const got = await lan(s, s.admin, 'PUT', '/sharing', { enabled: true });
      assert.equal(got.status, 503);
      assert.equal(got.body.errcode, 'M_UNKNOWN');
      assert.equal(await refused(s.fedPort), true);
      assert.equal((await lan(s, s.admin, 'GET', '/sharing')).body.enabled, false, 'a change not in effect is not kept');
    } finally {
      await s.stop();
    }
    const again = await startLanServer({ dataDir: s.dataDir, fedPort: s.fedPort, sharing: true, discovery: new BrokenDiscovery() });
    try {
      assert.equal(await refused(again.fedPort), true);
      assert.equal((await lan(again, again.admin, 'GET', '/nearby')).body.sharing, false);
    } finally {
      await again.stop();
    }
  });
});

describe('LAN sharing when discovery cannot be made', () => {
  test('the server starts; PUT enabled answers 503 and nothing listens', async () => {
    const s = await startLanServer({ sharing: true, discoveryCannotBeMade: true });
    scratch.push(s.dataDir);
    try {
      assert.equal(await refused(s.fedPort), true);
      const got = await lan(s, s.admin, 'PUT', '/sharing', { enabled: true });
      assert.equal(got.status, 503);
      assert.equal(await refused(s.fedPort), true);
      assert.equal((await lan(s, s.admin, 'GET', '/nearby')).body.sharing, false);
    } finally {
      await s.stop();
    }
  });
});

describe('LAN endpoints on a server without lan', () => {
  test('answer 404 M_UNRECOGNIZED', async () => {
    const plain = await startTestServer();
    try {
      const user = await registerUser(plain, 'plain');
      for (const [method, path] of [
        ['GET', '/sharing'],
        ['PUT', '/sharing'],
        ['GET', '/nearby'],
      ]) {
        const got = await lan(plain, user, method!, path!, method === 'PUT' ? {} : undefined);
        assert.equal(got.status, 404, `${method} ${path}`);
        assert.equal(got.body.errcode, 'M_UNRECOGNIZED');
      }
    } finally {
      await plain.stop();
    }
  });
});

describe('people nearby', () => {
  let a: LanServer;
  let b: TestServer;
  let bob: TestUser;
  let watcher: TestUser;
  before(async () => {
    // B is a real federating server; A's table discovery says it is on the LAN with user bob.
    const pb = await freePort();
    b = await startFederatedTestServer(pb);
    bob = await registerUser(b, 'bob');
    await call(b, bob, 'PUT', `/profile/${encodeURIComponent(bob.userId)}/displayname`, { displayname: 'Bob on B' });
    a = await startLanServer({ federation: { trustSelfSigned: [b.serverName] } });
    scratch.push(a.dataDir);
    watcher = await registerUser(a, 'watcher');
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  const peerB = (): LanPeer => ({
    serverName: b.serverName,
    port: 0,
    keyId: 'ed25519:x',
    publicKey: 'AAAA',
    tlsFingerprint: 'x',
    version: '9.9.9',
    label: 'B desk',
    users: ['bob'],
    addresses: ['127.0.0.1'],
    lastSeenTs: 1234,
  });

  /** The watcher's org.hearth.lan.nearby account data, as /sync delivers it. */
  async function pushed(): Promise<any> {
    const sync = await call(a, watcher, 'GET', '/sync?timeout=0');
    return sync.body.account_data?.events?.find((e: { type: string }) => e.type === 'org.hearth.lan.nearby')?.content;
  }

  test('GET /nearby with sharing off lists nobody and says so', async () => {
    const got = await lan(a, watcher, 'GET', '/nearby');
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, { sharing: false, server_name: a.serverName, peers: [], reports: [] });
  });

  test('a watcher gets the list pushed through /sync when sharing changes (discovery not started before)', async () => {
    assert.equal(a.discovery.starts, 0);
    await lan(a, a.admin, 'PUT', '/sharing', { enabled: true });
    const content = await waitForAsync('the push after sharing went on', async () => {
      const c = await pushed();
      return c?.sharing === true ? c : undefined;
    });
    assert.deepEqual(content, { sharing: true, server_name: a.serverName, peers: [], reports: [] });
  });

  test('a peer that appears is listed with its users, without a display name while their server cannot answer, and pushed', async () => {
    // B cannot check A's signature (A's LAN name resolves only through discovery, part H1), so the
    // profile query fails: the user is listed anyway, and GET /nearby does not wait past its bound.
    a.discovery.peers = [peerB()];
    a.discovery.emit('peer-up', peerB());
    a.discovery.emit('changed');
    const got = await lan(a, watcher, 'GET', '/nearby');
    assert.equal(got.status, 200);
    assert.deepEqual(got.body.peers, [
      { server_name: b.serverName, label: 'B desk', version: '9.9.9', addresses: ['127.0.0.1'], last_seen_ts: 1234, users: [{ user_id: bob.userId }] },
    ]);
    const content = await waitForAsync('the push listing bob', async () => {
      const c = await pushed();
      return c?.peers?.[0]?.users?.[0]?.user_id === bob.userId ? c : undefined;
    });
    assert.equal(content.peers[0].server_name, b.serverName);
  });

  test('a report from discovery reaches GET /nearby and the push', async () => {
    a.discovery.reportList = [{ serverName: 'abcdefghijklmnopqrstuvwxyz.local', kind: 'impostor', detail: 'another key', from: '10.0.0.9', ts: 5 }];
    a.discovery.emit('report', a.discovery.reportList[0]!);
    const expected = [{ server_name: 'abcdefghijklmnopqrstuvwxyz.local', kind: 'impostor', detail: 'another key', from: '10.0.0.9', ts: 5 }];
    assert.deepEqual((await lan(a, watcher, 'GET', '/nearby')).body.reports, expected);
    await waitForAsync('the push with the report', async () => ((await pushed())?.reports?.length === 1 ? true : undefined));
  });

  test('a peer that comes back (peer-up) is no longer backed off', async () => {
    const backoff = a.hs.federation!.client.backoff;
    const name = 'bbbbbbbbbbbbbbbbbbbbbbbbbb.local';
    backoff.failed(name);
    assert.equal(backoff.isBackingOff(name), true);
    a.discovery.emit('peer-up', { ...peerB(), serverName: name });
    assert.equal(backoff.isBackingOff(name), false);
  });

  test('a peer that leaves is dropped from the list and the push', async () => {
    a.discovery.peers = [];
    a.discovery.emit('peer-down', peerB());
    a.discovery.emit('changed');
    assert.deepEqual((await lan(a, watcher, 'GET', '/nearby')).body.peers, []);
    await waitForAsync('the push without peers', async () => ((await pushed())?.peers?.length === 0 ? true : undefined));
  });

  test('a user who never asked gets no push', async () => {
    const other = await registerUser(a, 'uninterested');
    a.discovery.peers = [{ ...peerB(), label: 'B again' }];
    a.discovery.emit('changed');
    await waitForAsync("the watcher's push", async () => ((await pushed())?.peers?.[0]?.label === 'B again' ? true : undefined));
    const sync = await call(a, other, 'GET', '/sync?timeout=0');
    assert.equal(sync.body.account_data?.events?.some((e: { type: string }) => e.type === 'org.hearth.lan.nearby') ?? false, false);
  });
});

describe('people nearby between two LAN-named servers', () => {
  test('a nearby user is listed with the display name their own server gives', async () => {
    // Both on loopback, which a LAN name may use only when configured as a private peer.
    const [dirA, dirB] = [mkdtempSync(join(tmpdir(), 'hearth-lan-')), mkdtempSync(join(tmpdir(), 'hearth-lan-'))];
    const nameOf = (dir: string) => lanServerName(loadOrCreateSigningKey(dir).publicKey);
    const a = await startLanServer({ dataDir: dirA, sharing: true, federation: { privatePeers: [nameOf(dirB)] } });
    const b = await startLanServer({ dataDir: dirB, sharing: true, federation: { privatePeers: [nameOf(dirA)] } });
    scratch.push(a.dataDir, b.dataDir);
    try {
      const asPeer = async (s: LanServer, users: string[]): Promise<LanPeer> => {
        const key = loadOrCreateSigningKey(s.dataDir);
        const served = await connect(s.fedPort);
        assert.ok('cert' in served);
        return {
          serverName: s.serverName,
          port: s.fedPort,
          keyId: key.keyId,
          publicKey: encodeUnpaddedBase64(key.publicKey),
          tlsFingerprint: certFingerprint(served.cert.raw),
          version: '0',
          users,
          addresses: ['127.0.0.1'],
          lastSeenTs: Date.now(),
        };
      };
      const bob = await registerUser(b, 'bob');
      await call(b, bob, 'PUT', `/profile/${encodeURIComponent(bob.userId)}/displayname`, { displayname: 'Bob on B' });
      a.discovery.peers = [await asPeer(b, ['bob'])];
      b.discovery.peers = [await asPeer(a, ['owner'])];
      a.discovery.emit('changed');
      const got = await lan(a, a.admin, 'GET', '/nearby');
      assert.deepEqual(got.body.peers[0].users, [{ user_id: bob.userId, displayname: 'Bob on B' }]);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});

describe('people nearby through matrix-js-sdk', () => {
  test('a syncing client reads /nearby with authedRequest and sees org.hearth.lan.nearby account data follow the LAN', async () => {
    const s = await startLanServer({ sharing: true });
    scratch.push(s.dataDir);
    const client = createClient({
      baseUrl: s.url,
      fetchFn,
      logger: quietLogger,
      userId: s.admin.userId,
      accessToken: s.admin.accessToken,
      deviceId: s.admin.deviceId,
    });
    try {
      await startSyncing(client);
      const nearby = await client.http.authedRequest<{ sharing: boolean; peers: unknown[] }>(Method.Get, '/nearby', undefined, undefined, { prefix: LAN });
      assert.equal(nearby.sharing, true);
      assert.deepEqual(nearby.peers, []);
      const peer: LanPeer = {
        serverName: 'abcdefghijklmnopqrstuvwxyz.local',
        port: 8448,
        keyId: 'ed25519:a',
        publicKey: 'AAAA',
        tlsFingerprint: 'x',
        version: '1.0.0',
        users: [],
        addresses: ['10.1.2.3'],
        lastSeenTs: 7,
      };
      s.discovery.peers = [peer];
      s.discovery.emit('changed');
      const content = await waitFor('the account data listing the peer', () => {
        const c = client.getAccountData('org.hearth.lan.nearby' as never)?.getContent() as { peers?: Array<{ server_name: string }> } | undefined;
        return c?.peers?.length === 1 ? c : undefined;
      });
      assert.equal(content.peers![0]!.server_name, peer.serverName);
    } finally {
      client.stopClient();
      await s.stop();
    }
  });
});
