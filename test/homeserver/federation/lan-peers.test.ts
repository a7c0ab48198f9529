// Desktops federating on the LAN (issue #15, part H1): LAN names are reached only where the LAN
// directory says, with the announced certificate, and only with the key the name is bound to.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import https from 'node:https';
import { generateSelfSigned } from '../../../homeserver/federation/tls.ts';
import { call, freePort, registerUser, type TestServer, type TestUser } from '../../helpers/server.ts';
import { eventually, signedRequest } from '../../helpers/federation.ts';
import { assertNoValidationFailures } from '../../helpers/openapi.ts';
import { certFingerprint, lanServerName } from '../../../homeserver/protocol/lan-identity.ts';
import { generateSigningKey } from '../../../homeserver/protocol/signing-key.ts';
import { FederationRequestError } from '../../../homeserver/federation/client.ts';
import { ServerResolver } from '../../../homeserver/federation/discovery.ts';
import { TableDirectory, standaloneClient, startDesktop, type Desktop } from './lan-desktops.ts';

async function messages(server: TestServer, user: TestUser, roomId: string): Promise<string[]> {
  const r = await call(server, user, 'GET', `/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=100`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.chunk
    .filter((e: any) => e.type === 'm.room.message')
    .map((e: any) => e.content.body)
    .reverse();
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
    // The sender tried, failed and backs off for ten minutes (its retry state is kept in SQLite).
    await eventually('a failed attempt to reach A', async () => {
      const retry = await b.server.hs.outbound!.retryOf(nameA);
      return retry !== undefined && retry.nextAttemptTs > Date.now() + 60_000 ? true : undefined;
    });
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

  test('an announced address where another server answers is skipped, and that server is sent no request', async () => {
    // Another machine now holds an address A announced (at A's port), with its own certificate.
    const pair = await generateSelfSigned(nameA, '127.0.0.3');
    let requests = 0;
    const other = https.createServer({ cert: pair.cert, key: pair.key }, (_req, res) => {
      requests++;
      res.end('{}');
    });
    await new Promise<void>((r) => other.listen(a.port, '127.0.0.3', r));
    const directory = new TableDirectory();
    directory.announce({ ...a.peer, addresses: ['127.0.0.3', '127.0.0.1'] });
    const { client, done } = await standaloneClient(directory, [nameA]);
    try {
      const version = await client.request<{ server: { name: string } }>(nameA, 'GET', '/_matrix/federation/v1/version', undefined, { signed: false });
      assert.equal(version.server.name, 'Hearth');
      assert.equal(requests, 0);
    } finally {
      await done();
      other.close();
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
