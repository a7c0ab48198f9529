// `hearth reports` and `hearth admin`: what the server's admin does with the database of a
// stopped or running server (SQLite in WAL mode lets both open it). Each prints JSON lines to
// stdout, for a person or a script.
import fs from 'node:fs';
import path from 'node:path';
import type { HomeserverConfig } from '../config/types.ts';
import { Database } from '../storage/database.ts';
import { reportsStore } from '../storage/reports-store.ts';
import { moderationStore } from '../storage/moderation-store.ts';

/** The homeserver's database file in its data dir (homeserver/index.ts opens the same). */
const DB_FILE = 'hearth.sqlite';

export class AdminCommandError extends Error {}

async function openDatabase(config: HomeserverConfig): Promise<Database> {
  const file = path.join(config.dataDir, DB_FILE);
  // Opening would create an empty database; a wrong --data-dir should say so instead.
  if (!fs.existsSync(file)) throw new AdminCommandError(`no Hearth database in ${config.dataDir}`);
  return Database.open(file);
}

/** Prints the newest `limit` reports, newest first, one JSON object a line. */
export async function printReports(config: HomeserverConfig, limit: number, out: (line: string) => void): Promise<void> {
  const db = await openDatabase(config);
  try {
    for (const r of await reportsStore.list(db.reader, limit)) {
      out(
        JSON.stringify({
          id: r.report_id,
          received: new Date(r.received_ts).toISOString(),
          kind: r.kind,
          reporter: r.reporter,
          ...(r.room_id !== null ? { room_id: r.room_id } : {}),
          ...(r.event_id !== null ? { event_id: r.event_id } : {}),
          ...(r.target_user_id !== null ? { user_id: r.target_user_id } : {}),
          reason: r.reason,
        }),
      );
    }
  } finally {
    await db.close();
  }
}

/** `admin list`, or `admin grant|revoke USER`: who may use the server administration endpoints. */
export async function adminCommand(config: HomeserverConfig, action: string, userId: string | undefined, out: (line: string) => void): Promise<void> {
  const db = await openDatabase(config);
  try {
    if (action === 'list') {
      for (const row of await moderationStore.listFlagged(db.reader)) {
        if (row.admin) out(JSON.stringify({ user_id: row.user_id }));
      }
      return;
    }
    if (action !== 'grant' && action !== 'revoke') throw new AdminCommandError(`unknown admin action '${action}' (list, grant or revoke)`);
    if (userId === undefined) throw new AdminCommandError(`admin ${action} needs a user id`);
    const localUser = userId.startsWith('@') ? userId : `@${userId}:${config.serverName}`;
    const found = await db.write((tx) => moderationStore.set(tx, localUser, 'admin', action === 'grant'));
    if (!found) throw new AdminCommandError(`no account ${localUser} on this server`);
    out(JSON.stringify({ user_id: localUser, admin: action === 'grant' }));
  } finally {
    await db.close();
  }
}
