// keys/upload, keys/query and keys/claim over real HTTP: what a device publishes comes back to
// others as uploaded, one-time keys are handed out once each and in upload order, the fallback key
// follows when they run out, and malformed uploads get the spec's standard errors. Every response
// is validated against the spec's OpenAPI.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { registerUser, startTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';
import { assertError, assertStillServing, checked } from '../../helpers/checked-call.ts';
import { ed25519, fallbackKey, oneTimeKeys, signAs, testDevice, type TestDevice } from './e2ee-helpers.ts';

let server: TestServer;
let alice: TestUser;
let bob: TestUser;
let aliceDevice: TestDevice;

before(async () => {
  server = await startTestServer();
  alice = await registerUser(server, 'alice');
  bob = await registerUser(server, 'bob');
  aliceDevice = testDevice(alice);
});
after(() => server?.stop());

async function sync(user: TestUser, since?: string) {
  const res = await checked(server, user, 'GET', `/sync?timeout=0${since ? `&since=${since}` : ''}`);
  assert.equal(res.status, 200);
  return res.body;
}

describe('keys/upload and keys/query', () => {
  test('device keys signed by the device are stored; one_time_key_counts counts the one-time keys', async () => {
    const res = await checked(server, alice, 'POST', '/keys/upload', {
      device_keys: aliceDevice.deviceKeys,
      one_time_keys: oneTimeKeys(aliceDevice, 5),
      fallback_keys: fallbackKey(aliceDevice, 'FB1'),
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.one_time_key_counts, { signed_curve25519: 5 });
    // Re-sending the same keys (a retried request) changes nothing.
    const again = await checked(server, alice, 'POST', '/keys/upload', { one_time_keys: oneTimeKeys(aliceDevice, 0) });
    assert.deepEqual(again.body.one_time_key_counts, { signed_curve25519: 5 });
  });

  test('/sync reports device_one_time_keys_count and the unused fallback key type', async () => {
    const body = await sync(alice);
    assert.deepEqual(body.device_one_time_keys_count, { signed_curve25519: 5 });
    assert.deepEqual(body.device_unused_fallback_key_types, ['signed_curve25519']);
  });

  test('bob queries alice: her device keys as uploaded, with unsigned.device_display_name', async () => {
    await checked(server, alice, 'PUT', `/devices/${alice.deviceId}`, { display_name: 'Alice laptop' });
    const res = await checked(server, bob, 'POST', '/keys/query', { device_keys: { [alice.userId]: [] } });
    assert.equal(res.status, 200);
    const got = res.body.device_keys[alice.userId][alice.deviceId];
    const { unsigned, ...signedPart } = got;
    assert.deepEqual(signedPart, aliceDevice.deviceKeys);
    assert.deepEqual(unsigned, { device_display_name: 'Alice laptop' });
    assert.deepEqual(res.body.failures, {});
  });

  test('a query for named devices returns only those; an unknown user is left out, not a failure', async () => {
    const res = await checked(server, bob, 'POST', '/keys/query', { device_keys: { [alice.userId]: ['NOSUCHDEVICE'], '@nobody:localhost': [] } });
    assert.deepEqual(res.body.device_keys, { [alice.userId]: {} });
    assert.deepEqual(res.body.failures, {});
  });
});

describe('keys/claim', () => {
  test('one-time keys are claimed one at a time, never twice, then the fallback key (marked used)', async () => {
    const claim = () => checked(server, bob, 'POST', '/keys/claim', { one_time_keys: { [alice.userId]: { [alice.deviceId]: 'signed_curve25519' } } });
    const seen = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const res = await claim();
      assert.equal(res.status, 200);
      const keys = res.body.one_time_keys[alice.userId][alice.deviceId];
      const [name] = Object.keys(keys);
      assert.match(name!, /^signed_curve25519:AAAA\d$/);
      assert.ok(!seen.has(name!), `${name} handed out twice`);
      seen.add(name!);
    }
    assert.equal(seen.size, 5);
    assert.deepEqual((await sync(alice)).device_one_time_keys_count, { signed_curve25519: 0 });

    // Exhausted: the fallback key, as many times as asked, until the device replaces it.
    for (let i = 0; i < 2; i++) {
      const res = await claim();
      const keys = res.body.one_time_keys[alice.userId][alice.deviceId];
      assert.deepEqual(Object.keys(keys), ['signed_curve25519:FB1']);
      assert.equal(keys['signed_curve25519:FB1'].fallback, true);
    }
    assert.deepEqual((await sync(alice)).device_unused_fallback_key_types, [], 'the used fallback key is no longer unused');

    await checked(server, alice, 'POST', '/keys/upload', { fallback_keys: fallbackKey(aliceDevice, 'FB2') });
    assert.deepEqual((await sync(alice)).device_unused_fallback_key_types, ['signed_curve25519'], 'a new fallback key is unused');
  });

  test('keys are claimed in upload order: an earlier upload goes first', async () => {
    await checked(server, alice, 'POST', '/keys/upload', { one_time_keys: oneTimeKeys(aliceDevice, 1, 10) });
    await checked(server, alice, 'POST', '/keys/upload', { one_time_keys: oneTimeKeys(aliceDevice, 1, 20) });
    const order: string[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await checked(server, bob, 'POST', '/keys/claim', { one_time_keys: { [alice.userId]: { [alice.deviceId]: 'signed_curve25519' } } });
      order.push(Object.keys(res.body.one_time_keys[alice.userId][alice.deviceId])[0]!);
    }
    assert.deepEqual(order, ['signed_curve25519:AAAA10', 'signed_curve25519:AAAA20']);
  });

  test('concurrent claims of the last one-time key: exactly one gets it', async () => {
    await checked(server, alice, 'POST', '/keys/upload', { one_time_keys: oneTimeKeys(aliceDevice, 1, 30) });
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        checked(server, bob, 'POST', '/keys/claim', { one_time_keys: { [alice.userId]: { [alice.deviceId]: 'signed_curve25519' } } }),
      ),
    );
    const names = results.map((r) => Object.keys(r.body.one_time_keys[alice.userId][alice.deviceId])[0]);
    assert.equal(names.filter((n) => n === 'signed_curve25519:AAAA30').length, 1);
  });

  test('a device with no keys of that algorithm is simply absent', async () => {
    const res = await checked(server, bob, 'POST', '/keys/claim', {
      one_time_keys: { [alice.userId]: { [alice.deviceId]: 'other_algorithm' }, [bob.userId]: { [bob.deviceId]: 'signed_curve25519' } },
    });
    assert.deepEqual(res.body.one_time_keys, {});
  });
});

