// Migration 012 on a real SQLite file that holds version 11's per-user push actions: the log keeps
// every notification, and the new counters equal what version 11 computed at read time (after
// each user's receipts, unthreaded or in the thread, and their own latest event in the thread).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '../../../homeserver/storage/sqlite.ts';
import { MIGRATIONS, runMigrations } from '../../../homeserver/storage/migrations/run.ts';

const dir = mkdtempSync(join(tmpdir(), 'hearth-migration-012-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ROOM = '!r:hs';
const OTHER_ROOM = '!o:hs';
const THREAD = '$root';

describe('migration 012: push actions become a log and unread counters', () => {
  let conn: Connection;
  before(async () => {
    conn = await Connection.open(join(dir, 'hearth.sqlite'));
    await conn.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ts INTEGER NOT NULL)');
    for (const m of MIGRATIONS.filter((m) => m.version <= 11)) {
      await conn.exec(m.sql);
      await conn.run('INSERT INTO schema_migrations (version, name, applied_ts) VALUES (?, ?, 0)', m.version, m.name);
    }
    // Events 1..10 in ROOM, 11..12 in OTHER_ROOM.
    for (let i = 1; i <= 12; i++) {
      await conn.run(
        "INSERT INTO events (stream_ordering, event_id, room_id, type, sender, depth, origin_server_ts, json) VALUES (?, ?, ?, 'm.room.message', '@a:hs', ?, 0, '{}')",
        i, `$e${i}`, i <= 10 ? ROOM : OTHER_ROOM, i,
      );
    }
    const action = (user: string, so: number, thread = 'main', highlight = 0, notify = 1) =>
      conn.run(
        "INSERT INTO event_push_actions (user_id, event_id, room_id, stream_ordering, thread_id, notify, highlight, actions, ts) VALUES (?, ?, ?, ?, ?, ?, ?, '[\"notify\"]', 0)",
        user, `$e${so}`, so <= 10 ? ROOM : OTHER_ROOM, so, thread, notify, highlight,
      );
    // bob: main 1..6 (3 a highlight), thread 7..8; an unthreaded receipt at 4 -> main 5,6 and thread 7,8 unread.
    for (const so of [1, 2, 3, 4, 5, 6]) await action('@bob:hs', so, 'main', so === 3 || so === 6 ? 1 : 0);
    for (const so of [7, 8]) await action('@bob:hs', so, THREAD);
    await conn.run("INSERT INTO receipts VALUES (?, 'm.read', '@bob:hs', '', '$e4', 0, 1)", ROOM);
    // carol: main 1..6, a private receipt in the thread at 8, her own main-timeline event at 5.
    for (const so of [1, 2, 3, 4, 5, 6]) await action('@carol:hs', so);
    for (const so of [7, 8, 9]) await action('@carol:hs', so, THREAD);
    await conn.run("INSERT INTO receipts VALUES (?, 'm.read.private', '@carol:hs', ?, '$e8', 0, 2)", ROOM, THREAD);
    await conn.run("INSERT INTO push_read_by_sending VALUES ('@carol:hs', ?, 'main', 5)", ROOM);
    // dave: in the other room, nothing read; one row that did not notify.
    await action('@dave:hs', 11);
    await action('@dave:hs', 12, 'main', 0, 0);
    await runMigrations(conn);
  });
  after(() => conn.close());

  test('the counters equal the notifications after each read mark, per room, user and thread', async () => {
    const rows = await conn.all('SELECT room_id, user_id, thread_id, notifications, highlights FROM push_unread ORDER BY room_id, user_id, thread_id');
    assert.deepEqual(rows, [
      { room_id: OTHER_ROOM, user_id: '@dave:hs', thread_id: 'main', notifications: 1, highlights: 0 },
      { room_id: ROOM, user_id: '@bob:hs', thread_id: THREAD, notifications: 2, highlights: 0 },
      { room_id: ROOM, user_id: '@bob:hs', thread_id: 'main', notifications: 2, highlights: 1 },
      { room_id: ROOM, user_id: '@carol:hs', thread_id: THREAD, notifications: 1, highlights: 0 },
      { room_id: ROOM, user_id: '@carol:hs', thread_id: 'main', notifications: 1, highlights: 0 },
    ]);
  });

  test('the log keeps every notification, and only those', async () => {
    const n = await conn.get<{ n: number }>('SELECT COUNT(*) AS n FROM push_log');
    assert.equal(n?.n, 8 + 9 + 1);
    const dave = await conn.all("SELECT stream_ordering FROM push_log WHERE user_id = '@dave:hs'");
    assert.deepEqual(dave, [{ stream_ordering: 11 }]);
  });

  test('the old table is gone and the schema is at version 12', async () => {
    const old = await conn.get("SELECT name FROM sqlite_master WHERE name = 'event_push_actions'");
    assert.equal(old, undefined);
    const v = await conn.get<{ v: number }>('SELECT MAX(version) AS v FROM schema_migrations');
    assert.equal(v?.v, 12);
  });
});
