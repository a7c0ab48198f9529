// DELETE /devices/{deviceId} and POST /delete_devices for a device the caller does not have:
// device_management.yaml answers 200 ("successfully removed, or had been removed previously"; it
// lists no 404 for either, unlike GET and PUT /devices/{deviceId}). Nothing was removed, so no
// device-list change may be announced to room-mates, and another user's device of that id stays.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { registerUser, startTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';
import { checked } from '../../helpers/checked-call.ts';

const PASSWORD = 'correct horse battery staple';

describe('deleting a device the caller does not have', () => {
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;

  before(async () => {
    server = await startTestServer();
    alice = await registerUser(server, 'alice', PASSWORD);
    bob = await registerUser(server, 'bob', PASSWORD);
    const roomId = (await checked(server, alice, 'POST', '/createRoom', { preset: 'public_chat' })).body.room_id;
    assert.equal((await checked(server, bob, 'POST', `/rooms/${encodeURIComponent(roomId)}/join`, {})).status, 200);
  });
  after(() => server?.stop());

  /** Runs a device deletion through its UIA password stage; returns the final answer. */
  async function withPassword(method: string, path: string, body: Record<string, unknown>) {
    const first = await checked(server, alice, method, path, body);
    assert.equal(first.status, 401, JSON.stringify(first.body));
    const auth = { type: 'm.login.password', identifier: { type: 'm.id.user', user: alice.userId }, password: PASSWORD, session: first.body.session };
    return checked(server, alice, method, path, { ...body, auth });
  }

  async function bobSince(): Promise<string> {
    return (await checked(server, bob, 'GET', '/sync?timeout=0')).body.next_batch;
  }

  async function changedFor(from: string): Promise<string[]> {
    const to = await bobSince();
    const res = await checked(server, bob, 'GET', `/keys/changes?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
    assert.equal(res.status, 200);
    return res.body.changed;
  }

  test('DELETE /devices/{deviceId} of an unknown device answers 200 and announces no device-list change', async () => {
    const from = await bobSince();
    const res = await withPassword('DELETE', '/devices/NOSUCHDEVICE', {});
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, {});
    assert.deepEqual(await changedFor(from), []);
  });

  test("POST /delete_devices naming another user's device answers 200, leaves that device working, and announces nothing", async () => {
    const from = await bobSince();
    const res = await withPassword('POST', '/delete_devices', { devices: [bob.deviceId, 'NOSUCHDEVICE'] });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal((await checked(server, bob, 'GET', '/account/whoami')).status, 200);
    assert.equal((await checked(server, bob, 'GET', `/devices/${encodeURIComponent(bob.deviceId)}`)).status, 200);
    assert.deepEqual(await changedFor(from), []);
  });

  test('deleting a device the caller has still announces the change', async () => {
    const login = await checked(server, undefined, 'POST', '/login', {
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: 'alice' },
      password: PASSWORD,
    });
    assert.equal(login.status, 200);
    const from = await bobSince();
    const res = await withPassword('DELETE', `/devices/${encodeURIComponent(login.body.device_id)}`, {});
    assert.equal(res.status, 200);
    assert.deepEqual(await changedFor(from), [alice.userId]);
  });
});
