// GET and POST /publicRooms (public_rooms.yaml) and GET /query/directory (query.yaml), asked by a
// second real server; and the client API's /publicRooms, which shares the listing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checked } from '../../helpers/checked-call.ts';
import { assertError, createRoom, enc, fed, remoteJoin, startPair, type Pair } from './room-data-helpers.ts';

describe('federation: the published room directory and alias queries', () => {
  let p: Pair;
  let lounge: string, space: string, quiet: string, hidden: string;

  before(async () => {
    p = await startPair();
    lounge = await createRoom(p, { preset: 'public_chat', visibility: 'public', name: 'Lounge', topic: 'chat about anything', room_alias_name: 'lounge' });
    space = await createRoom(p, { preset: 'public_chat', visibility: 'public', name: 'Space', creation_content: { type: 'm.space' } });
    quiet = await createRoom(p, { preset: 'public_chat', visibility: 'public', name: 'Quiet' });
    hidden = await createRoom(p, { preset: 'private_chat', name: 'Hidden' });
    // The lounge gets a second (remote) member, so it lists first.
    await remoteJoin(p, lounge, 'bob');
  });
  after(() => p?.stop());

  const roomIds = (body: any) => body.chunk.map((r: any) => r.room_id);

  test('GET lists every published room of A, most members first, with no limit by default', async () => {
    const r = await fed(p, 'GET', '/_matrix/federation/v1/publicRooms');
    assert.equal(r.status, 200);
    assert.equal(r.body.chunk.length, 3);
    assert.equal(r.body.chunk[0].room_id, lounge);
    assert.ok(!roomIds(r.body).includes(hidden));
    const entry = r.body.chunk[0];
    assert.equal(entry.name, 'Lounge');
    assert.equal(entry.topic, 'chat about anything');
    assert.equal(entry.canonical_alias, `#lounge:${p.aName}`);
    assert.equal(entry.num_joined_members, 2);
    assert.equal(entry.join_rule, 'public');
    assert.equal(r.body.total_room_count_estimate, 3);
    assert.equal(r.body.next_batch, undefined);
  });

  test('GET pages with limit and since', async () => {
    const first = await fed(p, 'GET', '/_matrix/federation/v1/publicRooms?limit=2');
    assert.equal(first.body.chunk.length, 2);
    assert.ok(first.body.next_batch);
    const second = await fed(p, 'GET', `/_matrix/federation/v1/publicRooms?limit=2&since=${enc(first.body.next_batch)}`);
    assert.equal(second.body.chunk.length, 1);
    assert.ok(second.body.prev_batch);
    assert.deepEqual(new Set([...roomIds(first.body), ...roomIds(second.body)]), new Set([lounge, space, quiet]));
    assertError(await fed(p, 'GET', '/_matrix/federation/v1/publicRooms?since=bogus'), 400, 'M_INVALID_PARAM');
  });

  test('POST filters by search term and by room type (null for rooms without one)', async () => {
    const term = await fed(p, 'POST', '/_matrix/federation/v1/publicRooms', { filter: { generic_search_term: 'ANYTHING' } });
    assert.deepEqual(roomIds(term.body), [lounge]);
    const spaces = await fed(p, 'POST', '/_matrix/federation/v1/publicRooms', { filter: { room_types: ['m.space'] } });
    assert.deepEqual(roomIds(spaces.body), [space]);
    assert.equal(spaces.body.chunk[0].room_type, 'm.space');
    const plain = await fed(p, 'POST', '/_matrix/federation/v1/publicRooms', { filter: { room_types: [null] } });
    assert.deepEqual(new Set(roomIds(plain.body)), new Set([lounge, quiet]));
    const limited = await fed(p, 'POST', '/_matrix/federation/v1/publicRooms', { limit: 1 });
    assert.equal(limited.body.chunk.length, 1);
    assertError(await fed(p, 'POST', '/_matrix/federation/v1/publicRooms', { limit: 'ten' }), 400, 'M_BAD_JSON');
  });

  test('a third-party network we do not bridge lists nothing', async () => {
    const r = await fed(p, 'POST', '/_matrix/federation/v1/publicRooms', { third_party_instance_id: 'irc-freenode' });
    assert.deepEqual(r.body.chunk, []);
  });

  test("the client API's /publicRooms gives the same listing (shared code) and honours room_types too", async () => {
    const get = await checked(p.a, undefined, 'GET', '/publicRooms');
    assert.equal(get.status, 200);
    assert.deepEqual(roomIds(get.body), roomIds((await fed(p, 'GET', '/_matrix/federation/v1/publicRooms')).body));
    const post = await checked(p.a, p.alice, 'POST', '/publicRooms', { filter: { room_types: ['m.space'] } });
    assert.deepEqual(roomIds(post.body), [space]);
  });

  test('query/directory answers the room of one of our aliases and the servers in it, ours first', async () => {
    const r = await fed(p, 'GET', `/_matrix/federation/v1/query/directory?room_alias=${enc(`#lounge:${p.aName}`)}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.room_id, lounge);
    assert.deepEqual(r.body.servers, [p.aName, p.bName]);
  });

  test('query/directory of an unknown alias is 404; without room_alias 400', async () => {
    assertError(await fed(p, 'GET', `/_matrix/federation/v1/query/directory?room_alias=${enc(`#nope:${p.aName}`)}`), 404, 'M_NOT_FOUND');
    assertError(await fed(p, 'GET', '/_matrix/federation/v1/query/directory'), 400, 'M_MISSING_PARAM');
    assertError(await fed(p, 'GET', '/_matrix/federation/v1/query/directory?room_alias=lounge'), 400, 'M_INVALID_PARAM');
  });
});