describe('malformed key uploads are standard 400 errors', () => {
  test('device_keys for another user or device is M_INVALID_PARAM', async () => {
    const carol = testDevice(bob);
    assertError(await checked(server, alice, 'POST', '/keys/upload', { device_keys: carol.deviceKeys }), 400, 'M_INVALID_PARAM');
    const otherDevice = signAs({ ...stripSigs(aliceDevice.deviceKeys), device_id: 'OTHER' }, alice.userId, alice.deviceId, aliceDevice.key);
    assertError(await checked(server, alice, 'POST', '/keys/upload', { device_keys: otherDevice }), 400, 'M_INVALID_PARAM');
  });

  test('a bad self-signature is M_INVALID_PARAM: signed by another key, tampered after signing, or missing', async () => {
    const base = stripSigs(aliceDevice.deviceKeys);
    const byOtherKey = signAs(base, alice.userId, alice.deviceId, ed25519());
    assertError(await checked(server, alice, 'POST', '/keys/upload', { device_keys: byOtherKey }), 400, 'M_INVALID_PARAM');
    const tampered = { ...aliceDevice.deviceKeys, algorithms: ['m.megolm.v1.aes-sha2'] };
    assertError(await checked(server, alice, 'POST', '/keys/upload', { device_keys: tampered }), 400, 'M_INVALID_PARAM');
    assertError(await checked(server, alice, 'POST', '/keys/upload', { device_keys: { ...base, signatures: {} } }), 400, 'M_INVALID_PARAM');
  });

  test('wrong types are M_BAD_JSON: device_keys a string, algorithms not an array, keys not strings, a one-time key without `key`', async () => {
    const base = aliceDevice.deviceKeys;
    for (const body of [
      { device_keys: 'keys' },
      { device_keys: { ...base, algorithms: 'm.megolm.v1.aes-sha2' } },
      { device_keys: { ...base, keys: { 'ed25519:X': 5 } } },
      { device_keys: { ...base, signatures: 'sig' } },
      { one_time_keys: [] },
      { one_time_keys: { 'signed_curve25519:A': { signatures: {} } } },
      { one_time_keys: { nocolon: 'abc' } },
      { fallback_keys: { 'signed_curve25519:A': 7 } },
    ]) {
      assertError(await checked(server, alice, 'POST', '/keys/upload', body), 400, 'M_BAD_JSON');
    }
    assertError(await checked(server, alice, 'POST', '/keys/upload', undefined, { raw: '{"device_keys":' }), 400, 'M_NOT_JSON');
  });

  test('two fallback keys of one algorithm, or a different key under a used one-time key id, are M_INVALID_PARAM', async () => {
    const two = { ...fallbackKey(aliceDevice, 'X1'), ...fallbackKey(aliceDevice, 'X2') };
    assertError(await checked(server, alice, 'POST', '/keys/upload', { fallback_keys: two }), 400, 'M_INVALID_PARAM');
    await checked(server, alice, 'POST', '/keys/upload', { one_time_keys: oneTimeKeys(aliceDevice, 1, 40) });
    assertError(await checked(server, alice, 'POST', '/keys/upload', { one_time_keys: oneTimeKeys(aliceDevice, 1, 40) }), 400, 'M_INVALID_PARAM');
  });

  test('bad query and claim bodies are M_BAD_JSON; the server keeps serving', async () => {
    assertError(await checked(server, bob, 'POST', '/keys/query', { device_keys: { [alice.userId]: 'all' } }), 400, 'M_BAD_JSON');
    assertError(await checked(server, bob, 'POST', '/keys/query', {}), 400, 'M_BAD_JSON');
    assertError(await checked(server, bob, 'POST', '/keys/claim', { one_time_keys: { [alice.userId]: { [alice.deviceId]: 5 } } }), 400, 'M_BAD_JSON');
    await assertStillServing(server, alice);
  });
});

