// Cross-signing over real HTTP (cross_signing.yaml): the first upload of a master key needs no
// user-interactive auth, repeating it neither; replacing keys does (m.login.password); signatures
// are checked against the right key and merged into keys/query. Every response is validated
// against the spec's OpenAPI.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { registerUser, startTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';
import { assertError, checked } from '../../helpers/checked-call.ts';
import { crossSigningKey, crossSigningSet, ed25519, signAs, testDevice, type CrossSigningSet, type TestDevice } from './e2ee-helpers.ts';

const PASSWORD = 'correct horse battery staple';
let server: TestServer;
let alice: TestUser;
let bob: TestUser;
let aliceDevice: TestDevice;
let aliceKeys: CrossSigningSet;
let bobKeys: CrossSigningSet;

before(async () => {
  server = await startTestServer();
  alice = await registerUser(server, 'alice');
  bob = await registerUser(server, 'bob');
  aliceDevice = testDevice(alice);
  await checked(server, alice, 'POST', '/keys/upload', { device_keys: aliceDevice.deviceKeys });
  aliceKeys = crossSigningSet(alice.userId);
  bobKeys = crossSigningSet(bob.userId);
});
after(() => server?.stop());

const upload = (user: TestUser, body: unknown) => checked(server, user, 'POST', '/keys/device_signing/upload', body);
const query = (user: TestUser, who: string) => checked(server, user, 'POST', '/keys/query', { device_keys: { [who]: [] } });

describe('keys/device_signing/upload', () => {
  test('the first upload needs no UIA; keys/query returns master and self-signing keys, user-signing only to the owner', async () => {
    const res = await upload(alice, aliceKeys.body);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const own = await query(alice, alice.userId);
    assert.deepEqual(own.body.master_keys[alice.userId], aliceKeys.body.master_key);
    assert.deepEqual(own.body.self_signing_keys[alice.userId], aliceKeys.body.self_signing_key);
    assert.deepEqual(own.body.user_signing_keys[alice.userId], aliceKeys.body.user_signing_key);
    const other = await query(bob, alice.userId);
    assert.deepEqual(other.body.master_keys[alice.userId], aliceKeys.body.master_key);
    assert.equal(other.body.user_signing_keys?.[alice.userId], undefined, "bob may not see alice's user-signing key");
  });

  test('uploading exactly the stored keys again needs no UIA (an idempotent retry)', async () => {
    assert.equal((await upload(alice, aliceKeys.body)).status, 200);
  });

  test('replacing the keys needs m.login.password: 401 with flows, a wrong password fails, the right one succeeds', async () => {
    const fresh = crossSigningSet(alice.userId);
    const challenge = await upload(alice, fresh.body);
    assert.equal(challenge.status, 401);
    assert.deepEqual(challenge.body.flows, [{ stages: ['m.login.password'] }]);
    const session = challenge.body.session as string;
    const identifier = { type: 'm.id.user', user: alice.userId };
    const wrong = await upload(alice, { ...fresh.body, auth: { type: 'm.login.password', identifier, password: 'nope', session } });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.errcode, 'M_FORBIDDEN');
    const ok = await upload(alice, { ...fresh.body, auth: { type: 'm.login.password', identifier, password: PASSWORD, session } });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual((await query(bob, alice.userId)).body.master_keys[alice.userId], fresh.body.master_key);
    aliceKeys = fresh;
  });

  test('a self-signing key not signed by the master key is 400 M_INVALID_SIGNATURE', async () => {
    const keys = crossSigningSet(bob.userId);
    const badSsk = signAs(crossSigningKey(bob.userId, 'self_signing', keys.selfSigning), bob.userId, keys.master.publicKey, ed25519());
    assertError(await upload(bob, { master_key: keys.body.master_key, self_signing_key: badSsk }), 400, 'M_INVALID_SIGNATURE');
  });

  test('a self-signing key with no master key anywhere is 400 M_MISSING_PARAM', async () => {
    const carol = await registerUser(server, 'carol');
    const keys = crossSigningSet(carol.userId);
    assertError(await upload(carol, { self_signing_key: keys.body.self_signing_key }), 400, 'M_MISSING_PARAM');
  });

  test("malformed keys are 400: another user's key, wrong usage, two keys in one", async () => {
    const keys = crossSigningSet(bob.userId);
    assertError(await upload(bob, { master_key: crossSigningKey(alice.userId, 'master', keys.master) }), 400, 'M_INVALID_PARAM');
    assertError(await upload(bob, { master_key: crossSigningKey(bob.userId, 'self_signing', keys.master) }), 400, 'M_INVALID_PARAM');
    const two = {
      ...crossSigningKey(bob.userId, 'master', keys.master),
      keys: { [`ed25519:${keys.master.publicKey}`]: keys.master.publicKey, 'ed25519:x': 'x' },
    };
    assertError(await upload(bob, { master_key: two }), 400, 'M_INVALID_PARAM');
    assertError(await upload(bob, { master_key: 'key' }), 400, 'M_BAD_JSON');
  });
});

