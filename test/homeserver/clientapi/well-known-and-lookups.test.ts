// Issue #14 (admin part): /.well-known/matrix/server and /support from config, the third-party
// lookups while no bridge exists, and /v1/mutual_rooms with its batches.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient, MatrixError, type MatrixClient } from 'matrix-js-sdk';
import { startTestServer, registerUser, call, type TestServer, type TestUser } from '../../helpers/server.ts';
import { fetchFn, quietLogger } from '../../helpers/sdk.ts';
import { clientServerValidator } from '../../helpers/openapi.ts';
import { MUTUAL_ROOMS_BATCH } from '../../../homeserver/clientapi/mutual-rooms.ts';

const validator = clientServerValidator();

/** A GET through the OpenAPI-validating fetch; returns status and body. */
async function get(server: TestServer, path: string, user?: TestUser): Promise<{ status: number; body: any }> {
  const res = await fetchFn(`${server.url}${path}`, { headers: user ? { authorization: `Bearer ${user.accessToken}` } : {} });
  return { status: res.status, body: await res.json() };
}

describe('/.well-known/matrix/server and /support', () => {
  let plain: TestServer;
  let configured: TestServer;
  let contactOnly: TestServer;
  before(async () => {
    plain = await startTestServer();
    configured = await startTestServer({
      wellKnownServer: 'matrix.example.org:443',
      support: { contacts: [{ role: 'm.role.security', matrixId: '@security:example.org' }], supportPage: 'https://example.org/help' },
      adminContact: 'mailto:admin@example.org',
    });
    contactOnly = await startTestServer({ adminContact: 'https://example.org/contact' });
  });
  after(async () => {
    await plain?.stop();
    await configured?.stop();
    await contactOnly?.stop();
  });

  test('without configuration both documents are 404, as the spec says when nothing is delegated or offered', async () => {
    const server = await get(plain, '/.well-known/matrix/server');
    assert.equal(server.status, 404);
    assert.equal(server.body.errcode, 'M_NOT_FOUND');
    const support = await get(plain, '/.well-known/matrix/support');
    assert.equal(support.status, 404);
  });

  test('well_known_server is served as m.server; support lists the configured contacts, admin_contact as an admin email, and the page', async () => {
    const server = await get(configured, '/.well-known/matrix/server');
    assert.equal(server.status, 200);
    assert.deepEqual(server.body, { 'm.server': 'matrix.example.org:443' });
    const support = await get(configured, '/.well-known/matrix/support');
    assert.equal(support.status, 200);
    assert.deepEqual(support.body, {
      contacts: [
        { matrix_id: '@security:example.org', role: 'm.role.security' },
        { email_address: 'admin@example.org', role: 'm.role.admin' },
      ],
      support_page: 'https://example.org/help',
    });
  });

  test('an https admin_contact alone becomes the support page', async () => {
    const support = await get(contactOnly, '/.well-known/matrix/support');
    assert.equal(support.status, 200);
    assert.deepEqual(support.body, { support_page: 'https://example.org/contact' });
  });
});

