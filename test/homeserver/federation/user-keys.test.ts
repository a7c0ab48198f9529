// E2EE keys across two real Hearth servers on loopback: B serves GET /user/devices, POST
// /user/keys/query and /user/keys/claim for its own users (signed requests from A's real client),
// and a user of A gets a user of B's keys through A's client API (/keys/query, /keys/claim), with
// unreachable servers reported in `failures`; remote profiles go through /query/profile. Every
// response is validated against the spec's OpenAPI.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, registerUser, startFederatedTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';
import { serverServerValidator } from '../../helpers/openapi.ts';
import { assertError, checked } from '../../helpers/checked-call.ts';
import { FederationRequestError } from '../../../homeserver/federation/client.ts';
import { crossSigningSet, fallbackKey, oneTimeKeys, testDevice, type CrossSigningSet, type TestDevice } from '../e2ee/e2ee-helpers.ts';
import { assertNoValidationFailures, validationCounts } from '../../helpers/openapi.ts';

const validator = serverServerValidator();

describe('E2EE keys across servers', () => {
  let a: TestServer, b: TestServer;
  let A: string, B: string;
  let alice: TestUser, bob: TestUser;
  let bobDevice: TestDevice;
  let bobCross: CrossSigningSet;

  /** A signed request from A to B, its answer validated against the server-server OpenAPI. */
  async function fromA(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    try {
      // As plain objects: the client parses answers into null-prototype ones, which deepEqual tells apart.
      const r = JSON.parse(JSON.stringify(await a.hs.federation!.client.request<any>(B, method, path, body)));
      validator.validateResponse(method, path, 200, r);
      return { status: 200, body: r };
    } catch (err) {
      if (!(err instanceof FederationRequestError) || err.kind !== 'response') throw err;
      validator.validateErrorBody(err.body, `${method} ${path}`);
      return { status: err.status, body: err.body };
    }
  }

  before(async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    A = `127.0.0.1:${pa}`;
    B = `127.0.0.1:${pb}`;
    a = await startFederatedTestServer(pa, { trustSelfSigned: [B] });
    b = await startFederatedTestServer(pb, { trustSelfSigned: [A] });
    alice = await registerUser(a, 'alice');
    bob = await registerUser(b, 'bob');
    bobDevice = testDevice(bob);
    bobCross = crossSigningSet(bob.userId);
    const up = await checked(b, bob, 'POST', '/keys/upload', {
      device_keys: bobDevice.deviceKeys,
      one_time_keys: oneTimeKeys(bobDevice, 2),
      fallback_keys: fallbackKey(bobDevice, 'FB'),
    });
    assert.equal(up.status, 200, JSON.stringify(up.body));
    const cs = await checked(b, bob, 'POST', '/keys/device_signing/upload', bobCross.body);
    assert.equal(cs.status, 200, JSON.stringify(cs.body));
    const named = await checked(b, bob, 'PUT', `/devices/${bob.deviceId}`, { display_name: 'Bob phone' });
    assert.equal(named.status, 200);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  describe('routes B serves', () => {
    test("GET /user/devices/{userId}: bob's device with its keys and name, his master and self-signing keys, never the user-signing key", async () => {
      const r = await fromA('GET', `/_matrix/federation/v1/user/devices/${encodeURIComponent(bob.userId)}`);
      assert.equal(r.status, 200);
      assert.equal(r.body.user_id, bob.userId);
      assert.ok(Number.isInteger(r.body.stream_id));
      assert.equal(r.body.devices.length, 1);
      assert.equal(r.body.devices[0].device_id, bob.deviceId);
      assert.equal(r.body.devices[0].device_display_name, 'Bob phone');
      assert.deepEqual(r.body.devices[0].keys, bobDevice.deviceKeys);
      assert.deepEqual(r.body.master_key, bobCross.body.master_key);
      assert.deepEqual(r.body.self_signing_key, bobCross.body.self_signing_key);
      assert.equal(r.body.user_signing_key, undefined);
    });

    test('GET /user/devices/{userId} for a user of another server is refused with M_INVALID_PARAM', async () => {
      const r = await fromA('GET', `/_matrix/federation/v1/user/devices/${encodeURIComponent(alice.userId)}`);
      assert.equal(r.status, 400);
      assert.equal(r.body.errcode, 'M_INVALID_PARAM');
    });

    test('POST /user/keys/query answers for local users only, leaving others out', async () => {
      const r = await fromA('POST', '/_matrix/federation/v1/user/keys/query', { device_keys: { [bob.userId]: [], [alice.userId]: [], [`@nobody:${B}`]: [] } });
      assert.equal(r.status, 200);
      assert.deepEqual(Object.keys(r.body.device_keys), [bob.userId]);
      const { unsigned, ...signed } = r.body.device_keys[bob.userId][bob.deviceId];
      assert.deepEqual(signed, bobDevice.deviceKeys);
      assert.deepEqual(unsigned, { device_display_name: 'Bob phone' });
      assert.deepEqual(r.body.master_keys[bob.userId], bobCross.body.master_key);
      assert.deepEqual(r.body.self_signing_keys[bob.userId], bobCross.body.self_signing_key);
      assert.equal(r.body.user_signing_keys, undefined);
    });

    test('POST /user/keys/claim hands out each one-time key once, in order, then the fallback key', async () => {
      const ask = { one_time_keys: { [bob.userId]: { [bob.deviceId]: 'signed_curve25519' } } };
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await fromA('POST', '/_matrix/federation/v1/user/keys/claim', ask);
        assert.equal(r.status, 200);
        ids.push(...Object.keys(r.body.one_time_keys[bob.userId][bob.deviceId]));
      }
      assert.deepEqual(ids, ['signed_curve25519:AAAA0', 'signed_curve25519:AAAA1', 'signed_curve25519:FB']);
      // Re-stock bob for the client-side claim below.
      await checked(b, bob, 'POST', '/keys/upload', { one_time_keys: oneTimeKeys(bobDevice, 1, 10) });
    });

    test('POST /user/keys/query with a malformed body is M_BAD_JSON', async () => {
      const r = await fromA('POST', '/_matrix/federation/v1/user/keys/query', { device_keys: { [bob.userId]: 'all' } });
      assert.equal(r.status, 400);
      assert.equal(r.body.errcode, 'M_BAD_JSON');
    });
  });

  describe("A's client API forwards the remote part", () => {
    test("alice's /keys/query for bob returns his device, master and self-signing keys from B", async () => {
      const r = await checked(a, alice, 'POST', '/keys/query', { device_keys: { [bob.userId]: [], [alice.userId]: [] } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(r.body.failures, {});
      const { unsigned, ...signed } = r.body.device_keys[bob.userId][bob.deviceId];
      assert.deepEqual(signed, bobDevice.deviceKeys);
      assert.deepEqual(unsigned, { device_display_name: 'Bob phone' });
      assert.deepEqual(r.body.master_keys[bob.userId], bobCross.body.master_key);
      assert.deepEqual(r.body.self_signing_keys[bob.userId], bobCross.body.self_signing_key);
      assert.deepEqual(r.body.device_keys[alice.userId], {});
    });

    test('a query naming one device of bob returns only that device; an unknown device is left out', async () => {
      const r = await checked(a, alice, 'POST', '/keys/query', { device_keys: { [bob.userId]: ['NOSUCHDEVICE'] } });
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.device_keys[bob.userId], {});
    });

    test('an unreachable server is reported in failures while the rest is answered', async () => {
      const dead = `127.0.0.1:${await freePort()}`;
      const r = await checked(a, alice, 'POST', '/keys/query', { timeout: 3000, device_keys: { [`@carol:${dead}`]: [], [bob.userId]: [] } });
      assert.equal(r.status, 200);
      assert.ok(r.body.failures[dead], JSON.stringify(r.body));
      assert.ok(r.body.device_keys[bob.userId][bob.deviceId]);
      assert.equal(r.body.device_keys[`@carol:${dead}`], undefined);
      const c = await checked(a, alice, 'POST', '/keys/claim', { timeout: 3000, one_time_keys: { [`@carol:${dead}`]: { X: 'signed_curve25519' } } });
      assert.equal(c.status, 200);
      assert.ok(c.body.failures[dead], JSON.stringify(c.body));
    });

    test("alice's /keys/claim takes one of bob's one-time keys from B", async () => {
      const r = await checked(a, alice, 'POST', '/keys/claim', { one_time_keys: { [bob.userId]: { [bob.deviceId]: 'signed_curve25519' } } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(r.body.failures, {});
      assert.deepEqual(Object.keys(r.body.one_time_keys[bob.userId][bob.deviceId]), ['signed_curve25519:AAAA10']);
      const counts = await checked(b, bob, 'POST', '/keys/upload', {});
      assert.deepEqual(counts.body.one_time_key_counts, { signed_curve25519: 0 });
    });

    test('GET /profile of a user of B asks B; an unknown user of B is 404', async () => {
      await checked(b, bob, 'PUT', `/profile/${encodeURIComponent(bob.userId)}/displayname`, { displayname: 'Bob of B' });
      const r = await checked(a, alice, 'GET', `/profile/${encodeURIComponent(bob.userId)}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.displayname, 'Bob of B');
      const field = await checked(a, alice, 'GET', `/profile/${encodeURIComponent(bob.userId)}/displayname`);
      assert.deepEqual(field.body, { displayname: 'Bob of B' });
      assertError(await checked(a, alice, 'GET', `/profile/${encodeURIComponent(`@nobody:${B}`)}`), 404, 'M_NOT_FOUND');
    });
  });

  test('every federation response the servers received matched the server-server OpenAPI', () => {
    assert.ok(validationCounts().validated > 0, 'federation responses were validated');
    assertNoValidationFailures();
  });
});