describe('keys/signatures/upload', () => {
  test("alice signs her device with her self-signing key; bob's keys/query shows the signature", async () => {
    const signed = signAs(aliceDevice.deviceKeys, alice.userId, aliceKeys.selfSigning.publicKey, aliceKeys.selfSigning);
    const res = await checked(server, alice, 'POST', '/keys/signatures/upload', { [alice.userId]: { [alice.deviceId]: signed } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.failures, {});
    const got = (await query(bob, alice.userId)).body.device_keys[alice.userId][alice.deviceId];
    assert.equal(
      got.signatures[alice.userId][`ed25519:${aliceKeys.selfSigning.publicKey}`],
      (signed.signatures as any)[alice.userId][`ed25519:${aliceKeys.selfSigning.publicKey}`],
    );
    assert.ok(got.signatures[alice.userId][`ed25519:${alice.deviceId}`], 'the device self-signature stays');
  });

  test("alice signs bob's master key with her user-signing key: she sees it, bob's other viewers do not", async () => {
    assert.equal((await upload(bob, bobKeys.body)).status, 200);
    const signed = signAs(bobKeys.body.master_key, alice.userId, aliceKeys.userSigning.publicKey, aliceKeys.userSigning);
    const res = await checked(server, alice, 'POST', '/keys/signatures/upload', { [bob.userId]: { [bobKeys.master.publicKey]: signed } });
    assert.deepEqual(res.body.failures, {});
    const seenByAlice = (await query(alice, bob.userId)).body.master_keys[bob.userId];
    assert.ok(seenByAlice.signatures?.[alice.userId]?.[`ed25519:${aliceKeys.userSigning.publicKey}`], 'alice sees her signature');
    const carol = await registerUser(server, 'carol2');
    const seenByCarol = (await query(carol, bob.userId)).body.master_keys[bob.userId];
    assert.equal(seenByCarol.signatures?.[alice.userId], undefined, "carol does not see alice's signature on bob");
  });

  test('a bad signature, a changed key and an unknown key are reported per key in failures', async () => {
    const badSig = signAs(aliceDevice.deviceKeys, alice.userId, aliceKeys.selfSigning.publicKey, ed25519());
    const changed = signAs({ ...aliceDevice.deviceKeys, algorithms: [] }, alice.userId, aliceKeys.selfSigning.publicKey, aliceKeys.selfSigning);
    const res = await checked(server, alice, 'POST', '/keys/signatures/upload', {
      [alice.userId]: { [alice.deviceId]: badSig, NOSUCHKEY: changed },
      [bob.userId]: { [bob.deviceId]: changed },
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.failures[alice.userId][alice.deviceId].errcode, 'M_INVALID_SIGNATURE');
    assert.equal(res.body.failures[alice.userId].NOSUCHKEY.errcode, 'M_NOT_FOUND');
    assert.equal(res.body.failures[bob.userId][bob.deviceId].errcode, 'M_NOT_FOUND');
    const changedOwn = await checked(server, alice, 'POST', '/keys/signatures/upload', { [alice.userId]: { [alice.deviceId]: changed } });
    assert.equal(changedOwn.body.failures[alice.userId][alice.deviceId].errcode, 'M_INVALID_PARAM');
  });
});
