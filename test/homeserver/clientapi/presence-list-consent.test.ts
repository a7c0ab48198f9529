// The seed's presence list asks the target's consent (seed "Presence List": "the user being added
// must receive permission"; "Presence and Permissions": the target "has allowed the viewing user
// to add them"). An invite is a request, shown to the target; the target consents by inviting
// back (the seed's reverse subscription, accepted automatically) or declines with drop. Carol and
// alice share no room, so the list is the only way either could see the other's presence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, startTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';

const listOf = (server: TestServer, u: TestUser) => call(server, u, 'GET', `/presence/list/${encodeURIComponent(u.userId)}`);
const change = (server: TestServer, u: TestUser, body: unknown) => call(server, u, 'POST', `/presence/list/${encodeURIComponent(u.userId)}`, body);
const statusOf = (server: TestServer, viewer: TestUser, target: TestUser) =>
  call(server, viewer, 'GET', `/presence/${encodeURIComponent(target.userId)}/status`);

async function twoStrangers(server: TestServer) {
  const alice = await registerUser(server, 'alice');
  const carol = await registerUser(server, 'carol');
  assert.equal(
    (await call(server, alice, 'PUT', `/presence/${encodeURIComponent(alice.userId)}/status`, { presence: 'unavailable', status_msg: 'in the garden' })).status,
    200,
  );
  return { alice, carol };
}

test("a presence list invite is only a request: the inviter sees nothing of the target's presence until the target consents", async () => {
  const server = await startTestServer();
  try {
    const { alice, carol } = await twoStrangers(server);
    assert.equal((await change(server, carol, { invite: [alice.userId] })).status, 200);
    assert.equal((await statusOf(server, carol, alice)).status, 403, 'no consent yet');
    assert.deepEqual((await listOf(server, carol)).body, [], 'the request shows no presence on the inviter’s list');
    const initial = await call(server, carol, 'GET', '/initialSync?limit=0');
    assert.deepEqual(
      (initial.body.presence as Array<{ sender: string }>).filter((e) => e.sender === alice.userId),
      [],
      'nor in the event stream',
    );
    // The target is asked.
    assert.deepEqual((await listOf(server, alice)).body, [{ type: 'm.presence_invite', sender: carol.userId, content: { user_id: carol.userId } }]);
    // She consents by inviting back: both are accepted.
    assert.equal((await change(server, alice, { invite: [carol.userId] })).status, 200);
    const seen = await statusOf(server, carol, alice);
    assert.equal(seen.status, 200);
    assert.equal(seen.body.status_msg, 'in the garden');
    assert.deepEqual(
      (await listOf(server, carol)).body.map((e: { type: string; content: { user_id: string } }) => [e.type, e.content.user_id]),
      [['m.presence', alice.userId]],
    );
    assert.deepEqual(
      (await listOf(server, alice)).body.map((e: { type: string; content: { user_id: string } }) => [e.type, e.content.user_id]),
      [['m.presence', carol.userId]],
      'no request left, and the subscription is mutual',
    );
    const after = await call(server, carol, 'GET', '/initialSync?limit=0');
    assert.equal((after.body.presence as Array<{ sender: string }>).filter((e) => e.sender === alice.userId).length, 1);
  } finally {
    await server.stop();
  }
});

test('the target declines with drop, and a consent given can be taken back with drop', async () => {
  const server = await startTestServer();
  try {
    const { alice, carol } = await twoStrangers(server);
    await change(server, carol, { invite: [alice.userId] });
    assert.equal((await change(server, alice, { drop: [carol.userId] })).status, 200);
    assert.deepEqual((await listOf(server, alice)).body, [], 'the request is gone');
    assert.equal((await statusOf(server, carol, alice)).status, 403);
    // Asked again, consented, then taken back.
    await change(server, carol, { invite: [alice.userId] });
    await change(server, alice, { invite: [carol.userId] });
    assert.equal((await statusOf(server, carol, alice)).status, 200);
    await change(server, alice, { drop: [carol.userId] });
    assert.equal((await statusOf(server, carol, alice)).status, 403, 'consent withdrawn');
    assert.deepEqual((await listOf(server, carol)).body, []);
  } finally {
    await server.stop();
  }
});

test('a presence list request to an unknown user is 404, to a user of another server 400', async () => {
  const server = await startTestServer();
  try {
    const { carol } = await twoStrangers(server);
    const unknown = await change(server, carol, { invite: ['@nobody:localhost'] });
    assert.deepEqual([unknown.status, unknown.body.errcode], [404, 'M_NOT_FOUND']);
    const remote = await change(server, carol, { invite: ['@someone:elsewhere.example'] });
    assert.deepEqual([remote.status, remote.body.errcode], [400, 'M_INVALID_PARAM']);
  } finally {
    await server.stop();
  }
});
