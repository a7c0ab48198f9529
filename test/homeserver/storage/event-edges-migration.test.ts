// Migration 015 on a real SQLite file at version 14: event_edges rows move from the event's id to
// its position, every edge is kept, and the never-read event_auth table is gone.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from '../../../homeserver/storage/sqlite.ts';
import { runMigrations } from '../../../homeserver/storage/migrations/run.ts';
import { openSchemaAtVersion } from './schema-at-version.ts';
import { remoteEventsStore } from '../../../homeserver/storage/remote-events-store.ts';

describe('migration 015: event edges keyed by position', () => {
  let conn: Connection;
  before(async () => {
    conn = await openSchemaAtVersion(14);
    // A room whose history starts with a gap: $b (position -1, backfilled) cites $gone, which the
    // server never got; $c (1) cites $b; $d (2) is a merge of $c and $b.
    const events: Array<[number, string, string[]]> = [
      [-1, '$b', ['$gone']],
      [1, '$c', ['$b']],
      [2, '$d', ['$c', '$b']],
    ];
    for (const [pos, id, prevs] of events) {
      await conn.run(
        "INSERT INTO events (stream_ordering, event_id, room_id, type, sender, depth, origin_server_ts, json) VALUES (?, ?, '!r:hs', 'm.room.message', '@a:hs', 1, 0, '{}')",
        pos,
        id,
      );
      for (const prev of prevs) await conn.run('INSERT INTO event_edges (event_id, prev_event_id) VALUES (?, ?)', id, prev);
      await conn.run("INSERT INTO event_auth (event_id, auth_event_id) VALUES (?, '$create')", id);
    }
    await runMigrations(conn);
  });
  after(() => conn.close());

  test('every edge is kept, under its event position', async () => {
    const rows = await conn.all<{ stream_ordering: number; prev_event_id: string }>(
      'SELECT stream_ordering, prev_event_id FROM event_edges ORDER BY stream_ordering, prev_event_id',
    );
    assert.deepEqual(
      rows.map((r) => [r.stream_ordering, r.prev_event_id]),
      [
        [-1, '$gone'],
        [1, '$b'],
        [2, '$b'],
        [2, '$c'],
      ],
    );
  });

  test('event_auth is gone', async () => {
    const t = await conn.get("SELECT name FROM sqlite_master WHERE name = 'event_auth'");
    assert.equal(t, undefined);
  });

  test('the backward extremities read from the moved edges: the event that cites an unknown one', async () => {
    assert.deepEqual(await remoteEventsStore.backwardExtremities(conn, '!r:hs', 10), ['$b']);
  });
});
