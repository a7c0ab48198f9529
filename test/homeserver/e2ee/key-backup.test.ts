// Server-side key backups over real HTTP (key_backup.yaml): version create/read/update/delete,
// keys stored per version, room and session with etag and count, and the spec's rule for which of
// two keys of one session to keep. Every response is validated against the spec's OpenAPI.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { registerUser, startTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';
import { assertError, checked } from '../../helpers/checked-call.ts';

const ALGORITHM = 'm.megolm_backup.v1.curve25519-aes-sha2';
let server: TestServer;
let alice: TestUser;
let bob: TestUser;

before(async () => {
  server = await startTestServer();
  alice = await registerUser(server, 'alice');
  bob = await registerUser(server, 'bob');
});
after(() => server?.stop());

const ROOM = '!room:localhost';
const room = encodeURIComponent(ROOM);

function key(firstMessageIndex: number, forwardedCount: number, isVerified: boolean, tag = 'x') {
  return {
    first_message_index: firstMessageIndex,
    forwarded_count: forwardedCount,
    is_verified: isVerified,
    session_data: { ephemeral: 'e', ciphertext: `c-${tag}`, mac: 'm' },
  };
}

describe('backup versions', () => {
  let v1: string;
  let v2: string;

  test('no backup yet: GET room_keys/version is 404 M_NOT_FOUND', async () => {
    assertError(await checked(server, alice, 'GET', '/room_keys/version'), 404, 'M_NOT_FOUND');
  });

  test('POST creates a version; GET returns it as current with count 0 and an etag', async () => {
    const res = await checked(server, alice, 'POST', '/room_keys/version', { algorithm: ALGORITHM, auth_data: { public_key: 'abc' } });
    assert.equal(res.status, 200);
    v1 = res.body.version;
    const cur = await checked(server, alice, 'GET', '/room_keys/version');
    assert.deepEqual({ ...cur.body, etag: undefined }, { algorithm: ALGORITHM, auth_data: { public_key: 'abc' }, count: 0, version: v1, etag: undefined });
    assert.equal(typeof cur.body.etag, 'string');
    assertError(await checked(server, bob, 'GET', `/room_keys/version/${v1}`), 404, 'M_NOT_FOUND');
  });

  test('PUT changes auth_data only; another algorithm or a mismatched version is 400 M_INVALID_PARAM', async () => {
    assert.equal(
      (await checked(server, alice, 'PUT', `/room_keys/version/${v1}`, { algorithm: ALGORITHM, auth_data: { public_key: 'def' }, version: v1 })).status,
      200,
    );
    assert.deepEqual((await checked(server, alice, 'GET', `/room_keys/version/${v1}`)).body.auth_data, { public_key: 'def' });
    assertError(await checked(server, alice, 'PUT', `/room_keys/version/${v1}`, { algorithm: 'other', auth_data: {} }), 400, 'M_INVALID_PARAM');
    assertError(
      await checked(server, alice, 'PUT', `/room_keys/version/${v1}`, { algorithm: ALGORITHM, auth_data: {}, version: '99' }),
      400,
      'M_INVALID_PARAM',
    );
    assertError(await checked(server, alice, 'PUT', '/room_keys/version/99', { algorithm: ALGORITHM, auth_data: {} }), 404, 'M_NOT_FOUND');
    assertError(await checked(server, alice, 'POST', '/room_keys/version', { algorithm: ALGORITHM, auth_data: 'x' }), 400, 'M_BAD_JSON');
  });

  test('a new version becomes current; keys may only be written to it (403 M_WRONG_ROOM_KEYS_VERSION with current_version)', async () => {
    v2 = (await checked(server, alice, 'POST', '/room_keys/version', { algorithm: ALGORITHM, auth_data: {} })).body.version;
    assert.notEqual(v2, v1);
    assert.equal((await checked(server, alice, 'GET', '/room_keys/version')).body.version, v2);
    const body = assertError(
      await checked(server, alice, 'PUT', `/room_keys/keys/${room}/s1?version=${v1}`, key(0, 0, false)),
      403,
      'M_WRONG_ROOM_KEYS_VERSION',
    );
    assert.equal(body.current_version, v2);
  });

  test('DELETE removes a version (and again succeeds); the older one becomes current; an unknown one is 404', async () => {
    assert.equal((await checked(server, alice, 'DELETE', `/room_keys/version/${v2}`)).status, 200);
    assert.equal((await checked(server, alice, 'DELETE', `/room_keys/version/${v2}`)).status, 200);
    assertError(await checked(server, alice, 'GET', `/room_keys/version/${v2}`), 404, 'M_NOT_FOUND');
    assert.equal((await checked(server, alice, 'GET', '/room_keys/version')).body.version, v1);
    assertError(await checked(server, alice, 'DELETE', '/room_keys/version/12345'), 404, 'M_NOT_FOUND');
    assertError(await checked(server, alice, 'DELETE', '/room_keys/version/not-a-number'), 404, 'M_NOT_FOUND');
  });
});

