// Account data is bounded (issue #13: "account data has no cap"): per item in bytes, per user in
// items and in bytes, whatever path writes it (global, per room, room tags, push rules). Over a
// bound is 413 M_TOO_LARGE and stores nothing; replacing an item does not count it twice.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { registerUser, startTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';
import { assertError, checked } from '../../helpers/checked-call.ts';

let server: TestServer;
let alice: TestUser;

const LIMITS = { accountDataItemBytes: 2_000, accountDataItemsPerUser: 10, accountDataBytesPerUser: 8_000 };

before(async () => {
  server = await startTestServer({ growthLimits: LIMITS });
  alice = await registerUser(server, 'alice');
});
after(() => server?.stop());

const put = (user: TestUser, type: string, content: unknown, roomId?: string) =>
  checked(
    server,
    user,
    'PUT',
    roomId
      ? `/user/${encodeURIComponent(user.userId)}/rooms/${encodeURIComponent(roomId)}/account_data/${type}`
      : `/user/${encodeURIComponent(user.userId)}/account_data/${type}`,
    content,
  );

describe('account data bounds', () => {
  test('an item over the per-item bound is 413 M_TOO_LARGE and is not stored', async () => {
    assertError(await put(alice, 'org.example.big', { v: 'x'.repeat(2_000) }), 413, 'M_TOO_LARGE');
    assertError(await checked(server, alice, 'GET', `/user/${encodeURIComponent(alice.userId)}/account_data/org.example.big`), 404, 'M_NOT_FOUND');
  });

  test('items beyond the per-user count are refused, across global and room account data; replacing one still works', async () => {
    const bob = await registerUser(server, 'bob');
    for (let i = 0; i < 5; i++) assert.equal((await put(bob, `org.example.g${i}`, { i })).status, 200);
    for (let i = 0; i < 5; i++) assert.equal((await put(bob, 'org.example.r', { i }, `!room${i}:${server.serverName}`)).status, 200);
    assertError(await put(bob, 'org.example.g5', { i: 5 }), 413, 'M_TOO_LARGE');
    assertError(await put(bob, 'org.example.r', { i: 5 }, `!room5:${server.serverName}`), 413, 'M_TOO_LARGE');
    // A room tag is room account data: bounded the same way.
    const tag = await checked(
      server,
      bob,
      'PUT',
      `/user/${encodeURIComponent(bob.userId)}/rooms/${encodeURIComponent(`!room6:${server.serverName}`)}/tags/u.work`,
      {},
    );
    assertError(tag, 413, 'M_TOO_LARGE');
    assert.equal((await put(bob, 'org.example.g0', { replaced: true })).status, 200, 'replacing an item is not a new one');
  });

  test('the per-user byte total is bounded: items of 1.5 kB stop before 8 kB in all', async () => {
    const carol = await registerUser(server, 'carol');
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await put(carol, `org.example.b${i}`, { v: 'y'.repeat(1_500) })).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 413, 413, 413]);
  });

  test('push rules cannot grow forever: a ruleset past 256 KiB is 413 M_TOO_LARGE', async () => {
    const dave = await registerUser(server, 'dave');
    let last = 200;
    let added = 0;
    for (let i = 0; i < 200 && last === 200; i++) {
      const res = await checked(server, dave, 'PUT', `/pushrules/global/content/rule${i}`, { pattern: `${i}${'p'.repeat(2_000)}`, actions: ['notify'] });
      last = res.status;
      if (last === 200) added++;
      else assertError(res, 413, 'M_TOO_LARGE');
    }
    assert.equal(last, 413, `${added} rules added without a bound`);
  });
});
