// Device list tracking over real HTTP (end_to_end_encryption.md "Tracking the device list for a
// user", "Extensions to /sync"; keys.yaml GET /keys/changes): a room-mate's key upload shows in
// /sync device_lists.changed and wakes a waiting /sync; a stranger's does not; a new room-mate is
// `changed`; one who no longer shares any room is `left`; /keys/changes agrees.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { registerUser, startTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';
import { assertError, checked } from '../../helpers/checked-call.ts';
import { oneTimeKeys, testDevice } from './e2ee-helpers.ts';

let server: TestServer;
let alice: TestUser;
let bob: TestUser;
let carol: TestUser;
let roomId: string;

before(async () => {
  server = await startTestServer();
  alice = await registerUser(server, 'alice');
  bob = await registerUser(server, 'bob');
  carol = await registerUser(server, 'carol');
  roomId = (await checked(server, alice, 'POST', '/createRoom', { preset: 'public_chat' })).body.room_id;
  assert.equal((await checked(server, bob, 'POST', `/rooms/${encodeURIComponent(roomId)}/join`, {})).status, 200);
});
after(() => server?.stop());

interface DeviceLists {
  changed: string[];
  left: string[];
}

async function sync(user: TestUser, since?: string, timeout = 0): Promise<{ next_batch: string; device_lists: DeviceLists }> {
  const res = await checked(server, user, 'GET', `/sync?timeout=${timeout}${since ? `&since=${encodeURIComponent(since)}` : ''}`);
  assert.equal(res.status, 200);
  return res.body;
}

async function changes(user: TestUser, from: string, to: string): Promise<DeviceLists> {
  const res = await checked(server, user, 'GET', `/keys/changes?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
  assert.equal(res.status, 200);
  return res.body;
}

describe('device_lists in /sync and keys/changes', () => {
  test('a room-mate uploading device keys is in changed, and wakes a waiting /sync; keys/changes agrees', async () => {
    const from = (await sync(alice)).next_batch;
    const started = Date.now();
    const pending = sync(alice, from, 10_000);
    await new Promise((r) => setTimeout(r, 100));
    await checked(server, bob, 'POST', '/keys/upload', { device_keys: testDevice(bob).deviceKeys });
    const got = await pending;
    assert.ok(Date.now() - started < 5_000, 'the long-poll answered at once');
    assert.deepEqual(got.device_lists, { changed: [bob.userId], left: [] });
    assert.deepEqual(await changes(alice, from, got.next_batch), { changed: [bob.userId], left: [] });
    // Nothing changed after that token.
    assert.deepEqual((await sync(alice, got.next_batch)).device_lists, { changed: [], left: [] });
  });

  test('one-time keys alone are not a device list change', async () => {
    const d = testDevice(bob);
    const from = (await sync(alice)).next_batch;
    await checked(server, bob, 'POST', '/keys/upload', { one_time_keys: oneTimeKeys(d, 2) });
    assert.deepEqual((await sync(alice, from)).device_lists, { changed: [], left: [] });
  });

  test("a stranger's key upload is not shown to alice", async () => {
    const from = (await sync(alice)).next_batch;
    await checked(server, carol, 'POST', '/keys/upload', { device_keys: testDevice(carol).deviceKeys });
    assert.deepEqual((await sync(alice, from)).device_lists, { changed: [], left: [] });
  });

  test('carol joining makes her changed for alice (her device list may be stale), and alice changed for carol', async () => {
    const aliceFrom = (await sync(alice)).next_batch;
    const carolFrom = (await sync(carol)).next_batch;
    await checked(server, carol, 'POST', `/rooms/${encodeURIComponent(roomId)}/join`, {});
    const a = await sync(alice, aliceFrom);
    assert.deepEqual(a.device_lists, { changed: [carol.userId], left: [] });
    const c = await sync(carol, carolFrom);
    assert.deepEqual(c.device_lists, { changed: [alice.userId, bob.userId], left: [] });
  });

  test('carol leaving the only shared room puts her in left for alice, and alice and bob in left for carol', async () => {
    const aliceFrom = (await sync(alice)).next_batch;
    const carolFrom = (await sync(carol)).next_batch;
    await checked(server, carol, 'POST', `/rooms/${encodeURIComponent(roomId)}/leave`, {});
    const a = await sync(alice, aliceFrom);
    assert.deepEqual(a.device_lists, { changed: [], left: [carol.userId] });
    assert.deepEqual(await changes(alice, aliceFrom, a.next_batch), { changed: [], left: [carol.userId] });
    assert.deepEqual((await sync(carol, carolFrom)).device_lists, { changed: [], left: [alice.userId, bob.userId] });
  });

  test("a user's own new device is changed for their other devices", async () => {
    const from = (await sync(alice)).next_batch;
    const login = await checked(server, undefined, 'POST', '/login', {
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: 'alice' },
      password: 'correct horse battery staple',
    });
    const phone = { userId: login.body.user_id, accessToken: login.body.access_token, deviceId: login.body.device_id };
    await checked(server, phone, 'POST', '/keys/upload', { device_keys: testDevice(phone).deviceKeys });
    assert.deepEqual((await sync(alice, from)).device_lists.changed, [alice.userId]);
    // Deleting the device is a change too, seen by the room-mate.
    const bobFrom = (await sync(bob)).next_batch;
    await checked(server, phone, 'POST', '/logout', {});
    assert.deepEqual((await sync(bob, bobFrom)).device_lists.changed, [alice.userId]);
  });

  test('keys/changes without from or to is M_MISSING_PARAM; a bad token is M_INVALID_PARAM', async () => {
    assertError(await checked(server, alice, 'GET', '/keys/changes?from=s1'), 400, 'M_MISSING_PARAM');
    assertError(await checked(server, alice, 'GET', '/keys/changes?from=nonsense&to=s1'), 400, 'M_INVALID_PARAM');
  });

  test('a token from before device lists existed (five parts) still parses', async () => {
    const res = await checked(server, alice, 'GET', '/sync?timeout=0&since=s1_0_0_0_0');
    assert.equal(res.status, 200);
    assert.ok(Array.isArray(res.body.device_lists.changed));
  });
});
