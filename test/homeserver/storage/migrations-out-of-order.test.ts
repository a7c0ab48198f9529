// Migrations are written side by side on branches and land out of number order: a database that
// already ran a later migration must still get an earlier one that landed after it, and a database
// that ran one this Hearth does not know is refused rather than opened.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MIGRATIONS, runMigrations } from '../../../homeserver/storage/migrations/run.ts';
import { openSchemaAtVersion } from './schema-at-version.ts';

test('a migration numbered below the highest applied one, but never applied, is applied', async () => {
  const latest = MIGRATIONS[MIGRATIONS.length - 1]!;
  const conn = await openSchemaAtVersion(latest.version);
  try {
    // A database that ran every migration but an earlier one (as if it landed later): the newest
    // before the latest that only creates tables, so that dropping them undoes it (an ALTER would not).
    const skipped = MIGRATIONS.slice(0, -1)
      .reverse()
      .find((m) => /CREATE TABLE/i.test(m.sql) && !/ALTER TABLE|DROP |INSERT |UPDATE /i.test(m.sql))!;
    await conn.run('DELETE FROM schema_migrations WHERE version = ?', skipped.version);
    const tables = (await conn.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")).map((r) => r.name);
    // Drop what the skipped migration created, so that running it again is possible and visible.
    const created = [...skipped.sql.matchAll(/CREATE TABLE (?:IF NOT EXISTS )?(\w+)/gi)].map((m) => m[1]!);
    assert.ok(created.length > 0, `migration ${skipped.version} creates no table; pick another for this test`);
    for (const name of created) if (tables.includes(name)) await conn.exec(`DROP TABLE ${name}`);

    await runMigrations(conn);

    const after = (await conn.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")).map((r) => r.name);
    for (const name of created) assert.ok(after.includes(name), `table ${name} of migration ${skipped.version} was not created`);
    const recorded = await conn.get<{ n: number }>('SELECT COUNT(*) AS n FROM schema_migrations WHERE version = ?', skipped.version);
    assert.equal(recorded?.n, 1);
  } finally {
    await conn.close();
  }
});

test('a database that ran a migration this Hearth does not know is refused', async () => {
  const latest = MIGRATIONS[MIGRATIONS.length - 1]!;
  const conn = await openSchemaAtVersion(latest.version);
  try {
    await conn.run('INSERT INTO schema_migrations (version, name, applied_ts) VALUES (?, ?, 0)', latest.version + 100, 'from the future');
    await assert.rejects(runMigrations(conn), /newer than this Hearth/);
  } finally {
    await conn.close();
  }
});