describe('deleting a device deletes its keys', () => {
  test('after logout, the device is gone from keys/query and has nothing to claim', async () => {
    const phone = await loginAgain('alice');
    const d = testDevice(phone);
    await checked(server, phone, 'POST', '/keys/upload', { device_keys: d.deviceKeys, one_time_keys: oneTimeKeys(d, 3), fallback_keys: fallbackKey(d, 'F') });
    let q = await checked(server, bob, 'POST', '/keys/query', { device_keys: { [alice.userId]: [] } });
    assert.ok(q.body.device_keys[alice.userId][phone.deviceId], 'listed while it exists');
    assert.equal((await checked(server, phone, 'POST', '/logout', {})).status, 200);
    q = await checked(server, bob, 'POST', '/keys/query', { device_keys: { [alice.userId]: [] } });
    assert.equal(q.body.device_keys[alice.userId][phone.deviceId], undefined);
    const c = await checked(server, bob, 'POST', '/keys/claim', { one_time_keys: { [alice.userId]: { [phone.deviceId]: 'signed_curve25519' } } });
    assert.deepEqual(c.body.one_time_keys, {}, 'neither one-time nor fallback keys survive the device');
  });
});

describe('deleting a device through UIA deletes its keys too', () => {
  test('DELETE /devices/{id} with m.login.password: the device vanishes from keys/query', async () => {
    const tablet = await loginAgain('alice');
    await checked(server, tablet, 'POST', '/keys/upload', { device_keys: testDevice(tablet).deviceKeys });
    const path = `/devices/${tablet.deviceId}`;
    const challenge = await checked(server, alice, 'DELETE', path, {});
    assert.equal(challenge.status, 401);
    const auth = {
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: alice.userId },
      password: 'correct horse battery staple',
      session: challenge.body.session,
    };
    assert.equal((await checked(server, alice, 'DELETE', path, { auth })).status, 200);
    const q = await checked(server, bob, 'POST', '/keys/query', { device_keys: { [alice.userId]: [tablet.deviceId] } });
    assert.deepEqual(q.body.device_keys[alice.userId], {});
  });
});

function stripSigs(o: Record<string, unknown>): Record<string, unknown> {
  const { signatures: _s, ...rest } = o;
  return rest;
}

async function loginAgain(localpart: string): Promise<TestUser> {
  const res = await checked(server, undefined, 'POST', '/login', {
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user: localpart },
    password: 'correct horse battery staple',
  });
  assert.equal(res.status, 200);
  return { userId: res.body.user_id, accessToken: res.body.access_token, deviceId: res.body.device_id };
}
