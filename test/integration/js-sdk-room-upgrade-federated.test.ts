// A room upgrade with a member on another server (client-server-api modules/room_upgrades.md),
// driven by matrix-js-sdk on two federating Hearth servers: the member's server hears the
// tombstone, the member of an invite-only room is invited to the replacement through their own
// server (invites-v2) and joins it. Client answers are validated against the client-server
// OpenAPI, federation answers against the server-server one.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient, MatrixError, Preset, type MatrixClient } from 'matrix-js-sdk';
import { freePort, startFederatedTestServer, type TestServer } from '../helpers/server.ts';
import { assertNoValidationFailures, clearValidationFailures } from '../helpers/openapi.ts';
import { eventually } from '../helpers/federation.ts';
import { fetchFn, quietLogger, registerWithSdk } from '../helpers/sdk.ts';

describe('matrix-js-sdk upgrades a room with a member on another server', () => {
  let a: TestServer;
  let b: TestServer;
  let alice: MatrixClient;
  let bob: MatrixClient;

  const clientOn = (server: TestServer, u: { userId: string; accessToken: string; deviceId: string }) =>
    createClient({ baseUrl: server.url, fetchFn, logger: quietLogger, userId: u.userId, accessToken: u.accessToken, deviceId: u.deviceId });

  before(async () => {
    clearValidationFailures();
    const [pa, pb] = [await freePort(), await freePort()];
    a = await startFederatedTestServer(pa, { trustSelfSigned: [`127.0.0.1:${pb}`] });
    b = await startFederatedTestServer(pb, { trustSelfSigned: [`127.0.0.1:${pa}`] });
    alice = clientOn(a, await registerWithSdk(a, 'alice'));
    bob = clientOn(b, await registerWithSdk(b, 'bob'));
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    assertNoValidationFailures();
  });

  /** The state event as bob's server has it, once it has it. */
  const onB = (roomId: string, type: string, key = '') =>
    eventually(`${type} of ${roomId} on B`, async () => {
      try {
        return await bob.getStateEvent(roomId, type, key);
      } catch (err) {
        if (err instanceof MatrixError && (err.httpStatus === 404 || err.httpStatus === 403)) return undefined;
        throw err;
      }
    });

  test('invite-only v11 room to v12: B hears the tombstone, bob is invited to the replacement through B and joins it', async () => {
    const { room_id: oldRoom } = await alice.createRoom({ room_version: '11', preset: Preset.PrivateChat, name: 'Across' });
    await alice.invite(oldRoom, bob.getUserId()!);
    await eventually('bob invited on B', () => inviteSeen(bob, oldRoom));
    await bob.joinRoom(oldRoom);

    const { replacement_room: newRoom } = await alice.upgradeRoom(oldRoom, '12');
    const tombstone = await onB(oldRoom, 'm.room.tombstone');
    assert.equal(tombstone.replacement_room, newRoom);
    assert.equal((await alice.getStateEvent(newRoom, 'm.room.member', bob.getUserId()!)).membership, 'invite');
    await eventually('the invite to the replacement on B', () => inviteSeen(bob, newRoom));
    // A v12 room id names no server: bob follows the tombstone through its sender's server.
    await bob.joinRoom(newRoom, { viaServers: [a.serverName] });
    assert.equal((await onB(newRoom, 'm.room.create')).predecessor.room_id, oldRoom);
    assert.equal((await onB(newRoom, 'm.room.name')).name, 'Across');
    await eventually('bob joined on A', async () =>
      (await alice.getStateEvent(newRoom, 'm.room.member', bob.getUserId()!)).membership === 'join' ? true : undefined,
    );
  });
});

/** Whether bob's /sync shows an invite to `roomId`. */
async function inviteSeen(bob: MatrixClient, roomId: string): Promise<true | undefined> {
  const res = await bob.http.authedRequest<{ rooms?: { invite?: Record<string, unknown> } }>('GET' as never, '/sync', { timeout: '0' });
  return res.rooms?.invite?.[roomId] ? true : undefined;
}
