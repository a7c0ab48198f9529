// Issue #14 fault 1: a client of B looks up an alias of A, and lists A's published rooms, through
// B (directory.yaml: "The server will use the federation API to resolve the alias"; the `server`
// parameter of list_public_rooms.yaml). Driven by matrix-js-sdk on B; every client answer is
// validated against the Client-Server OpenAPI and every federation answer B gets against the
// Server-Server one. A fake remote (a world we do not own) plays a server that answers too much
// or nonsense.
import assert from 'node:assert/strict';
import https from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createClient, MatrixError, type MatrixClient } from 'matrix-js-sdk';
import { call, freePort, registerUser, startFederatedTestServer, type TestServer } from '../../helpers/server.ts';
import { assertNoValidationFailures, clearValidationFailures } from '../../helpers/openapi.ts';
import { fetchFn, quietLogger } from '../../helpers/sdk.ts';
import { loadTlsPair } from '../../../homeserver/federation/tls.ts';
import { MAX_REMOTE_PUBLIC_ROOMS_BYTES, MAX_REMOTE_PUBLIC_ROOMS_LIMIT } from '../../../homeserver/federation/remote-public-rooms.ts';

const nameOf = (port: number) => `127.0.0.1:${port}`;

/** A remote that answers /publicRooms with whatever the test sets, and 404 to everything else. */
async function startFakeDirectory(port: number): Promise<{ answer: unknown; requests: string[]; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-fake-directory-'));
  const tls = await loadTlsPair({ dataDir: dir, serverName: nameOf(port), listenHost: '127.0.0.1' });
  const fake = {
    answer: { chunk: [] } as unknown,
    requests: [] as string[],
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const server = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    req.resume();
    req.on('end', () => {
      fake.requests.push(`${req.method} ${req.url}`);
      if (!req.url?.startsWith('/_matrix/federation/v1/publicRooms')) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ errcode: 'M_UNRECOGNIZED', error: 'fake' }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(fake.answer));
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return fake;
}

async function rejection(p: Promise<unknown>): Promise<MatrixError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof MatrixError, String(err));
    return err;
  }
  assert.fail('expected an error');
}