describe('third-party lookups with no bridge', () => {
  let server: TestServer;
  let client: MatrixClient;
  before(async () => {
    server = await startTestServer();
    const alice = await registerUser(server, 'alice');
    client = createClient({ baseUrl: server.url, fetchFn, logger: quietLogger, accessToken: alice.accessToken, userId: alice.userId });
  });
  after(async () => {
    await server?.stop();
  });

  test('matrix-js-sdk sees no protocols, a 404 for any protocol, and no portal for an alias or user', async () => {
    assert.deepEqual(await client.getThirdpartyProtocols(), {});
    await assert.rejects(client.getThirdpartyLocation('irc', { searchFields: 'x' } as never), (err: unknown) => {
      return err instanceof MatrixError && err.httpStatus === 404 && err.errcode === 'M_NOT_FOUND';
    });
    await assert.rejects(client.getThirdpartyUser('irc', {}), (err: unknown) => err instanceof MatrixError && err.httpStatus === 404);
    const proto = await get(server, '/_matrix/client/v3/thirdparty/protocol/irc', { accessToken: client.getAccessToken()! } as TestUser);
    assert.equal(proto.status, 404);
    const byAlias = await get(server, `/_matrix/client/v3/thirdparty/location?alias=${encodeURIComponent('#room:example.org')}`, {
      accessToken: client.getAccessToken()!,
    } as TestUser);
    assert.deepEqual([byAlias.status, byAlias.body], [200, []]);
    const byUser = await get(server, `/_matrix/client/v3/thirdparty/user?userid=${encodeURIComponent('@u:example.org')}`, {
      accessToken: client.getAccessToken()!,
    } as TestUser);
    assert.deepEqual([byUser.status, byUser.body], [200, []]);
    const missing = await get(server, '/_matrix/client/v3/thirdparty/user', { accessToken: client.getAccessToken()! } as TestUser);
    assert.equal(missing.status, 400);
  });
});

describe('GET /v1/mutual_rooms', () => {
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  const shared: string[] = [];
  before(async () => {
    server = await startTestServer();
    alice = await registerUser(server, 'alice');
    bob = await registerUser(server, 'bob');
    carol = await registerUser(server, 'carol');
    // One batch and three more rooms shared by alice and bob; one room alice is alone in; one bob left.
    for (let i = 0; i < MUTUAL_ROOMS_BATCH + 3; i++) {
      const roomId = (await call(server, alice, 'POST', '/createRoom', { preset: 'public_chat' })).body.room_id as string;
      assert.equal((await call(server, bob, 'POST', `/join/${encodeURIComponent(roomId)}`, {})).status, 200);
      shared.push(roomId);
    }
    await call(server, alice, 'POST', '/createRoom', {});
    const left = (await call(server, alice, 'POST', '/createRoom', { preset: 'public_chat' })).body.room_id as string;
    await call(server, bob, 'POST', `/join/${encodeURIComponent(left)}`, {});
    await call(server, bob, 'POST', `/rooms/${encodeURIComponent(left)}/leave`, {});
  });
  after(async () => {
    await server?.stop();
  });

  test('lists exactly the rooms both are joined to, in batches linked by next_batch, with the total count', async () => {
    const seen: string[] = [];
    let from: string | undefined;
    let batches = 0;
    do {
      const q = `user_id=${encodeURIComponent(bob.userId)}${from ? `&from=${encodeURIComponent(from)}` : ''}`;
      const res = await get(server, `/_matrix/client/v1/mutual_rooms?${q}`, alice);
      assert.equal(res.status, 200);
      assert.equal(res.body.count, MUTUAL_ROOMS_BATCH + 3);
      assert.ok(res.body.joined.length <= MUTUAL_ROOMS_BATCH);
      seen.push(...res.body.joined);
      from = res.body.next_batch;
      batches++;
    } while (from !== undefined);
    assert.equal(batches, 2);
    assert.deepEqual(seen, [...shared].sort());
  });

  test('a user sharing nothing gives an empty list; own id, a bad id and a bad token are 400', async () => {
    const none = await get(server, `/_matrix/client/v1/mutual_rooms?user_id=${encodeURIComponent(carol.userId)}`, alice);
    assert.deepEqual(none.body, { joined: [], count: 0 });
    const unknown = await get(server, `/_matrix/client/v1/mutual_rooms?user_id=${encodeURIComponent('@nobody:localhost')}`, alice);
    assert.deepEqual(unknown.body, { joined: [], count: 0 });
    for (const q of [`user_id=${encodeURIComponent(alice.userId)}`, 'user_id=nobody', '', `user_id=${encodeURIComponent(bob.userId)}&from=junk`]) {
      const res = await get(server, `/_matrix/client/v1/mutual_rooms?${q}`, alice);
      assert.equal(res.status, 400, q);
      assert.equal(validator.validateResponse('GET', '/_matrix/client/v1/mutual_rooms', 400, res.body), 'validated');
    }
  });
});
