// createRoom with a room_alias_name already taken is M_ROOM_IN_USE (createRoom.yaml), also when
// the calls race each other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, registerUser, call } from '../../helpers/server.ts';

test('concurrent createRoom calls with one alias: one room gets it, the others are 400 M_ROOM_IN_USE, none 500', async () => {
  const server = await startTestServer();
  try {
    const alice = await registerUser(server, 'alice');
    const answers = await Promise.all(Array.from({ length: 6 }, () => call(server, alice, 'POST', '/createRoom', { room_alias_name: 'party' })));
    const ok = answers.filter((a) => a.status === 200);
    assert.equal(ok.length, 1, JSON.stringify(answers.map((a) => a.status)));
    for (const a of answers.filter((x) => x.status !== 200)) {
      assert.equal(a.status, 400);
      assert.equal(a.body.errcode, 'M_ROOM_IN_USE');
    }
    const lookup = await call(server, alice, 'GET', `/directory/room/${encodeURIComponent('#party:localhost')}`);
    assert.equal(lookup.body.room_id, ok[0]!.body.room_id);
  } finally {
    await server.stop();
  }
});
