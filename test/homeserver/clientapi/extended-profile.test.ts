// Issue #14 (admin part): extended profile fields (profile.yaml, v1.16): any namespaced key next
// to displayname and avatar_url, the key rules, the 64 KiB bound, and the fields over federation.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient, type MatrixClient } from 'matrix-js-sdk';
import { freePort, registerUser, call, startFederatedTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';
import { fetchFn, quietLogger } from '../../helpers/sdk.ts';
import { PROFILE_MAX_BYTES } from '../../../homeserver/users/profiles.ts';

const enc = encodeURIComponent;

/** A request through the OpenAPI-validating fetch. */
async function req(server: TestServer, user: TestUser | undefined, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetchFn(`${server.api}${path}`, {
    method,
    headers: user ? { authorization: `Bearer ${user.accessToken}` } : {},
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
}

describe('extended profile fields', () => {
  let a: TestServer;
  let b: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let aliceSdk: MatrixClient;
  before(async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    const [A, B] = [`127.0.0.1:${pa}`, `127.0.0.1:${pb}`];
    a = await startFederatedTestServer(pa, { trustSelfSigned: [B] });
    b = await startFederatedTestServer(pb, { trustSelfSigned: [A] });
    alice = await registerUser(a, 'alice');
    bob = await registerUser(b, 'bob');
    aliceSdk = createClient({ baseUrl: a.url, fetchFn, logger: quietLogger, accessToken: alice.accessToken, userId: alice.userId });
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
  });

  test('matrix-js-sdk sets, reads and deletes m.tz and a custom field of any JSON type, beside the display name', async () => {
    assert.equal(await aliceSdk.doesServerSupportExtendedProfiles(), true);
    await aliceSdk.setExtendedProfileProperty('m.tz', 'Europe/London');
    await aliceSdk.setExtendedProfileProperty('org.example.job', { title: 'baker', years: [1, 2] });
    assert.deepEqual(await aliceSdk.getExtendedProfile(alice.userId), {
      displayname: 'alice',
      'm.tz': 'Europe/London',
      'org.example.job': { title: 'baker', years: [1, 2] },
    });
    await aliceSdk.deleteExtendedProfileProperty('org.example.job');
    assert.equal((await req(a, alice, 'GET', `/profile/${enc(alice.userId)}/org.example.job`)).status, 404);
    assert.deepEqual((await req(a, alice, 'GET', `/profile/${enc(alice.userId)}/m.tz`)).body, { 'm.tz': 'Europe/London' });
  });

  test('keys follow profile.yaml: bad names M_INVALID_PARAM, over 255 bytes M_KEY_TOO_LARGE, a body without the key M_MISSING_PARAM; null is stored', async () => {
    const me = enc(alice.userId);
    assert.equal((await req(a, alice, 'PUT', `/profile/${me}/Org.Example`, { 'Org.Example': 1 })).body.errcode, 'M_INVALID_PARAM');
    assert.equal((await req(a, alice, 'PUT', `/profile/${me}/nodots`, { nodots: 1 })).body.errcode, 'M_INVALID_PARAM');
    const long = `org.${'x'.repeat(260)}`;
    assert.equal((await req(a, alice, 'PUT', `/profile/${me}/${long}`, { [long]: 1 })).body.errcode, 'M_KEY_TOO_LARGE');
    assert.equal((await req(a, alice, 'PUT', `/profile/${me}/org.example.a`, { other: 1 })).body.errcode, 'M_MISSING_PARAM');
    assert.equal((await req(a, alice, 'PUT', `/profile/${me}/m.tz`, { 'm.tz': 5 })).body.errcode, 'M_BAD_JSON');
    assert.equal((await req(a, alice, 'PUT', `/profile/${me}/org.example.n`, { 'org.example.n': null })).status, 200);
    assert.deepEqual((await req(a, alice, 'GET', `/profile/${me}/org.example.n`)).body, { 'org.example.n': null });
    assert.equal((await req(a, alice, 'DELETE', `/profile/${me}/org.example.n`)).status, 200);
    const notMine = await req(a, alice, 'DELETE', `/profile/${enc('@someone:localhost')}/m.tz`);
    assert.equal(notMine.status, 403);
  });

  test(`a change that would take the profile to ${PROFILE_MAX_BYTES} bytes is refused with M_PROFILE_TOO_LARGE and changes nothing`, async () => {
    const me = enc(alice.userId);
    const big = 'x'.repeat(40 * 1024);
    assert.equal((await req(a, alice, 'PUT', `/profile/${me}/org.example.big`, { 'org.example.big': big })).status, 200);
    const over = await req(a, alice, 'PUT', `/profile/${me}/org.example.more`, { 'org.example.more': big });
    assert.deepEqual([over.status, over.body.errcode], [400, 'M_PROFILE_TOO_LARGE']);
    assert.equal((await req(a, alice, 'GET', `/profile/${me}/org.example.more`)).status, 404);
    // Replacing a field counts its new value, not old and new together.
    assert.equal((await req(a, alice, 'PUT', `/profile/${me}/org.example.big`, { 'org.example.big': `${big}y` })).status, 200);
    assert.equal((await req(a, alice, 'DELETE', `/profile/${me}/org.example.big`)).status, 200);
  });

  test('deleting displayname clears it from the profile and from the member event in each joined room', async () => {
    const roomId = (await call(a, alice, 'POST', '/createRoom', {})).body.room_id;
    assert.equal((await req(a, alice, 'DELETE', `/profile/${enc(alice.userId)}/displayname`)).status, 200);
    assert.equal((await req(a, alice, 'GET', `/profile/${enc(alice.userId)}/displayname`)).status, 404);
    const member = await req(a, alice, 'GET', `/rooms/${enc(roomId)}/state/m.room.member/${enc(alice.userId)}`);
    assert.equal(member.body.displayname, undefined);
    assert.equal(member.body.membership, 'join');
    assert.equal((await req(a, alice, 'PUT', `/profile/${enc(alice.userId)}/displayname`, { displayname: 'Alice' })).status, 200);
  });

  test("a user of another server reads the extended fields through federation's profile query", async () => {
    await aliceSdk.setExtendedProfileProperty('org.example.pronouns', 'she/her');
    const whole = await req(b, bob, 'GET', `/profile/${enc(alice.userId)}`);
    assert.equal(whole.status, 200);
    assert.equal(whole.body['m.tz'], 'Europe/London');
    assert.equal(whole.body['org.example.pronouns'], 'she/her');
    assert.deepEqual((await req(b, bob, 'GET', `/profile/${enc(alice.userId)}/org.example.pronouns`)).body, { 'org.example.pronouns': 'she/her' });
  });
});
