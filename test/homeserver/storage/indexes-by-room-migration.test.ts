// Migration 017 on a real SQLite file at version 16: a room's newest state groups and a user's
// unread notifications in a room are found through indexes by room, not by scanning every room's
// state groups or every event of the room (issue 13: each was the first request of its kind after
// a restart, tens to hundreds of milliseconds); rows stored before the migration are found alike.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from '../../../homeserver/storage/sqlite.ts';
import { runMigrations } from '../../../homeserver/storage/migrations/run.ts';
import { stateGroupsStore } from '../../../homeserver/storage/events-store.ts';
import { COUNT_NOTIFIED, pushStore } from '../../../homeserver/storage/push-store.ts';
import { openSchemaAtVersion } from './schema-at-version.ts';

async function plan(conn: Connection, sql: string, ...params: Array<string | number | null>): Promise<string> {
  return (await conn.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, ...params)).map((r) => r.detail).join('; ');
}

describe('migration 017: indexes by room', () => {
  let conn: Connection;
  before(async () => {
    conn = await openSchemaAtVersion(16);
    // Two rooms' rows interleaved, as rooms written in turn leave them.
    for (let i = 1; i <= 20; i++) {
      const room = i % 2 === 0 ? '!even:hs' : '!odd:hs';
      await conn.run('INSERT INTO state_groups (id, room_id, prev_group, chain_length) VALUES (?, ?, NULL, 0)', i, room);
      await conn.run(
        "INSERT INTO events (stream_ordering, event_id, room_id, type, sender, depth, origin_server_ts, json) VALUES (?, ?, ?, 'm.room.message', '@a:hs', ?, 0, '{}')",
        i,
        `$e${i}`,
        room,
        i,
      );
      await conn.run(
        "INSERT INTO push_notified (stream_ordering, room_id, thread_id, actions, recipients, highlighted) VALUES (?, ?, 'main', '[[\"notify\"]]', ?, ?)",
        i,
        room,
        JSON.stringify({ '@b:hs': 0, '@c:hs': 0 }),
        i % 4 === 1 ? JSON.stringify(['@b:hs']) : null,
      );
    }
    await runMigrations(conn);
  });
  after(() => conn.close());

  test("a room's newest state groups are read through the index, without scanning the table", async () => {
    const details = await plan(conn, 'SELECT id, chain_length FROM state_groups WHERE room_id = ? ORDER BY id DESC LIMIT ?', '!odd:hs', 3);
    assert.match(details, /USING (COVERING )?INDEX state_groups_by_room/);
    assert.deepEqual(
      (await stateGroupsStore.newestOfRoom(conn, '!odd:hs', 3)).map((r) => r.id),
      [19, 17, 15],
    );
  });

  test("a user's unread notifications in a room are counted through the index, over that room's only", async () => {
    const details = await plan(conn, COUNT_NOTIFIED, '"@b:hs"', '!odd:hs', 0, 1e15, null, null, '"@b:hs":');
    assert.match(details, /USING INDEX push_notified_by_room \(room_id=\? AND stream_ordering>\?/);
    // Ten notifications in the odd room, five of them (1, 5, 9, 13, 17) highlighting @b:hs.
    assert.deepEqual(Object.fromEntries((await pushStore.unreadByThread(conn, '!odd:hs', '@b:hs')).counts), { main: { notifications: 10, highlights: 5 } });
    assert.deepEqual(Object.fromEntries((await pushStore.unreadByThread(conn, '!odd:hs', '@c:hs')).counts), { main: { notifications: 10, highlights: 0 } });
    assert.deepEqual(Object.fromEntries((await pushStore.unreadByThread(conn, '!odd:hs', '@d:hs')).counts), {});
  });
});