describe('backed-up keys', () => {
  let v: string;
  before(async () => {
    v = (await checked(server, alice, 'POST', '/room_keys/version', { algorithm: ALGORITHM, auth_data: {} })).body.version;
  });

  test('PUT by session, by room and for all rooms; GET at each level; count and etag move', async () => {
    const a = await checked(server, alice, 'PUT', `/room_keys/keys/${room}/s1?version=${v}`, key(5, 0, false));
    assert.equal(a.status, 200);
    assert.equal(a.body.count, 1);
    const b = await checked(server, alice, 'PUT', `/room_keys/keys/${room}?version=${v}`, { sessions: { s2: key(0, 0, true) } });
    assert.equal(b.body.count, 2);
    assert.notEqual(b.body.etag, a.body.etag);
    const c = await checked(server, alice, 'PUT', `/room_keys/keys?version=${v}`, { rooms: { '!other:localhost': { sessions: { s3: key(0, 0, false) } } } });
    assert.equal(c.body.count, 3);

    assert.deepEqual((await checked(server, alice, 'GET', `/room_keys/keys/${room}/s1?version=${v}`)).body, key(5, 0, false));
    assert.deepEqual(Object.keys((await checked(server, alice, 'GET', `/room_keys/keys/${room}?version=${v}`)).body.sessions).sort(), ['s1', 's2']);
    const all = (await checked(server, alice, 'GET', `/room_keys/keys?version=${v}`)).body;
    assert.deepEqual(Object.keys(all.rooms).sort(), ['!other:localhost', ROOM]);
    assert.deepEqual((await checked(server, alice, 'GET', `/room_keys/keys/${encodeURIComponent('!empty:localhost')}?version=${v}`)).body, { sessions: {} });
    assertError(await checked(server, alice, 'GET', `/room_keys/keys/${room}/nope?version=${v}`), 404, 'M_NOT_FOUND');
    const info = (await checked(server, alice, 'GET', `/room_keys/version/${v}`)).body;
    assert.equal(info.count, 3);
    assert.equal(info.etag, c.body.etag);
  });

  // The spec's rule: the verified key wins; then the lower first_message_index; then the lower forwarded_count.
  const cases: Array<[string, ReturnType<typeof key>, ReturnType<typeof key>, 'old' | 'new']> = [
    ['verified beats unverified, even with a later first index', key(9, 3, false, 'old'), key(10, 9, true, 'new'), 'new'],
    ['unverified never replaces verified, even with a lower index', key(9, 3, true, 'old'), key(0, 0, false, 'new'), 'old'],
    ['same verification: the lower first_message_index wins', key(9, 0, false, 'old'), key(3, 5, false, 'new'), 'new'],
    ['same verification: a higher first_message_index loses', key(3, 0, false, 'old'), key(9, 0, false, 'new'), 'old'],
    ['same verification and index: the lower forwarded_count wins', key(3, 4, true, 'old'), key(3, 1, true, 'new'), 'new'],
    ['same verification and index: a higher forwarded_count loses', key(3, 1, true, 'old'), key(3, 4, true, 'new'), 'old'],
    ['an equal key leaves the stored one', key(3, 1, true, 'old'), key(3, 1, true, 'new'), 'old'],
  ];
  for (const [name, stored, incoming, winner] of cases) {
    test(`replacement: ${name}`, async () => {
      const session = encodeURIComponent(name);
      await checked(server, alice, 'PUT', `/room_keys/keys/${room}/${session}?version=${v}`, stored);
      const before = (await checked(server, alice, 'GET', `/room_keys/version/${v}`)).body.etag;
      const res = await checked(server, alice, 'PUT', `/room_keys/keys/${room}/${session}?version=${v}`, incoming);
      assert.equal(res.status, 200);
      const kept = (await checked(server, alice, 'GET', `/room_keys/keys/${room}/${session}?version=${v}`)).body;
      assert.deepEqual(kept, winner === 'new' ? incoming : stored);
      assert.equal(res.body.etag !== before, winner === 'new', 'the etag moves only when the backup changed');
    });
  }

  test('DELETE by session, by room and all, each answering the new count', async () => {
    const one = await checked(server, alice, 'DELETE', `/room_keys/keys/${room}/s1?version=${v}`);
    assert.equal(one.status, 200);
    const roomDel = await checked(server, alice, 'DELETE', `/room_keys/keys/${room}?version=${v}`);
    assert.equal(roomDel.body.count, 1, 'only the other room remains');
    const all = await checked(server, alice, 'DELETE', `/room_keys/keys?version=${v}`);
    assert.equal(all.body.count, 0);
    assert.deepEqual((await checked(server, alice, 'GET', `/room_keys/keys?version=${v}`)).body, { rooms: {} });
  });

  test('bad key data is M_BAD_JSON; a missing version is M_MISSING_PARAM; an unknown one 404', async () => {
    assertError(await checked(server, alice, 'PUT', `/room_keys/keys/${room}/s9?version=${v}`, { first_message_index: 'zero' }), 400, 'M_BAD_JSON');
    assertError(await checked(server, alice, 'PUT', `/room_keys/keys/${room}?version=${v}`, { sessions: 'no' }), 400, 'M_BAD_JSON');
    assertError(await checked(server, alice, 'PUT', `/room_keys/keys/${room}/s9`, key(0, 0, false)), 400, 'M_MISSING_PARAM');
    assertError(await checked(server, alice, 'GET', '/room_keys/keys?version=777'), 404, 'M_NOT_FOUND');
  });
});
