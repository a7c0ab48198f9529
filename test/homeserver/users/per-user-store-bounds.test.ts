// Other stores a user could grow by repeating a cheap request (issue #13, class 3): one-time keys
// per device and filters per account (over the bound is 413 M_TOO_LARGE and stores nothing more),
// receipts under made-up thread ids (refused: a thread id must name an event of the room),
// status messages, which every room-mate's /sync carries, and key backup versions.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { registerUser, startTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';
import { assertError, checked } from '../../helpers/checked-call.ts';
import { oneTimeKeys, testDevice } from '../e2ee/e2ee-helpers.ts';
import { MAX_ONE_TIME_KEYS_PER_DEVICE } from '../../../homeserver/e2ee/device-keys.ts';
import { MAX_LIVE_BACKUP_VERSIONS } from '../../../homeserver/e2ee/key-backup.ts';

let server: TestServer;
let alice: TestUser;

before(async () => {
  server = await startTestServer();
  alice = await registerUser(server, 'alice');
});
after(() => server?.stop());

describe('per-user store bounds', () => {
  test(`a device keeps at most ${MAX_ONE_TIME_KEYS_PER_DEVICE} unclaimed one-time keys: the upload past it is 413 and adds none`, async () => {
    const device = testDevice(alice);
    const batch = 250;
    let uploaded = 0;
    for (; uploaded < MAX_ONE_TIME_KEYS_PER_DEVICE; uploaded += batch) {
      const res = await checked(server, alice, 'POST', '/keys/upload', { one_time_keys: oneTimeKeys(device, batch, uploaded) });
      assert.equal(res.status, 200);
    }
    const over = await checked(server, alice, 'POST', '/keys/upload', { one_time_keys: oneTimeKeys(device, 1, uploaded) });
    assertError(over, 413, 'M_TOO_LARGE');
    const counts = await checked(server, alice, 'POST', '/keys/upload', {});
    assert.equal(counts.body.one_time_key_counts.signed_curve25519, MAX_ONE_TIME_KEYS_PER_DEVICE);
  });

  test('an account keeps at most 1,000 filters, each at most 64 KiB', async () => {
    const path = `/user/${encodeURIComponent(alice.userId)}/filter`;
    const big = await checked(server, alice, 'POST', path, { room: { rooms: Array.from({ length: 5_000 }, (_, i) => `!room${i}:${server.serverName}`) } });
    assertError(big, 413, 'M_TOO_LARGE');
    for (let i = 0; i < 1_000; i++) {
      const res = await checked(server, alice, 'POST', path, { room: { timeline: { limit: i } } });
      assert.equal(res.status, 200);
    }
    assertError(await checked(server, alice, 'POST', path, { room: { timeline: { limit: 5 } } }), 413, 'M_TOO_LARGE');
  });

  test('a receipt under a thread id that is no event of the room is 400 M_INVALID_PARAM; "main" and a real root are fine', async () => {
    const room = (await checked(server, alice, 'POST', '/createRoom', {})).body.room_id as string;
    const r = encodeURIComponent(room);
    const sent = await checked(server, alice, 'PUT', `/rooms/${r}/send/m.room.message/root`, { msgtype: 'm.text', body: 'root' });
    const eventId = encodeURIComponent(sent.body.event_id);
    for (let i = 0; i < 3; i++) {
      assertError(await checked(server, alice, 'POST', `/rooms/${r}/receipt/m.read/${eventId}`, { thread_id: `$made-up-${i}` }), 400, 'M_INVALID_PARAM');
    }
    assert.equal((await checked(server, alice, 'POST', `/rooms/${r}/receipt/m.read/${eventId}`, { thread_id: 'main' })).status, 200);
    assert.equal((await checked(server, alice, 'POST', `/rooms/${r}/receipt/m.read/${eventId}`, { thread_id: sent.body.event_id })).status, 200);
  });

  test('a status message over 1 KiB is 413 M_TOO_LARGE and does not replace the stored one', async () => {
    const path = `/presence/${encodeURIComponent(alice.userId)}/status`;
    assert.equal((await checked(server, alice, 'PUT', path, { presence: 'online', status_msg: 'lunch' })).status, 200);
    assertError(await checked(server, alice, 'PUT', path, { presence: 'online', status_msg: 's'.repeat(1_025) }), 413, 'M_TOO_LARGE');
    assert.equal((await checked(server, alice, 'GET', path)).body.status_msg, 'lunch');
  });

  test('key backups: auth_data over 64 KiB is 413; at most 100 live versions; deleted ones make room and numbers never repeat', async () => {
    const algorithm = 'm.megolm_backup.v1.curve25519-aes-sha2';
    const bob = await registerUser(server, 'bob');
    assertError(await checked(server, bob, 'POST', '/room_keys/version', { algorithm, auth_data: { public_key: 'k'.repeat(70_000) } }), 413, 'M_TOO_LARGE');
    const versions: number[] = [];
    for (let i = 0; i < MAX_LIVE_BACKUP_VERSIONS; i++) {
      const res = await checked(server, bob, 'POST', '/room_keys/version', { algorithm, auth_data: { public_key: `k${i}` } });
      assert.equal(res.status, 200);
      versions.push(Number(res.body.version));
    }
    assertError(await checked(server, bob, 'POST', '/room_keys/version', { algorithm, auth_data: { public_key: 'one more' } }), 413, 'M_TOO_LARGE');
    assert.equal((await checked(server, bob, 'DELETE', `/room_keys/version/${versions.at(-1)}`)).status, 200);
    const next = await checked(server, bob, 'POST', '/room_keys/version', { algorithm, auth_data: { public_key: 'after delete' } });
    assert.equal(next.status, 200);
    assert.ok(Number(next.body.version) > versions.at(-1)!, 'a deleted version number is never reused');
  });
});
