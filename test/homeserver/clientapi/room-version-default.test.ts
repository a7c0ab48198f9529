// Issue #14 fault 5: new rooms are version 11 unless the config or the client says otherwise, as
// the spec's v1.16 changelog asks (MSC4304) and real clients need; /capabilities says so truly;
// /versions advertises the spec versions whose endpoints are served. Driven by matrix-js-sdk,
// every response validated against the spec's OpenAPI.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient, type MatrixClient } from 'matrix-js-sdk';
import { Router } from '../../../homeserver/http/router.ts';
import { LATER_SPEC_VERSIONS, specVersionsServed } from '../../../homeserver/clientapi/versions.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { assertNoValidationFailures, clearValidationFailures } from '../../helpers/openapi.ts';
import { fetchFn, quietLogger, registerWithSdk } from '../../helpers/sdk.ts';

async function sdkUser(server: TestServer, name: string): Promise<MatrixClient> {
  return createClient({ baseUrl: server.url, fetchFn, logger: quietLogger, ...(await registerWithSdk(server, name)) });
}

describe('the default room version', () => {
  let server: TestServer;
  let configured: TestServer;
  let alice: MatrixClient;

  before(async () => {
    clearValidationFailures();
    server = await startTestServer();
    configured = await startTestServer({ defaultRoomVersion: '10' });
    alice = await sdkUser(server, 'alice');
  });
  after(async () => {
    await server?.stop();
    await configured?.stop();
    assertNoValidationFailures();
  });

  test('a room created without room_version is v11, with a server-named id and a create event naming its creator', async () => {
    const { room_id: roomId } = await alice.createRoom({ name: 'plain' });
    assert.match(roomId, new RegExp(`^!.+:${server.serverName}$`));
    const create = await alice.getStateEvent(roomId, 'm.room.create', '');
    assert.equal(create.room_version, '11');
    // nheko and matrix-nio treat a create event without `creator` as malformed.
    assert.equal(create.creator, alice.getUserId());
  });

  test('room_version 12 is still available through createRoom', async () => {
    const { room_id: roomId } = await alice.createRoom({ room_version: '12' });
    assert.ok(!roomId.includes(':'), roomId);
    const create = await alice.getStateEvent(roomId, 'm.room.create', '');
    assert.equal(create.room_version, '12');
    assert.equal(create.creator, undefined);
  });

  test('/capabilities says 11 is the default and every implemented version (6 to 12) is stable', async () => {
    const caps = await alice.getCapabilities();
    assert.deepEqual(caps['m.room_versions'], {
      default: '11',
      available: { '6': 'stable', '7': 'stable', '8': 'stable', '9': 'stable', '10': 'stable', '11': 'stable', '12': 'stable' },
    });
  });

  test('default_room_version in the config makes new rooms that version, and /capabilities says so', async () => {
    const carol = await sdkUser(configured, 'carol');
    const { room_id: roomId } = await carol.createRoom({});
    assert.equal((await carol.getStateEvent(roomId, 'm.room.create', '')).room_version, '10');
    assert.equal((await carol.getCapabilities())['m.room_versions']?.default, '10');
  });
});

describe('/versions', () => {
  test('advertises every version up to v1.15 (v1.13 with ACLs on EDUs), and no later one whose endpoints are not all served', async () => {
    const server = await startTestServer();
    try {
      const { versions } = await createClient({ baseUrl: server.url, fetchFn, logger: quietLogger }).getVersions();
      assert.ok(versions.includes('v1.12') && versions.includes('v1.1') && versions.includes('r0.6.1'));
      for (const v of ['v1.13', 'v1.14', 'v1.15']) assert.ok(versions.includes(v), `${v} is advertised`);
      const later = versions.filter((v) => LATER_SPEC_VERSIONS.some((l) => l.version === v));
      // Contiguous from v1.13: a version is only listed with every one before it.
      assert.deepEqual(
        later,
        LATER_SPEC_VERSIONS.slice(0, later.length).map((l) => l.version),
      );
    } finally {
      await server.stop();
    }
  });

  test('a later version is advertised once its endpoints are routed, under any parameter names, and not while something is missing', () => {
    // The table with nothing missing for v1.13..v1.15 (as the real one reads now), whatever v1.16 needs.
    const table = LATER_SPEC_VERSIONS.map((l) => (['v1.13', 'v1.14', 'v1.15'].includes(l.version) ? { version: l.version, operations: l.operations } : l));
    const router = new Router({ prefix: '/_matrix/client/v3' });
    const ok = () => {};
    assert.equal(specVersionsServed([router], table).at(-1), 'v1.12');
    router.post('/rooms/:roomId/report', ok);
    assert.equal(specVersionsServed([router], table).at(-1), 'v1.13');
    router.post('/users/:userId/report', ok);
    router.get('/room_summary/:roomIdOrAlias', ok);
    assert.deepEqual(specVersionsServed([router], table).slice(-3), ['v1.13', 'v1.14', 'v1.15']);
    // v1.16's other addition, /sync's use_state_after, is served (sync/state-after.ts): its
    // extended-profile routes complete it, and v1.17 (nothing a Client-Server route shows) follows.
    router.put('/profile/:userId/:keyName', ok);
    assert.equal(specVersionsServed([router], table).at(-1), 'v1.15');
    router.delete('/profile/:userId/:keyName', ok);
    assert.deepEqual(specVersionsServed([router], table).slice(-2), ['v1.16', 'v1.17']);
    // With the real table nothing is marked missing any more (ACLs on EDUs, use_state_after):
    // every version up to v1.17 is advertised once its routes are there.
    assert.deepEqual(specVersionsServed([router]).slice(-5), ['v1.13', 'v1.14', 'v1.15', 'v1.16', 'v1.17']);
  });
});
