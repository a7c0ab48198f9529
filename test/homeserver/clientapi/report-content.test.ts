// Issue #14 (admin part): reports of rooms, events and users are stored for the admin, with the
// spec's rules, and `hearth reports` prints them.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { createClient, MatrixError, type MatrixClient } from 'matrix-js-sdk';
import { startTestServer, registerUser, call, type TestServer, type TestUser } from '../../helpers/server.ts';
import { fetchFn, quietLogger } from '../../helpers/sdk.ts';
import { REPORTS_PER_USER_PER_DAY } from '../../../homeserver/clientapi/report-content.ts';

const hearth = fileURLToPath(new URL('../../../bin/hearth.js', import.meta.url));

/** What `hearth reports` prints for the server's data dir, parsed. */
async function cliReports(server: TestServer, limit = 1000): Promise<any[]> {
  const { stdout } = await promisify(execFile)(process.execPath, [hearth, 'reports', '--data-dir', server.dataDir, '--limit', String(limit)]);
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));
}

function sdkFor(server: TestServer, user: TestUser): MatrixClient {
  return createClient({ baseUrl: server.url, fetchFn, logger: quietLogger, accessToken: user.accessToken, userId: user.userId });
}

async function report(server: TestServer, user: TestUser, path: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetchFn(`${server.api}${path}`, { method: 'POST', headers: { authorization: `Bearer ${user.accessToken}` }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

describe('reporting content', () => {
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let mallory: TestUser;
  let roomId: string;
  let eventId: string;
  before(async () => {
    server = await startTestServer();
    alice = await registerUser(server, 'alice');
    bob = await registerUser(server, 'bob');
    mallory = await registerUser(server, 'mallory');
    roomId = (await call(server, alice, 'POST', '/createRoom', { preset: 'public_chat' })).body.room_id;
    await call(server, mallory, 'POST', `/join/${encodeURIComponent(roomId)}`, {});
    eventId = (await call(server, mallory, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/1`, { msgtype: 'm.text', body: 'nasty' })).body
      .event_id;
  });
  after(async () => {
    await server?.stop();
  });

  test('an event, a room and a user reported through matrix-js-sdk are stored, and hearth reports prints them for the admin', async () => {
    const client = sdkFor(server, alice);
    await client.reportEvent(roomId, eventId, -100, 'abusive message');
    await client.reportRoom(roomId, 'a room for abuse');
    assert.equal((await report(server, alice, `/users/${encodeURIComponent(mallory.userId)}/report`, { reason: 'sends abuse' })).status, 200);
    const printed = await cliReports(server);
    const mine = printed.filter((r) => r.reporter === alice.userId).map(({ id: _id, received: _r, ...rest }) => rest);
    assert.deepEqual(mine, [
      { kind: 'user', reporter: alice.userId, user_id: mallory.userId, reason: 'sends abuse' },
      { kind: 'room', reporter: alice.userId, room_id: roomId, reason: 'a room for abuse' },
      { kind: 'event', reporter: alice.userId, room_id: roomId, event_id: eventId, user_id: mallory.userId, reason: 'abusive message' },
    ]);
  });

  test('an event report from a user not joined to the room is a 404, like one for an event that does not exist, and is not stored', async () => {
    const before = (await cliReports(server)).length;
    const client = sdkFor(server, bob);
    await assert.rejects(client.reportEvent(roomId, eventId, 0, 'I never saw it'), (err: unknown) => {
      return err instanceof MatrixError && err.httpStatus === 404 && err.errcode === 'M_NOT_FOUND';
    });
    const missing = await report(server, alice, `/rooms/${encodeURIComponent(roomId)}/report/${encodeURIComponent('$nothing-here')}`, { reason: 'x' });
    assert.equal(missing.status, 404);
    assert.equal((await cliReports(server)).length, before);
  });

  test('room and user reports need no shared room and answer 200 for unknown ones too, telling nothing of what exists', async () => {
    const unknownRoom = await report(server, bob, `/rooms/${encodeURIComponent('!nowhere:localhost')}/report`, { reason: 'seen in a directory' });
    assert.deepEqual([unknownRoom.status, unknownRoom.body], [200, {}]);
    const knownRoom = await report(server, bob, `/rooms/${encodeURIComponent(roomId)}/report`, { reason: 'seen in a directory' });
    assert.deepEqual([knownRoom.status, knownRoom.body], [200, {}]);
    const unknownUser = await report(server, bob, `/users/${encodeURIComponent('@ghost:localhost')}/report`, { reason: 'x' });
    assert.deepEqual([unknownUser.status, unknownUser.body], [200, {}]);
    const noReason = await report(server, bob, `/users/${encodeURIComponent(mallory.userId)}/report`, {});
    assert.equal(noReason.status, 400);
  });

  test(`a user may file ${REPORTS_PER_USER_PER_DAY} reports a day; the next is 429 with retry_after_ms and is not stored`, async () => {
    const carol = await registerUser(server, 'carol');
    for (let i = 0; i < REPORTS_PER_USER_PER_DAY; i++) {
      assert.equal((await report(server, carol, `/users/${encodeURIComponent(mallory.userId)}/report`, { reason: `report ${i}` })).status, 200);
    }
    const over = await report(server, carol, `/rooms/${encodeURIComponent(roomId)}/report`, { reason: 'one more' });
    assert.equal(over.status, 429);
    assert.equal(over.body.errcode, 'M_LIMIT_EXCEEDED');
    assert.ok(over.body.retry_after_ms > 0);
    assert.equal((await cliReports(server)).filter((r) => r.reporter === carol.userId).length, REPORTS_PER_USER_PER_DAY);
  });
});
