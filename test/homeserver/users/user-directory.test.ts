// POST /user_directory/search over real HTTP (users.yaml): room-mates and members of public rooms
// are found by user id or display name, case-insensitively; strangers in private rooms are not;
// `limited` says when the limit cut the list. Every response is validated against the spec's OpenAPI.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { registerUser, startTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';
import { assertError, checked } from '../../helpers/checked-call.ts';

let server: TestServer;
let alice: TestUser;
let bob: TestUser;
let carol: TestUser;
let dave: TestUser;

before(async () => {
  server = await startTestServer();
  alice = await registerUser(server, 'alice');
  bob = await registerUser(server, 'bob');
  carol = await registerUser(server, 'carol');
  dave = await registerUser(server, 'dave');
  await checked(server, bob, 'PUT', `/profile/${encodeURIComponent(bob.userId)}/displayname`, { displayname: 'Robert Tables' });
  await checked(server, carol, 'PUT', `/profile/${encodeURIComponent(carol.userId)}/displayname`, { displayname: 'Caroline Tabor' });
  await checked(server, dave, 'PUT', `/profile/${encodeURIComponent(dave.userId)}/displayname`, { displayname: 'Dave Tablet' });
  // alice and bob share a private room; carol is in a public room; dave only in his own private room.
  const priv = (await checked(server, alice, 'POST', '/createRoom', { preset: 'private_chat', invite: [bob.userId] })).body.room_id;
  await checked(server, bob, 'POST', `/rooms/${encodeURIComponent(priv)}/join`, {});
  await checked(server, carol, 'POST', '/createRoom', { preset: 'public_chat' });
  await checked(server, dave, 'POST', '/createRoom', { preset: 'private_chat' });
});
after(() => server?.stop());

const search = (user: TestUser, body: unknown) => checked(server, user, 'POST', '/user_directory/search', body);

describe('user_directory/search', () => {
  test('finds a room-mate by display name, case-insensitively, with the profile', async () => {
    const res = await search(alice, { search_term: 'ROBERT' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { results: [{ user_id: bob.userId, display_name: 'Robert Tables' }], limited: false });
  });

  test('finds by user id; a member of a public room is found; a stranger in private rooms is not', async () => {
    const res = await search(alice, { search_term: 'tab' });
    const ids = res.body.results.map((r: { user_id: string }) => r.user_id).sort();
    assert.deepEqual(ids, [bob.userId, carol.userId].sort(), 'dave shares no room with alice and is in no public room');
    assert.deepEqual(
      (await search(alice, { search_term: '@carol:' })).body.results.map((r: { user_id: string }) => r.user_id),
      [carol.userId],
    );
    assert.deepEqual((await search(alice, { search_term: 'dave' })).body.results, []);
  });

  test('limit cuts the list and sets limited', async () => {
    const res = await search(alice, { search_term: 'tab', limit: 1 });
    assert.equal(res.body.results.length, 1);
    assert.equal(res.body.limited, true);
  });

  test('a missing search_term is M_MISSING_PARAM; a bad limit M_BAD_JSON', async () => {
    assertError(await search(alice, {}), 400, 'M_MISSING_PARAM');
    assertError(await search(alice, { search_term: 'x', limit: 'ten' }), 400, 'M_BAD_JSON');
  });
});
