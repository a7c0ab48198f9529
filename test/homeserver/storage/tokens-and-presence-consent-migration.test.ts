// Migration 025 on a real SQLite file at version 18: access tokens made before it never expire and
// keep working; presence list entries made before it, which nobody consented to (they were
// accepted without asking), become requests that wait for their target's consent.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from '../../../homeserver/storage/sqlite.ts';
import { runMigrations } from '../../../homeserver/storage/migrations/run.ts';
import { openSchemaAtVersion } from './schema-at-version.ts';
import { accountsStore } from '../../../homeserver/storage/accounts-store.ts';
import { presenceStore } from '../../../homeserver/storage/edus-store.ts';

describe('migration 025: refresh tokens and presence list consent', () => {
  let conn: Connection;
  before(async () => {
    conn = await openSchemaAtVersion(18);
    await conn.run("INSERT INTO access_tokens (token_hash, user_id, device_id, created_ts) VALUES ('h1', '@a:hs', 'DEV', 0)");
    await conn.run("INSERT INTO presence_list (owner, target) VALUES ('@carol:hs', '@alice:hs')");
    await runMigrations(conn);
  });
  after(() => conn.close());

  test('an access token from before never expires and has no refresh token', async () => {
    assert.deepEqual(await accountsStore.getAccessToken(conn, 'h1'), {
      user_id: '@a:hs',
      device_id: 'DEV',
      expires_ts: null,
      refresh_token_hash: null,
      replaces_hash: null,
    });
  });

  test('a presence list entry from before is a request waiting for its target, not a consent', async () => {
    assert.deepEqual(await presenceStore.list(conn, '@carol:hs'), []);
    assert.deepEqual(await presenceStore.watchers(conn, '@alice:hs'), []);
    assert.deepEqual(await presenceStore.requestsTo(conn, '@alice:hs'), ['@carol:hs']);
  });
});
