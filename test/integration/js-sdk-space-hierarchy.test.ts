// matrix-js-sdk walks a space whose rooms live on two Hearth servers (client-server-api
// modules/spaces.md, space_hierarchy.yaml): depth-first order, what each user may see, rooms of
// the other server summarised through the federation /hierarchy, max_depth, suggested_only,
// limit and from; and /room_summary for a local and a remote room. Client answers are validated
// against the client-server OpenAPI, and the federation answers against the server-server one.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient, MatrixError, Preset, Visibility, type MatrixClient } from 'matrix-js-sdk';
import { freePort, startFederatedTestServer, type TestServer, type TestUser } from '../helpers/server.ts';
import { checked } from '../helpers/checked-call.ts';
import { assertNoValidationFailures, clearValidationFailures } from '../helpers/openapi.ts';
import { fetchFn, quietLogger, registerWithSdk } from '../helpers/sdk.ts';

describe('matrix-js-sdk walks a space across two servers', () => {
  let a: TestServer;
  let b: TestServer;
  let alice: MatrixClient; // on A, in the space and every room of A
  let carol: MatrixClient; // on A, in nothing
  let bob: MatrixClient; // on B
  let aliceUser: TestUser;
  let carolUser: TestUser;
  const ids: Record<'space' | 'r1' | 'r2' | 'sub' | 'r4' | 'r5', string> = { space: '', r1: '', r2: '', sub: '', r4: '', r5: '' };

  const clientOn = (server: TestServer, u: { userId: string; accessToken: string; deviceId: string }) =>
    createClient({ baseUrl: server.url, fetchFn, logger: quietLogger, userId: u.userId, accessToken: u.accessToken, deviceId: u.deviceId });

  const link = (c: MatrixClient, space: string, child: string, via: string, extra: Record<string, unknown> = {}) =>
    c.sendStateEvent(space, 'm.space.child' as never, { via: [via], ...extra } as never, child);

  before(async () => {
    clearValidationFailures();
    const [pa, pb] = [await freePort(), await freePort()];
    a = await startFederatedTestServer(pa, { trustSelfSigned: [`127.0.0.1:${pb}`] });
    b = await startFederatedTestServer(pb, { trustSelfSigned: [`127.0.0.1:${pa}`] });
    aliceUser = await registerWithSdk(a, 'alice');
    carolUser = await registerWithSdk(a, 'carol');
    alice = clientOn(a, aliceUser);
    carol = clientOn(a, carolUser);
    bob = clientOn(b, await registerWithSdk(b, 'bob'));

    // On B: a public sub-space with a public room and an invite-only one.
    ids.sub = (await bob.createRoom({ preset: Preset.PublicChat, name: 'B space', creation_content: { type: 'm.space' } })).room_id;
    ids.r4 = (await bob.createRoom({ preset: Preset.PublicChat, name: 'B public', topic: 'on B' })).room_id;
    ids.r5 = (await bob.createRoom({ preset: Preset.PrivateChat, name: 'B private' })).room_id;
    await link(bob, ids.sub, ids.r4, b.serverName, { order: 'a' });
    await link(bob, ids.sub, ids.r5, b.serverName, { order: 'b' });

    // On A: the space, a public room, an invite-only room (suggested), and B's sub-space.
    ids.space = (
      await alice.createRoom({ preset: Preset.PublicChat, visibility: Visibility.Public, name: 'Home', creation_content: { type: 'm.space' } })
    ).room_id;
    ids.r1 = (await alice.createRoom({ preset: Preset.PublicChat, name: 'A public' })).room_id;
    ids.r2 = (await alice.createRoom({ preset: Preset.PrivateChat, name: 'A private' })).room_id;
    await link(alice, ids.space, ids.r1, a.serverName, { order: 'a' });
    await link(alice, ids.space, ids.r2, a.serverName, { order: 'b', suggested: true });
    await link(alice, ids.space, ids.sub, b.serverName, { order: 'c' });
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    assertNoValidationFailures();
  });

  const names = (rooms: Array<{ room_id: string }>) => rooms.map((r) => Object.entries(ids).find(([, id]) => id === r.room_id)?.[0] ?? r.room_id);

  test('a member sees the whole tree depth-first, rooms of B summarised by B, and not the room B keeps private', async () => {
    const res = await alice.getRoomHierarchy(ids.space);
    assert.deepEqual(names(res.rooms), ['space', 'r1', 'r2', 'sub', 'r4']);
    assert.equal(res.next_batch, undefined);
    const space = res.rooms[0]!;
    assert.equal(space.room_type, 'm.space');
    assert.equal(space.children_state.length, 3);
    const r4 = res.rooms.find((r) => r.room_id === ids.r4)!;
    assert.equal(r4.name, 'B public');
    assert.equal(r4.topic, 'on B');
    assert.equal(r4.join_rule, 'public');
    assert.equal(r4.num_joined_members, 1);
    const sub = res.rooms.find((r) => r.room_id === ids.sub)!;
    assert.equal(sub.children_state.length, 2, "the sub-space's links come from B");
  });

  test('a user in none of the rooms sees the public ones only', async () => {
    const res = await carol.getRoomHierarchy(ids.space);
    assert.deepEqual(names(res.rooms), ['space', 'r1', 'sub', 'r4']);
  });

  test('max_depth and suggested_only bound the walk', async () => {
    assert.deepEqual(names((await alice.getRoomHierarchy(ids.space, undefined, 1)).rooms), ['space', 'r1', 'r2', 'sub']);
    assert.deepEqual(names((await alice.getRoomHierarchy(ids.space, undefined, 0)).rooms), ['space']);
    assert.deepEqual(names((await alice.getRoomHierarchy(ids.space, undefined, undefined, true)).rooms), ['space', 'r2']);
  });

  test('limit and from page through the same walk; changing max_depth on the way is 400 M_INVALID_PARAM', async () => {
    const seen: string[] = [];
    let from: string | undefined;
    let pages = 0;
    do {
      const page = await alice.getRoomHierarchy(ids.space, 2, undefined, false, from);
      assert.ok(page.rooms.length <= 2);
      seen.push(...names(page.rooms));
      from = page.next_batch;
      pages++;
    } while (from);
    assert.deepEqual(seen, ['space', 'r1', 'r2', 'sub', 'r4']);
    assert.equal(pages, 3);
    const first = await alice.getRoomHierarchy(ids.space, 2);
    await assert.rejects(alice.getRoomHierarchy(ids.space, 2, 5, false, first.next_batch), (e) => e instanceof MatrixError && e.errcode === 'M_INVALID_PARAM');
    await assert.rejects(
      carol.getRoomHierarchy(ids.space, 2, undefined, false, first.next_batch),
      (e) => e instanceof MatrixError && e.errcode === 'M_INVALID_PARAM',
      "another user's token",
    );
    await assert.rejects(alice.getRoomHierarchy(ids.space, 2, undefined, false, 'nope'), (e) => e instanceof MatrixError && e.errcode === 'M_INVALID_PARAM');
  });

  test('a space the user may not see is 403 M_FORBIDDEN', async () => {
    await assert.rejects(carol.getRoomHierarchy(ids.r2), (e) => e instanceof MatrixError && e.httpStatus === 403 && e.errcode === 'M_FORBIDDEN');
  });

  // matrix-js-sdk's getRoomSummary still asks the unstable MSC3266 path; the stable one is asked directly.
  test('room_summary: a local room with the membership, a remote one through its server, a hidden one 404', async () => {
    const summary = (u: TestUser, roomId: string, via?: string) =>
      checked(a, u, 'GET', `/_matrix/client/v1/room_summary/${encodeURIComponent(roomId)}${via ? `?via=${encodeURIComponent(via)}` : ''}`);
    const local = await summary(aliceUser, ids.r1);
    assert.equal(local.status, 200);
    assert.equal(local.body.name, 'A public');
    assert.equal(local.body.membership, 'join');
    assert.equal(local.body.room_version, (await alice.getStateEvent(ids.r1, 'm.room.create', '')).room_version);
    const remote = await summary(carolUser, ids.r4, b.serverName);
    assert.equal(remote.status, 200);
    assert.equal(remote.body.name, 'B public');
    assert.equal(remote.body.membership, undefined);
    assert.equal((await summary(carolUser, ids.r2)).status, 404);
    assert.equal((await summary(carolUser, ids.r5, b.serverName)).status, 404);
    assert.equal((await summary(carolUser, '!unknown:nowhere.invalid')).status, 404);
  });
});
