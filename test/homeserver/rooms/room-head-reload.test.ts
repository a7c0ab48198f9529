// A room's head loaded from storage (after a restart, or after a failed batch dropped it) points
// at the state group that holds the room's current state, even when newer groups hold other
// states (the state before a side-branch, soft-failed or backfilled event): an event sent next
// records the state it was really sent in, so its sender still sees it. Over real HTTP and a real
// SQLite file; the stray group is written into the file while the server is stopped.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, registerUser, call, type TestServer } from '../../helpers/server.ts';
import { Connection } from '../../../homeserver/storage/sqlite.ts';

const dir = mkdtempSync(join(tmpdir(), 'hearth-head-reload-'));
let server: TestServer | undefined;
after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The full state a group holds, following its chain of deltas. */
async function stateOfGroup(conn: Connection, group: number): Promise<Map<string, string>> {
  const chain: number[] = [];
  for (let id: number | null = group; id !== null;) {
    chain.unshift(id);
    id = (await conn.get<{ prev_group: number | null }>('SELECT prev_group FROM state_groups WHERE id = ?', id))!.prev_group;
  }
  const state = new Map<string, string>();
  for (const id of chain) {
    for (const e of await conn.all<{ type: string; state_key: string; event_id: string }>(
      'SELECT type, state_key, event_id FROM state_group_entries WHERE group_id = ?',
      id,
    ))
      state.set(`${e.type}|${e.state_key}`, e.event_id);
  }
  return state;
}

async function currentState(conn: Connection, roomId: string): Promise<Map<string, string>> {
  const rows = await conn.all<{ type: string; state_key: string; event_id: string }>(
    'SELECT type, state_key, event_id FROM current_state WHERE room_id = ?',
    roomId,
  );
  return new Map(rows.map((r) => [`${r.type}|${r.state_key}`, r.event_id]));
}

test('after a restart, an event is recorded in the current state, not in the newest state group', async () => {
  server = await startTestServer({ dataDir: dir });
  const alice = await registerUser(server, 'alice');
  const bob = await registerUser(server, 'bob');
  const roomId = (await call(server, alice, 'POST', '/createRoom', { preset: 'private_chat', invite: [bob.userId] })).body.room_id as string;
  assert.equal((await call(server, bob, 'POST', `/join/${encodeURIComponent(roomId)}`, {})).status, 200);
  await call(server, alice, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/one`, { msgtype: 'm.text', body: 'one' });
  await server.stop();
  server = undefined;

  // The newest group now holds a state with the create event alone, as a group made for the
  // state before some other event would.
  const file = join(dir, 'hearth.sqlite');
  let conn = await Connection.open(file);
  const create = (await conn.get<{ event_id: string }>("SELECT event_id FROM current_state WHERE room_id = ? AND type = 'm.room.create'", roomId))!.event_id;
  const stray = await conn.run('INSERT INTO state_groups (room_id, prev_group, chain_length) VALUES (?, NULL, 0)', roomId);
  await conn.run("INSERT INTO state_group_entries (group_id, type, state_key, event_id) VALUES (?, 'm.room.create', '', ?)", stray.lastID, create);
  await conn.close();

  server = await startTestServer({ dataDir: dir });
  const sent = await call(server, bob, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/two`, { msgtype: 'm.text', body: 'two' });
  assert.equal(sent.status, 200, JSON.stringify(sent.body));
  const messages = await call(server, bob, 'GET', `/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=10`);
  const bodies = (messages.body.chunk as Array<{ content: { body?: string } }>).map((e) => e.content.body).filter(Boolean);
  assert.deepEqual(bodies, ['two', 'one'], 'bob sees his own message');

  conn = await Connection.open(file, true);
  try {
    const { state_group: group } = (await conn.get<{ state_group: number }>('SELECT state_group FROM events WHERE event_id = ?', sent.body.event_id))!;
    assert.notEqual(group, stray.lastID);
    assert.deepEqual(await stateOfGroup(conn, group), await currentState(conn, roomId));
  } finally {
    await conn.close();
  }
});
