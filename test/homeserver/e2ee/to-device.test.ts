// Send-to-device messaging over real HTTP (modules/send_to_device.md): a message waits for its
// device, arrives in /sync `to_device`, stays until the device syncs with the next_batch that
// carried it, then is deleted; a retried transaction sends nothing twice; `*` reaches every device;
// a long queue comes 100 at a time. Every response is validated against the spec's OpenAPI.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { registerUser, startTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';
import { assertError, checked } from '../../helpers/checked-call.ts';
import { Connection } from '../../../homeserver/storage/sqlite.ts';

let server: TestServer;
let alice: TestUser;
let bob: TestUser;
let bobPhone: TestUser;

before(async () => {
  server = await startTestServer();
  alice = await registerUser(server, 'alice');
  bob = await registerUser(server, 'bob');
  const login = await checked(server, undefined, 'POST', '/login', {
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user: 'bob' },
    password: 'correct horse battery staple',
  });
  bobPhone = { userId: login.body.user_id, accessToken: login.body.access_token, deviceId: login.body.device_id };
});
after(() => server?.stop());

let txn = 0;
function send(from: TestUser, type: string, messages: unknown, txnId = `t${++txn}`) {
  return checked(server, from, 'PUT', `/sendToDevice/${encodeURIComponent(type)}/${txnId}`, { messages });
}

async function sync(user: TestUser, since?: string, timeout = 0) {
  const res = await checked(server, user, 'GET', `/sync?timeout=${timeout}${since ? `&since=${encodeURIComponent(since)}` : ''}`);
  assert.equal(res.status, 200);
  return res.body as { next_batch: string; to_device: { events: Array<{ sender: string; type: string; content: Record<string, unknown> }> } };
}

/** Rows still stored for a device, read from the SQLite file itself. */
async function storedFor(user: TestUser): Promise<number> {
  const db = await Connection.open(join(server.dataDir, 'hearth.sqlite'), true);
  try {
    return (await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM to_device_messages WHERE user_id = ? AND device_id = ?', user.userId, user.deviceId))!.n;
  } finally {
    await db.close();
  }
}

describe('sendToDevice', () => {
  let bobToken: string;

  test('a message to one device arrives in its /sync with sender, type and content; not on the other device', async () => {
    bobToken = (await sync(bob)).next_batch;
    const phoneToken = (await sync(bobPhone)).next_batch;
    const res = await send(alice, 'm.test.hello', { [bob.userId]: { [bob.deviceId]: { n: 1 } } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {});
    const got = await sync(bob, bobToken);
    assert.deepEqual(got.to_device.events, [{ sender: alice.userId, type: 'm.test.hello', content: { n: 1 } }]);
    assert.deepEqual((await sync(bobPhone, phoneToken)).to_device.events, [], 'the other device got nothing');

    // Until the device syncs with that response's next_batch, the message is kept and sent again.
    const retry = await sync(bob, bobToken);
    assert.deepEqual(
      retry.to_device.events.map((e) => e.content),
      [{ n: 1 }],
    );
    assert.equal(await storedFor(bob), 1);
    // Syncing with the next_batch acknowledges it: it is deleted and not sent again.
    const next = await sync(bob, got.next_batch);
    assert.deepEqual(next.to_device.events, []);
    assert.equal(await storedFor(bob), 0, 'the delivered message is deleted from the database');
    bobToken = next.next_batch;
  });

  test('a retried transaction id sends nothing twice', async () => {
    const messages = { [bob.userId]: { [bob.deviceId]: { n: 2 } } };
    await send(alice, 'm.test.retry', messages, 'same-txn');
    await send(alice, 'm.test.retry', messages, 'same-txn');
    const got = await sync(bob, bobToken);
    assert.deepEqual(
      got.to_device.events.map((e) => e.content),
      [{ n: 2 }],
    );
    bobToken = (await sync(bob, got.next_batch)).next_batch;
  });

  test('device id * reaches every device of the user, in order of arrival', async () => {
    const phoneToken = (await sync(bobPhone)).next_batch;
    await send(alice, 'm.test.all', { [bob.userId]: { '*': { n: 3 } } });
    await send(alice, 'm.test.all', { [bob.userId]: { '*': { n: 4 } } });
    const laptop = await sync(bob, bobToken);
    const phone = await sync(bobPhone, phoneToken);
    assert.deepEqual(
      laptop.to_device.events.map((e) => e.content.n),
      [3, 4],
    );
    assert.deepEqual(
      phone.to_device.events.map((e) => e.content.n),
      [3, 4],
    );
    bobToken = (await sync(bob, laptop.next_batch)).next_batch;
    await sync(bobPhone, phone.next_batch);
  });

  test('a waiting /sync wakes when a message arrives', async () => {
    const started = Date.now();
    const pending = sync(bob, bobToken, 10_000);
    await new Promise((r) => setTimeout(r, 100));
    await send(alice, 'm.test.wake', { [bob.userId]: { [bob.deviceId]: { n: 5 } } });
    const got = await pending;
    assert.ok(Date.now() - started < 5_000, 'answered long before its timeout');
    assert.deepEqual(
      got.to_device.events.map((e) => e.content.n),
      [5],
    );
    bobToken = (await sync(bob, got.next_batch)).next_batch;
  });

  test('a queue of 150 comes as 100 then 50, each in order', async () => {
    for (let i = 0; i < 150; i++) await send(alice, 'm.test.many', { [bob.userId]: { [bob.deviceId]: { i } } });
    const first = await sync(bob, bobToken);
    assert.deepEqual(
      first.to_device.events.map((e) => e.content.i),
      Array.from({ length: 100 }, (_, i) => i),
    );
    const second = await sync(bob, first.next_batch);
    assert.deepEqual(
      second.to_device.events.map((e) => e.content.i),
      Array.from({ length: 50 }, (_, i) => 100 + i),
    );
    const third = await sync(bob, second.next_batch);
    assert.deepEqual(third.to_device.events, []);
    assert.equal(await storedFor(bob), 0);
  });

  test('messages for a deleted device are deleted with it', async () => {
    await send(alice, 'm.test.gone', { [bob.userId]: { [bobPhone.deviceId]: { n: 6 } } });
    assert.equal(await storedFor(bobPhone), 1);
    assert.equal((await checked(server, bobPhone, 'POST', '/logout', {})).status, 200);
    assert.equal(await storedFor(bobPhone), 0);
  });

  test('bad bodies are M_BAD_JSON or M_MISSING_PARAM', async () => {
    assertError(await checked(server, alice, 'PUT', '/sendToDevice/m.test/bad1', {}), 400, 'M_MISSING_PARAM');
    assertError(await send(alice, 'm.test', 'nope'), 400, 'M_BAD_JSON');
    assertError(await send(alice, 'm.test', { [bob.userId]: { [bob.deviceId]: 'not an object' } }), 400, 'M_BAD_JSON');
  });
});
