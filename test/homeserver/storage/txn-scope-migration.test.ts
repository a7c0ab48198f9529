// Migration 016 on a real SQLite file at version 15: the transaction ids already stored are taken
// for sends and keep answering their repeats; the same id may now be used at another endpoint.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from '../../../homeserver/storage/sqlite.ts';
import { runMigrations } from '../../../homeserver/storage/migrations/run.ts';
import { openSchemaAtVersion } from './schema-at-version.ts';
import { eventsStore } from '../../../homeserver/storage/events-store.ts';

describe('migration 016: transaction ids scoped to their endpoint', () => {
  let conn: Connection;
  before(async () => {
    conn = await openSchemaAtVersion(15);
    await conn.run(
      "INSERT INTO events (stream_ordering, event_id, room_id, type, sender, depth, origin_server_ts, json, txn_user_id, txn_device_id, txn_id) VALUES (1, '$m', '!r:hs', 'm.room.message', '@a:hs', 1, 0, '{}', '@a:hs', 'DEV', 't1')",
    );
    await runMigrations(conn);
  });
  after(() => conn.close());

  test('a send stored before is found by its id at its endpoint, and only there', async () => {
    const send = { userId: '@a:hs', deviceId: 'DEV', txnId: 't1', scope: 'send/!r:hs/m.room.message' };
    assert.equal((await eventsStore.getEventByTxn(conn, send))?.event_id, '$m');
    assert.equal(await eventsStore.getEventByTxn(conn, { ...send, scope: 'redact/!r:hs/$m' }), undefined);
  });

  test('the unique index refuses a repeat at the same endpoint and takes the id at another', async () => {
    const insert = (pos: number, scope: string) =>
      conn.run(
        "INSERT INTO events (stream_ordering, event_id, room_id, type, sender, depth, origin_server_ts, json, txn_user_id, txn_device_id, txn_id, txn_scope) VALUES (?, ?, '!r:hs', 'm.room.redaction', '@a:hs', 2, 0, '{}', '@a:hs', 'DEV', 't1', ?)",
        pos,
        `$x${pos}`,
        scope,
      );
    await assert.rejects(insert(2, 'send/!r:hs/m.room.message'), /UNIQUE constraint failed: events\.txn/);
    await insert(3, 'redact/!r:hs/$m');
  });
});
