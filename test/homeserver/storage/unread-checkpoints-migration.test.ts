// Migration 018 on a real SQLite file at version 17: the notification log written before it is
// counted as before, a count's checkpoint is stored in the new table and read back as it was, and
// the next count starts from it (issue 13: a room of 200,000 unread events was read in full at the
// first /sync after each restart).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from '../../../homeserver/storage/sqlite.ts';
import { runMigrations } from '../../../homeserver/storage/migrations/run.ts';
import { pushStore } from '../../../homeserver/storage/push-store.ts';
import { openSchemaAtVersion } from './schema-at-version.ts';

describe('migration 018: unread count checkpoints', () => {
  let conn: Connection;
  before(async () => {
    conn = await openSchemaAtVersion(17);
    for (let i = 1; i <= 12; i++) {
      await conn.run(
        "INSERT INTO push_notified (stream_ordering, room_id, thread_id, actions, recipients, highlighted) VALUES (?, '!r:hs', ?, '[[\"notify\"]]', ?, ?)",
        i,
        i % 3 === 0 ? '$t' : 'main',
        JSON.stringify({ '@b:hs': 0 }),
        i % 4 === 0 ? JSON.stringify(['@b:hs']) : null,
      );
    }
    await runMigrations(conn);
  });
  after(() => conn.close());

  test('a count over rows logged before the migration is stored, read back whole, and the next count starts after it', async () => {
    const first = await pushStore.unreadByThread(conn, '!r:hs', '@b:hs');
    const counts = { main: { notifications: 8, highlights: 2 }, $t: { notifications: 4, highlights: 1 } };
    assert.deepEqual(Object.fromEntries(first.counts), counts);
    assert.equal(first.scanned, 12);
    await pushStore.saveCheckpoint(conn, first.checkpoint);
    const stored = await pushStore.checkpoint(conn, '!r:hs', '@b:hs');
    assert.deepEqual(stored, first.checkpoint);
    assert.equal(stored?.through, 12);
    const next = await pushStore.unreadByThread(conn, '!r:hs', '@b:hs');
    assert.deepEqual(Object.fromEntries(next.counts), counts);
    assert.equal(next.scanned, 0, 'nothing after the checkpoint to read');
  });
});
