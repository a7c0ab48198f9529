// Versioned migrations, applied in order at start, each in its own transaction.
// SQL stays portable (no SQLite-only types beyond INTEGER/TEXT/BLOB) so a PostgreSQL backend can
// reuse the same statements with a different module around them.
import type { Connection } from '../sqlite.ts';
import { migration001 } from './001-initial.ts';
import { migration002 } from './002-media.ts';
import { migration003 } from './003-edus.ts';
import { migration004 } from './004-e2ee.ts';
import { migration005 } from './005-relations.ts';
import { migration006 } from './006-search.ts';
import { migration007 } from './007-push.ts';
import { migration008 } from './008-federation.ts';
import { migration009 } from './009-federation-queue.ts';
import { migration010 } from './010-federation-edus.ts';
import { migration011 } from './011-remote-events.ts';
import { migration012 } from './012-push-counters.ts';
import { migration013 } from './013-push-notified.ts';
import { migration014 } from './014-search-position.ts';
import { migration015 } from './015-event-edges-by-position.ts';
import { migration016 } from './016-txn-scope.ts';
import { migration017 } from './017-indexes-by-room.ts';
import { migration018 } from './018-unread-checkpoints.ts';
import { migration020 } from './020-account-moderation.ts';
import { migration021 } from './021-events-in-room-order.ts';
import { migration022 } from './022-remote-media.ts';
import { migration023 } from './023-pushers-openid.ts';
import { migration025 } from './025-tokens-and-presence-consent.ts';
import { migration026 } from './026-lan-peers.ts';
import { migration027 } from './027-lan-sharing.ts';
import { migration029 } from './029-push-progress.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: Migration[] = [
  migration001,
  migration002,
  migration003,
  migration004,
  migration005,
  migration006,
  migration007,
  migration008,
  migration009,
  migration010,
  migration011,
  migration012,
  migration013,
  migration014,
  migration015,
  migration016,
  migration017,
  migration018,
  migration020,
  migration021,
  migration022,
  migration023,
  migration025,
  migration026,
  migration027,
  migration029,
];

export async function runMigrations(conn: Connection): Promise<void> {
  await conn.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ts INTEGER NOT NULL)');
  // Every migration not yet recorded is applied, in order, not only those above the highest one:
  // migrations written side by side on branches land out of number order, and a database that
  // already ran a later one must still get an earlier one that landed after it.
  const rows = await conn.all<{ version: number }>('SELECT version FROM schema_migrations');
  const applied = new Set(rows.map((r) => r.version));
  const known = new Set(MIGRATIONS.map((m) => m.version));
  const unknown = [...applied].filter((v) => !known.has(v));
  if (unknown.length > 0) {
    const latest = MIGRATIONS[MIGRATIONS.length - 1]!.version;
    throw new Error(`database schema version ${Math.max(...unknown)} is newer than this Hearth (${latest})`);
  }
  for (const m of MIGRATIONS) {
    if (applied.has(m.version)) continue;
    await conn.exec('BEGIN IMMEDIATE');
    try {
      await conn.exec(m.sql);
      await conn.run('INSERT INTO schema_migrations (version, name, applied_ts) VALUES (?, ?, ?)', m.version, m.name, Date.now());
      await conn.exec('COMMIT');
    } catch (err) {
      await conn.exec('ROLLBACK');
      throw new Error(`migration ${m.version} (${m.name}) failed: ${(err as Error).message}`, { cause: err });
    }
  }
}