describe('remote alias lookup and remote room directories', () => {
  let a: TestServer, b: TestServer;
  let aName: string, bName: string, deadName: string, fakeName: string;
  let fake: Awaited<ReturnType<typeof startFakeDirectory>>;
  let bob: MatrixClient;
  let lounge: string;
  /** Paths (with query) of B's federation requests, as its response observer sees them. */
  const asked: string[] = [];
  /** Off while the fake remote answers out of spec on purpose: its answers are not Hearth's to validate. */
  let validateAnswers = true;

  before(async () => {
    clearValidationFailures();
    const [pa, pb, pdead, pfake] = [await freePort(), await freePort(), await freePort(), await freePort()];
    [aName, bName, deadName, fakeName] = [nameOf(pa), nameOf(pb), nameOf(pdead), nameOf(pfake)];
    fake = await startFakeDirectory(pfake);
    a = await startFederatedTestServer(pa, { trustSelfSigned: [bName] });
    // Nothing listens at deadName: B may try it (a private peer), and finds no one.
    b = await startFederatedTestServer(pb, { trustSelfSigned: [aName, fakeName], privatePeers: [deadName] });
    const observe = b.hs.federation!.client.observer!;
    b.hs.federation!.client.observer = (method, path, status, body) => {
      asked.push(`${method} ${path}`);
      if (validateAnswers) observe(method, path, status, body);
    };
    const alice = await registerUser(a, 'alice');
    const make = async (body: object) => (await call(a, alice, 'POST', '/createRoom', body)).body.room_id as string;
    lounge = await make({ preset: 'public_chat', visibility: 'public', name: 'Lounge', topic: 'chat about anything', room_alias_name: 'lounge' });
    await make({ preset: 'public_chat', visibility: 'public', name: 'Garden' });
    await make({ preset: 'public_chat', visibility: 'public', name: 'Kitchen' });
    const creds = await registerUser(b, 'bob');
    bob = createClient({ baseUrl: b.url, fetchFn, logger: quietLogger, ...creds });
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop(), fake?.close()]);
    assertNoValidationFailures();
  });

  test("getRoomIdForAlias on B resolves A's alias over federation: the room and A among its servers", async () => {
    const r = await bob.getRoomIdForAlias(`#lounge:${aName}`);
    assert.equal(r.room_id, lounge);
    assert.ok(r.servers.includes(aName), JSON.stringify(r.servers));
  });

  test('an alias A does not know is 404 M_NOT_FOUND on B', async () => {
    const err = await rejection(bob.getRoomIdForAlias(`#nowhere:${aName}`));
    assert.equal(err.httpStatus, 404);
    assert.equal(err.errcode, 'M_NOT_FOUND');
  });

  test('an alias of a server that cannot be reached is 502 M_UNKNOWN, and so is one the address policy refuses', async () => {
    const dead = await rejection(bob.getRoomIdForAlias(`#room:${deadName}`));
    assert.equal(dead.httpStatus, 502);
    assert.equal(dead.errcode, 'M_UNKNOWN');
    // Not a configured peer: loopback is refused for it before any connection.
    const refused = await rejection(bob.getRoomIdForAlias('#room:127.0.0.1:1'));
    assert.equal(refused.httpStatus, 502);
  });

  test("publicRooms({ server }) on B lists A's published rooms, paged by A", async () => {
    const all = await bob.publicRooms({ server: aName });
    assert.deepEqual(all.chunk.map((r) => r.name).sort(), ['Garden', 'Kitchen', 'Lounge']);
    const entry = all.chunk.find((r) => r.room_id === lounge)!;
    assert.equal(entry.canonical_alias, `#lounge:${aName}`);
    assert.equal(entry.topic, 'chat about anything');
    const first = await bob.publicRooms({ server: aName, limit: 2 });
    assert.equal(first.chunk.length, 2);
    assert.ok(first.next_batch);
    const second = await bob.publicRooms({ server: aName, limit: 2, since: first.next_batch });
    assert.equal(second.chunk.length, 1);
    assert.deepEqual(new Set([...first.chunk, ...second.chunk].map((r) => r.room_id)), new Set(all.chunk.map((r) => r.room_id)));
  });

  test('publicRooms({ server, filter }) asks A with a POST and gets only the matches', async () => {
    const r = await bob.publicRooms({ server: aName, filter: { generic_search_term: 'ANYTHING' } });
    assert.deepEqual(
      r.chunk.map((x) => x.room_id),
      [lounge],
    );
    assert.ok(asked.some((x) => x === 'POST /_matrix/federation/v1/publicRooms'));
  });

  test("publicRooms with B's own name lists B's rooms, without asking anyone", async () => {
    const before = asked.length;
    const r = await bob.publicRooms({ server: bName });
    assert.deepEqual(r.chunk, []);
    assert.equal(asked.length, before);
  });

  test('B always asks a remote for a bounded page: 100 when the client names no limit, never more than the cap', async () => {
    await bob.publicRooms({ server: aName });
    assert.match(asked.at(-1)!, /^GET \/_matrix\/federation\/v1\/publicRooms\?limit=100$/);
    await bob.publicRooms({ server: aName, limit: 100_000 });
    assert.match(asked.at(-1)!, new RegExp(`limit=${MAX_REMOTE_PUBLIC_ROOMS_LIMIT}$`));
    await bob.publicRooms({ server: aName, limit: 100_000, filter: {} });
    assert.equal(asked.at(-1), 'POST /_matrix/federation/v1/publicRooms');
  });

  test('only a signed-in user may make B ask another server; anyone may read B’s own list', async () => {
    const anon = createClient({ baseUrl: b.url, fetchFn, logger: quietLogger });
    const err = await rejection(anon.publicRooms({ server: aName }));
    assert.equal(err.httpStatus, 401);
    assert.equal(err.errcode, 'M_MISSING_TOKEN');
    assert.deepEqual((await anon.publicRooms({})).chunk, []);
  });

  test('a server name that is not one is 400 M_INVALID_PARAM', async () => {
    const err = await rejection(bob.publicRooms({ server: 'not a server/name' }));
    assert.equal(err.httpStatus, 400);
    assert.equal(err.errcode, 'M_INVALID_PARAM');
  });

  test("a remote's page is cut to the limit asked, and entries not in the spec's shape are left out", async () => {
    const good = (n: number) => ({ room_id: `!r${n}:example.org`, num_joined_members: n, world_readable: false, guest_can_join: false });
    fake.answer = {
      chunk: [
        good(1),
        { room_id: 'no sigil', num_joined_members: 1, world_readable: false, guest_can_join: false },
        { room_id: '!x:y' },
        'junk',
        good(2),
        good(3),
      ],
      next_batch: 'n1',
      total_room_count_estimate: 'lots',
    };
    validateAnswers = false;
    const r = await bob.publicRooms({ server: fakeName, limit: 5 }).finally(() => (validateAnswers = true));
    assert.deepEqual(
      r.chunk.map((x) => x.num_joined_members),
      [1, 2],
    );
    assert.equal(r.next_batch, 'n1');
    assert.equal(r.total_room_count_estimate, undefined);
  });

  test('a remote page larger than the byte cap is refused with 502, not read whole', async () => {
    fake.answer = { chunk: [], padding: 'x'.repeat(MAX_REMOTE_PUBLIC_ROOMS_BYTES) };
    validateAnswers = false;
    const err = await rejection(bob.publicRooms({ server: fakeName }).finally(() => (validateAnswers = true)));
    assert.equal(err.httpStatus, 502);
    assert.equal(err.errcode, 'M_UNKNOWN');
  });
});
