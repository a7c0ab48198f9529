// For migration tests: a real SQLite file holding the schema as it was at one version, in a temp
// folder removed when the test process exits, so that a test can fill it as that version would have, then
// run the migrations that came after.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '../../../homeserver/storage/sqlite.ts';
import { MIGRATIONS } from '../../../homeserver/storage/migrations/run.ts';

export async function openSchemaAtVersion(version: number): Promise<Connection> {
  const dir = mkdtempSync(join(tmpdir(), `hearth-schema-${version}-`));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const conn = await Connection.open(join(dir, 'hearth.sqlite'));
  await conn.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ts INTEGER NOT NULL)');
  for (const m of MIGRATIONS.filter((m) => m.version <= version)) {
    await conn.exec(m.sql);
    await conn.run('INSERT INTO schema_migrations (version, name, applied_ts) VALUES (?, ?, 0)', m.version, m.name);
  }
  return conn;
}
