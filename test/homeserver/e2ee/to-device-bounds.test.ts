// Pending send-to-device messages are bounded (issue #13: one account queued 72 MB for another):
// per receiving device in messages and bytes, per sender a share of that, per request in devices.
// A message over a bound is refused with a standard error and nothing of its request is stored;
// what was accepted is never dropped, and the queue takes messages again once its device synced.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { registerUser, startTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';
import { assertError, checked } from '../../helpers/checked-call.ts';
import { Connection } from '../../../homeserver/storage/sqlite.ts';

let server: TestServer;
let alice: TestUser;
let carol: TestUser;
let bob: TestUser;

/** Small bounds, so that reaching them takes a handful of requests. */
const LIMITS = {
  toDevicePendingPerDevice: 8,
  toDevicePendingBytesPerDevice: 64 * 1024,
  toDeviceSenderShare: 0.5,
  toDeviceDevicesPerRequest: 3,
};

before(async () => {
  server = await startTestServer({ growthLimits: LIMITS });
  alice = await registerUser(server, 'alice');
  carol = await registerUser(server, 'carol');
  bob = await registerUser(server, 'bob');
});
after(() => server?.stop());

let txn = 0;
function send(from: TestUser, messages: unknown, txnId = `t${++txn}`) {
  return checked(server, from, 'PUT', `/sendToDevice/m.test/${txnId}`, { messages });
}

async function stored(user: TestUser): Promise<{ n: number; bytes: number }> {
  const db = await Connection.open(join(server.dataDir, 'hearth.sqlite'), true);
  try {
    return (await db.get<{ n: number; bytes: number }>(
      'SELECT COUNT(*) AS n, TOTAL(LENGTH(content)) AS bytes FROM to_device_messages WHERE user_id = ? AND device_id = ?',
      user.userId,
      user.deviceId,
    ))!;
  } finally {
    await db.close();
  }
}

async function loginAgain(user: TestUser): Promise<TestUser> {
  const login = await checked(server, undefined, 'POST', '/login', {
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user: user.userId },
    password: 'correct horse battery staple',
  });
  return { userId: login.body.user_id, accessToken: login.body.access_token, deviceId: login.body.device_id };
}

describe('to-device queue bounds', () => {
  test('one sender fills at most half of a device queue: the next message is 429 M_LIMIT_EXCEEDED and is not stored', async () => {
    for (let i = 0; i < 4; i++) assert.equal((await send(alice, { [bob.userId]: { [bob.deviceId]: { i } } })).status, 200);
    const refused = await send(alice, { [bob.userId]: { [bob.deviceId]: { i: 4 } } });
    assertError(refused, 429, 'M_LIMIT_EXCEEDED');
    assert.equal((await stored(bob)).n, 4);
  });

  test('another sender still reaches the device until the whole queue is full, then is refused too', async () => {
    for (let i = 0; i < 4; i++) assert.equal((await send(carol, { [bob.userId]: { [bob.deviceId]: { i } } })).status, 200);
    assertError(await send(carol, { [bob.userId]: { [bob.deviceId]: { i: 4 } } }), 429, 'M_LIMIT_EXCEEDED');
    assert.equal((await stored(bob)).n, 8);
  });

  test('the refused request may be retried with its transaction id once the device synced: nothing accepted was lost', async () => {
    const first = await checked(server, bob, 'GET', '/sync?timeout=0');
    const got = (first.body.to_device.events as Array<{ sender: string; content: { i: number } }>).map((e) => `${e.sender.slice(1, 2)}${e.content.i}`);
    assert.deepEqual(got, ['a0', 'a1', 'a2', 'a3', 'c0', 'c1', 'c2', 'c3'], 'every acknowledged message is delivered, in order');
    // Syncing with the next_batch acknowledges them: the queue is empty and takes messages again.
    await checked(server, bob, 'GET', `/sync?timeout=0&since=${encodeURIComponent(first.body.next_batch)}`);
    assert.equal((await stored(bob)).n, 0);
    assert.equal((await send(alice, { [bob.userId]: { [bob.deviceId]: { i: 4 } } }, 'retry-me')).status, 200);
    assert.equal((await send(alice, { [bob.userId]: { [bob.deviceId]: { i: 4 } } }, 'retry-me')).status, 200);
    assert.equal((await stored(bob)).n, 1, 'the retried transaction is stored once');
  });

  test('bytes are bounded too: 20 messages of 10 kB leave at most 32 kB from one sender', async () => {
    const big = 'x'.repeat(10_000);
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await send(carol, { [bob.userId]: { [bob.deviceId]: { big, i } } })).status);
    assert.ok(statuses.includes(429), `statuses: ${statuses.join(',')}`);
    const s = await stored(bob);
    assert.ok(s.bytes <= LIMITS.toDevicePendingBytesPerDevice, `${s.bytes} bytes stored`);
    assert.ok(s.n <= 4);
  });

  test('a request reaching more devices than allowed (after `*`) is 413 M_TOO_LARGE and delivers to none', async () => {
    const dave = await registerUser(server, 'dave');
    const daveDevices = [dave, await loginAgain(dave), await loginAgain(dave), await loginAgain(dave)];
    const res = await send(alice, { [dave.userId]: { '*': { hello: 1 } } });
    assertError(res, 413, 'M_TOO_LARGE');
    for (const d of daveDevices) assert.equal((await stored(d)).n, 0);
    // Three named devices are within the bound.
    const ok = await send(alice, { [dave.userId]: Object.fromEntries(daveDevices.slice(0, 3).map((d) => [d.deviceId, { hello: 2 }])) });
    assert.equal(ok.status, 200);
  });

  test('a device remembers its newest 1,000 transaction ids, not one row per request for ever', async () => {
    const erin = await registerUser(server, 'erin');
    for (let i = 0; i < 1_010; i++) assert.equal((await send(erin, { [bob.userId]: { nodevice: { i } } }, `many${i}`)).status, 200);
    const db = await Connection.open(join(server.dataDir, 'hearth.sqlite'), true);
    try {
      const rows = await db.all<{ txn_id: string }>('SELECT txn_id FROM to_device_txns WHERE user_id = ? AND device_id = ?', erin.userId, erin.deviceId);
      assert.equal(rows.length, 1_000);
      assert.ok(rows.some((r) => r.txn_id === 'many1009') && !rows.some((r) => r.txn_id === 'many0'), 'the newest are kept');
    } finally {
      await db.close();
    }
  });
});
