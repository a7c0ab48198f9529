// GET /_matrix/federation/v1/hierarchy/{roomId} (server-server space_hierarchy.yaml) asked by a
// second real server over signed HTTPS: what a server may see of a space, its children and the
// ones it may not join; every answer validated against the server-server OpenAPI.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertError, createRoom, enc, fed, remoteJoin, setState, startPair, type Pair } from './room-data-helpers.ts';

describe('federation: the space hierarchy served to another server', () => {
  let p: Pair;
  let space: string;
  let open: string;
  let closed: string;
  let closedWithB: string;

  before(async () => {
    p = await startPair();
    space = await createRoom(p, { preset: 'public_chat', name: 'Space', creation_content: { type: 'm.space' } });
    open = await createRoom(p, { preset: 'public_chat', name: 'Open' });
    closed = await createRoom(p, { preset: 'private_chat', name: 'Closed' });
    // Invite-only, but a user of B is in it (joined before the rule changed).
    closedWithB = await createRoom(p, { preset: 'public_chat', name: 'Members only' });
    await remoteJoin(p, closedWithB, 'bob');
    await setState(p, closedWithB, 'm.room.join_rules', { join_rule: 'invite' });
    await setState(p, space, 'm.space.child', { via: [p.aName], suggested: true }, open);
    await setState(p, space, 'm.space.child', { via: [p.aName] }, closed);
    await setState(p, space, 'm.space.child', { via: [p.aName] }, closedWithB);
    await setState(p, space, 'm.space.child', { via: [p.aName] }, '!unknown:elsewhere.example');
    await setState(p, space, 'm.space.child', {}, '!removed:elsewhere.example');
  });
  after(() => p?.stop());

  test('the space with its links, the children B could join, and by id only the ones it could not; unknown rooms left out', async () => {
    const r = await fed(p, 'GET', `/_matrix/federation/v1/hierarchy/${enc(space)}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.room.room_id, space);
    assert.equal(r.body.room.room_type, 'm.space');
    assert.deepEqual(
      r.body.room.children_state.map((c: any) => c.state_key).sort(),
      [open, closed, closedWithB, '!unknown:elsewhere.example'].sort(),
      'a link without via is not a child',
    );
    assert.deepEqual(r.body.children.map((c: any) => c.room_id).sort(), [open, closedWithB].sort());
    assert.deepEqual(r.body.inaccessible_children, [closed]);
    const child = r.body.children.find((c: any) => c.room_id === open);
    assert.equal(child.name, 'Open');
    assert.equal(child.join_rule, 'public');
  });

  test('suggested_only keeps the suggested children only', async () => {
    const r = await fed(p, 'GET', `/_matrix/federation/v1/hierarchy/${enc(space)}?suggested_only=true`);
    assert.deepEqual(
      r.body.children.map((c: any) => c.room_id),
      [open],
    );
    assert.deepEqual(r.body.inaccessible_children, []);
  });

  test('a room B may not see, and one unknown here, are 404 M_NOT_FOUND', async () => {
    assertError(await fed(p, 'GET', `/_matrix/federation/v1/hierarchy/${enc(closed)}`), 404, 'M_NOT_FOUND');
    assertError(await fed(p, 'GET', `/_matrix/federation/v1/hierarchy/${enc('!nope:elsewhere.example')}`), 404, 'M_NOT_FOUND');
  });
});
