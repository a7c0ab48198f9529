// Issue #14 (admin part): server admins (granted with `hearth admin grant`), whois, and what
// suspension and locking do to an account (client-server-api, "Account moderation").
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { createClient, MatrixError, type MatrixClient } from 'matrix-js-sdk';
import { startTestServer, registerUser, call, type TestServer, type TestUser } from '../../helpers/server.ts';
import { fetchFn, quietLogger } from '../../helpers/sdk.ts';

const hearth = fileURLToPath(new URL('../../../bin/hearth.js', import.meta.url));

/** A request through the OpenAPI-validating fetch. */
async function req(server: TestServer, user: TestUser, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetchFn(`${server.url}/_matrix/client${path}`, {
    method,
    headers: { authorization: `Bearer ${user.accessToken}` },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
}

const enc = encodeURIComponent;

describe('server administration and account moderation', () => {
  let server: TestServer;
  let root: TestUser;
  let alice: TestUser;
  let bob: TestUser;
  let roomId: string;
  let bobsEvent: string;
  let aliceSdk: MatrixClient;
  before(async () => {
    server = await startTestServer();
    root = await registerUser(server, 'root');
    alice = await registerUser(server, 'alice');
    bob = await registerUser(server, 'bob');
    // Granted beside the running server, as an admin would: the flag is read from the database.
    const { stdout } = await promisify(execFile)(process.execPath, [hearth, 'admin', 'grant', 'root', '--data-dir', server.dataDir]);
    assert.deepEqual(JSON.parse(stdout), { user_id: root.userId, admin: true });
    roomId = (await call(server, bob, 'POST', '/createRoom', { preset: 'public_chat' })).body.room_id;
    await call(server, alice, 'POST', `/join/${enc(roomId)}`, {});
    bobsEvent = (await call(server, bob, 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/b1`, { msgtype: 'm.text', body: 'hi' })).body.event_id;
    aliceSdk = createClient({ baseUrl: server.url, fetchFn, logger: quietLogger, accessToken: alice.accessToken, userId: alice.userId });
  });
  after(async () => {
    await server?.stop();
  });

  test('a non-admin is refused before any account lookup: 403 for real and unknown users alike; an admin gets 404, and 400 for a remote user', async () => {
    for (const target of [alice.userId, '@nobody:localhost']) {
      const res = await req(server, bob, 'GET', `/v1/admin/suspend/${enc(target)}`);
      assert.deepEqual([res.status, res.body.errcode], [403, 'M_FORBIDDEN'], target);
      assert.equal((await req(server, bob, 'PUT', `/v1/admin/lock/${enc(target)}`, { locked: true })).status, 403);
    }
    assert.equal((await req(server, root, 'GET', `/v1/admin/lock/${enc('@nobody:localhost')}`)).status, 404);
    assert.deepEqual((await req(server, root, 'GET', `/v1/admin/lock/${enc('@x:elsewhere.org')}`)).body.errcode, 'M_INVALID_PARAM');
  });

  test('capabilities offer m.account_moderation to an admin only', async () => {
    assert.deepEqual((await req(server, root, 'GET', '/v3/capabilities')).body.capabilities['m.account_moderation'], { suspend: true, lock: true });
    assert.equal((await req(server, bob, 'GET', '/v3/capabilities')).body.capabilities['m.account_moderation'], undefined);
  });

  test('an admin may not suspend or lock their own account', async () => {
    const res = await req(server, root, 'PUT', `/v1/admin/suspend/${enc(root.userId)}`, { suspended: true });
    assert.deepEqual([res.status, res.body.errcode], [403, 'M_FORBIDDEN']);
  });

  test('a suspended user gets 403 M_USER_SUSPENDED on sending, joining, creating rooms, profile changes, uploading media and redacting others, but may read, redact their own and leave', async () => {
    const own = (await call(server, alice, 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/a1`, { msgtype: 'm.text', body: 'mine' })).body.event_id;
    const put = await req(server, root, 'PUT', `/v1/admin/suspend/${enc(alice.userId)}`, { suspended: true });
    assert.deepEqual([put.status, put.body], [200, { suspended: true }]);
    assert.deepEqual((await req(server, root, 'GET', `/v1/admin/suspend/${enc(alice.userId)}`)).body, { suspended: true });

    await assert.rejects(aliceSdk.sendTextMessage(roomId, 'while suspended'), (err: unknown) => {
      return err instanceof MatrixError && err.httpStatus === 403 && err.errcode === 'M_USER_SUSPENDED';
    });
    await assert.rejects(aliceSdk.createRoom({}), (err: unknown) => err instanceof MatrixError && err.errcode === 'M_USER_SUSPENDED');
    await assert.rejects(aliceSdk.setDisplayName('new name'), (err: unknown) => err instanceof MatrixError && err.errcode === 'M_USER_SUSPENDED');
    const other = (await call(server, bob, 'POST', '/createRoom', { preset: 'public_chat' })).body.room_id;
    assert.equal((await req(server, alice, 'POST', `/v3/join/${enc(other)}`, {})).body.errcode, 'M_USER_SUSPENDED');
    assert.equal((await req(server, alice, 'PUT', `/v3/rooms/${enc(roomId)}/redact/${enc(bobsEvent)}/r1`, {})).body.errcode, 'M_USER_SUSPENDED');
    // A redaction path that is not even percent-encoding is refused, never a 500.
    const garbled = await fetch(`${server.api}/rooms/${enc(roomId)}/redact/%E0%A4%A/r3`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${alice.accessToken}` },
      body: '{}',
    });
    assert.ok(garbled.status >= 400 && garbled.status < 500, `garbled redaction path answered ${garbled.status}`);

    // Uploading media is refused too: it would let a suspended account keep using the server's
    // storage, and the spec leaves the list to the server.
    await assert.rejects(aliceSdk.uploadContent(Buffer.from('while suspended'), { type: 'text/plain' }), (err: unknown) => {
      return err instanceof MatrixError && err.httpStatus === 403 && err.errcode === 'M_USER_SUSPENDED';
    });
    for (const [method, path] of [
      ['POST', '/_matrix/media/v3/upload'],
      ['POST', '/_matrix/media/r0/upload'],
      ['POST', '/_matrix/media/v1/create'],
      ['PUT', '/_matrix/media/v3/upload/localhost/abc'],
    ] as const) {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${alice.accessToken}`, 'content-type': 'text/plain' },
        body: 'x',
      });
      assert.deepEqual([res.status, ((await res.json()) as { errcode?: string }).errcode], [403, 'M_USER_SUSPENDED'], `${method} ${path}`);
    }
    // Paths are case-sensitive (Synapse's too): another case is no route, not a way around the gate.
    for (const [method, path] of [
      ['POST', '/_matrix/media/v3/Upload'],
      ['POST', '/_matrix/Media/v3/upload'],
      ['POST', '/_matrix/client/v3/CreateRoom'],
      ['PUT', `/_matrix/client/v3/Rooms/${enc(roomId)}/send/m.room.message/case1`],
    ] as const) {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${alice.accessToken}`, 'content-type': 'application/json' },
        body: '{}',
      });
      assert.notEqual(res.status, 200, `${method} ${path} reached a route`);
    }

    assert.equal((await req(server, alice, 'GET', `/v3/rooms/${enc(roomId)}/messages?dir=b`)).status, 200);
    assert.equal((await req(server, alice, 'PUT', `/v3/rooms/${enc(roomId)}/redact/${enc(own)}/r2`, {})).status, 200);
    assert.equal((await req(server, alice, 'POST', `/v3/rooms/${enc(roomId)}/leave`, {})).status, 200);

    assert.deepEqual((await req(server, root, 'PUT', `/v1/admin/suspend/${enc(alice.userId)}`, { suspended: false })).body, { suspended: false });
    assert.equal((await req(server, alice, 'POST', `/v3/join/${enc(roomId)}`, {})).status, 200);
    await aliceSdk.sendTextMessage(roomId, 'back again');
  });

  test('a locked user gets 401 M_USER_LOCKED with soft_logout on everything but logout, keeps their sessions, and works again once unlocked', async () => {
    const carol = await registerUser(server, 'carol');
    const second = (
      await call(server, undefined, 'POST', '/login', {
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: 'carol' },
        password: 'correct horse battery staple',
      })
    ).body;
    const carol2: TestUser = { userId: carol.userId, accessToken: second.access_token, deviceId: second.device_id };
    assert.deepEqual((await req(server, root, 'PUT', `/v1/admin/lock/${enc(carol.userId)}`, { locked: true })).body, { locked: true });
    for (const [method, path] of [
      ['GET', '/v3/sync?timeout=0'],
      ['GET', '/v3/account/whoami'],
      ['GET', '/v1/media/config'],
    ] as const) {
      const res = await req(server, carol, method, path);
      assert.deepEqual([res.status, res.body.errcode, res.body.soft_logout], [401, 'M_USER_LOCKED', true], path);
    }
    assert.equal((await req(server, carol, 'POST', '/v3/logout', {})).status, 200);
    assert.deepEqual((await req(server, root, 'GET', `/v1/admin/lock/${enc(carol.userId)}`)).body, { locked: true });
    assert.deepEqual((await req(server, root, 'PUT', `/v1/admin/lock/${enc(carol.userId)}`, { locked: false })).body, { locked: false });
    assert.equal((await req(server, carol2, 'GET', '/v3/account/whoami')).body.user_id, carol.userId);
  });

  test('whois lists the devices of a user to an admin and to the user, and is refused to anyone else', async () => {
    const res = await req(server, root, 'GET', `/v3/admin/whois/${enc(bob.userId)}`);
    assert.equal(res.status, 200);
    assert.equal(res.body.user_id, bob.userId);
    assert.deepEqual(Object.keys(res.body.devices), [bob.deviceId]);
    assert.ok(Array.isArray(res.body.devices[bob.deviceId].sessions));
    assert.equal((await req(server, bob, 'GET', `/v3/admin/whois/${enc(bob.userId)}`)).status, 200);
    assert.equal((await req(server, alice, 'GET', `/v3/admin/whois/${enc(bob.userId)}`)).status, 403);
  });
});
