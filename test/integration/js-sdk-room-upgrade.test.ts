// matrix-js-sdk upgrades rooms (client-server-api modules/room_upgrades.md): to version 12 and to
// version 11, what the replacement room carries over, the tombstone and the locked old room,
// moved aliases, who is invited, and who may not upgrade. Every response is validated against
// the spec's OpenAPI.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient, MatrixError, Preset, Visibility, type MatrixClient } from 'matrix-js-sdk';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { assertNoValidationFailures, clearValidationFailures } from '../helpers/openapi.ts';
import { fetchFn, quietLogger, registerWithSdk } from '../helpers/sdk.ts';

describe('matrix-js-sdk upgrades rooms', () => {
  let server: TestServer;
  let alice: MatrixClient;
  let bob: MatrixClient;
  let carol: MatrixClient;

  const client = (u: { userId: string; accessToken: string; deviceId: string }) =>
    createClient({ baseUrl: server.url, fetchFn, logger: quietLogger, userId: u.userId, accessToken: u.accessToken, deviceId: u.deviceId });

  before(async () => {
    clearValidationFailures();
    server = await startTestServer();
    alice = client(await registerWithSdk(server, 'alice'));
    bob = client(await registerWithSdk(server, 'bob'));
    carol = client(await registerWithSdk(server, 'carol'));
  });

  after(async () => {
    await server?.stop();
    assertNoValidationFailures();
  });

  const state = (c: MatrixClient, roomId: string, type: string, key = '') => c.getStateEvent(roomId, type, key);
  const joined = async (c: MatrixClient) => (await c.getJoinedRooms()).joined_rooms;

  test('a public v11 room upgraded to v12: predecessor, state carried over, aliases and directory moved, tombstone, old room locked, members follow', async () => {
    const { room_id: oldRoom } = await alice.createRoom({
      room_version: '11',
      preset: Preset.PublicChat,
      visibility: Visibility.Public,
      name: 'Porch',
      topic: 'Evenings',
      room_alias_name: 'porch',
      initial_state: [{ type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'world_readable' } }],
    });
    await bob.joinRoom(oldRoom);
    await alice.setPowerLevel(oldRoom, bob.getUserId()!, 20);
    await carol.joinRoom(oldRoom);
    await alice.sendStateEvent(oldRoom, 'm.room.avatar' as never, { url: 'mxc://localhost/avatar' } as never, '');

    const { replacement_room: newRoom } = await alice.upgradeRoom(oldRoom, '12');
    assert.notEqual(newRoom, oldRoom);

    const create = await state(alice, newRoom, 'm.room.create');
    assert.equal(create.room_version, '12');
    assert.equal(create.predecessor.room_id, oldRoom);
    assert.match(create.predecessor.event_id, /^\$/);
    assert.equal((await state(alice, newRoom, 'm.room.name')).name, 'Porch');
    assert.equal((await state(alice, newRoom, 'm.room.topic')).topic, 'Evenings');
    assert.equal((await state(alice, newRoom, 'm.room.join_rules')).join_rule, 'public');
    assert.equal((await state(alice, newRoom, 'm.room.history_visibility')).history_visibility, 'world_readable');
    assert.equal((await state(alice, newRoom, 'm.room.avatar')).url, 'mxc://localhost/avatar');
    // v12: the upgrader is a creator of infinite power, so not listed; bob keeps his level.
    const pl = await state(alice, newRoom, 'm.room.power_levels');
    assert.equal(pl.users[alice.getUserId()!], undefined);
    assert.equal(pl.users[bob.getUserId()!], 20);

    // Aliases move, the canonical alias follows, and the directory lists the new room only.
    assert.equal((await alice.getRoomIdForAlias(`#porch:${server.serverName}`)).room_id, newRoom);
    assert.equal((await state(alice, newRoom, 'm.room.canonical_alias')).alias, `#porch:${server.serverName}`);
    assert.equal((await alice.getRoomDirectoryVisibility(newRoom)).visibility, 'public');
    assert.equal((await alice.getRoomDirectoryVisibility(oldRoom)).visibility, 'private');

    // The old room: a tombstone, and messages and invites need 50 now.
    assert.equal((await state(bob, oldRoom, 'm.room.tombstone')).replacement_room, newRoom);
    assert.deepEqual({ ...(await state(bob, oldRoom, 'm.room.canonical_alias')) }, {}, 'the old room no longer names the moved alias');
    const oldPl = await state(bob, oldRoom, 'm.room.power_levels');
    assert.equal(oldPl.events_default, 50);
    assert.equal(oldPl.invite, 50);
    await assert.rejects(bob.sendTextMessage(oldRoom, 'still here?'), (e) => e instanceof MatrixError && e.errcode === 'M_FORBIDDEN');

    // A public room invites nobody: its members follow the tombstone.
    assert.ok(!(await joined(bob)).includes(newRoom));
    await bob.joinRoom(newRoom);
    await carol.joinRoom(newRoom);
    assert.ok((await joined(bob)).includes(newRoom));
    await bob.sendTextMessage(newRoom, 'moved in');
  });

  test('an invite-only v12 room upgraded to v11: its members and invitees are invited, bans carried over, the former creator keeps power 100', async () => {
    const { room_id: oldRoom } = await alice.createRoom({ room_version: '12', preset: Preset.PrivateChat, name: 'Kitchen' });
    await alice.invite(oldRoom, bob.getUserId()!);
    await bob.joinRoom(oldRoom);
    await alice.invite(oldRoom, carol.getUserId()!);
    const { userId: daveId } = await registerWithSdk(server, 'dave');
    await alice.ban(oldRoom, daveId, 'no');

    const { replacement_room: newRoom } = await alice.upgradeRoom(oldRoom, '11');
    assert.match(newRoom, new RegExp(`:${server.serverName.replace(/\./g, '\\.')}$`), 'a v11 room id names its server');
    const create = await state(alice, newRoom, 'm.room.create');
    assert.equal(create.room_version, '11');
    assert.equal(create.predecessor.room_id, oldRoom);
    // Out of v12, the creator's infinite power becomes 100, or nobody would administer the room.
    assert.equal((await state(alice, newRoom, 'm.room.power_levels')).users[alice.getUserId()!], 100);
    assert.equal((await state(alice, newRoom, 'm.room.join_rules')).join_rule, 'invite');
    assert.equal((await state(alice, newRoom, 'm.room.member', bob.getUserId()!)).membership, 'invite');
    assert.equal((await state(alice, newRoom, 'm.room.member', carol.getUserId()!)).membership, 'invite');
    assert.equal((await state(alice, newRoom, 'm.room.member', daveId)).membership, 'ban');
    await bob.joinRoom(newRoom);
    assert.ok((await joined(bob)).includes(newRoom));
  });

  test('an unknown version is 400 M_UNSUPPORTED_ROOM_VERSION and a member without the tombstone level 403 M_FORBIDDEN; neither changes the room', async () => {
    const { room_id: roomId } = await alice.createRoom({ preset: Preset.PublicChat, room_alias_name: 'hall' });
    await bob.joinRoom(roomId);
    await assert.rejects(
      alice.upgradeRoom(roomId, '999'),
      (e) => e instanceof MatrixError && e.httpStatus === 400 && e.errcode === 'M_UNSUPPORTED_ROOM_VERSION',
    );
    await assert.rejects(bob.upgradeRoom(roomId, '12'), (e) => e instanceof MatrixError && e.httpStatus === 403 && e.errcode === 'M_FORBIDDEN');
    await assert.rejects(carol.upgradeRoom(roomId, '12'), (e) => e instanceof MatrixError && e.httpStatus === 403, 'a non-member');
    await assert.rejects(state(alice, roomId, 'm.room.tombstone'), (e) => e instanceof MatrixError && e.httpStatus === 404);
    assert.equal((await alice.getRoomIdForAlias(`#hall:${server.serverName}`)).room_id, roomId);
    assert.deepEqual((await alice.getJoinedRooms()).joined_rooms.filter((r) => r === roomId).length, 1);
  });
});
