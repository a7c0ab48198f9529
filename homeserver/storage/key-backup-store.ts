// Tables: key_backup_versions, key_backup_keys (server-side key backups).
import type { Queryable } from './sqlite.ts';

export interface BackupVersionRow {
  version: number;
  algorithm: string;
  auth_data: string;
  etag: number;
  deleted: number;
}

export interface BackupKeyRow {
  room_id: string;
  session_id: string;
  first_message_index: number;
  forwarded_count: number;
  is_verified: number;
  session_data: string;
}

export const keyBackupStore = {
  async createVersion(q: Queryable, userId: string, algorithm: string, authData: string): Promise<number> {
    const row = await q.get<{ v: number | null }>('SELECT MAX(version) AS v FROM key_backup_versions WHERE user_id = ?', userId);
    const version = (row?.v ?? 0) + 1;
    await q.run('INSERT INTO key_backup_versions (user_id, version, algorithm, auth_data) VALUES (?, ?, ?, ?)', userId, version, algorithm, authData);
    return version;
  },
  /** A version, deleted or not. */
  getVersion(q: Queryable, userId: string, version: number) {
    return q.get<BackupVersionRow>(
      'SELECT version, algorithm, auth_data, etag, deleted FROM key_backup_versions WHERE user_id = ? AND version = ?',
      userId,
      version,
    );
  },
  /** The newest version that is not deleted: the only one keys may be written to. */
  currentVersion(q: Queryable, userId: string) {
    return q.get<BackupVersionRow>(
      'SELECT version, algorithm, auth_data, etag, deleted FROM key_backup_versions WHERE user_id = ? AND deleted = 0 ORDER BY version DESC LIMIT 1',
      userId,
    );
  },
  async setAuthData(q: Queryable, userId: string, version: number, authData: string) {
    await q.run('UPDATE key_backup_versions SET auth_data = ? WHERE user_id = ? AND version = ?', authData, userId, version);
  },
  /** Versions not deleted. */
  async countLive(q: Queryable, userId: string): Promise<number> {
    return (await q.get<{ n: number }>('SELECT COUNT(*) AS n FROM key_backup_versions WHERE user_id = ? AND deleted = 0', userId))?.n ?? 0;
  },
  /**
   * Deletes the rows of deleted versions but the newest row, which keeps version numbers from
   * being reused (createVersion counts on from the highest).
   */
  async pruneDeleted(q: Queryable, userId: string) {
    await q.run(
      'DELETE FROM key_backup_versions WHERE user_id = ? AND deleted = 1 AND version < (SELECT MAX(version) FROM key_backup_versions WHERE user_id = ?)',
      userId,
      userId,
    );
  },
  async deleteVersion(q: Queryable, userId: string, version: number) {
    // The row stays (version numbers are never reused) without its auth_data, which may be large.
    await q.run("UPDATE key_backup_versions SET deleted = 1, auth_data = '{}' WHERE user_id = ? AND version = ?", userId, version);
    await q.run('DELETE FROM key_backup_keys WHERE user_id = ? AND version = ?', userId, version);
  },
  async bumpEtag(q: Queryable, userId: string, version: number) {
    await q.run('UPDATE key_backup_versions SET etag = etag + 1 WHERE user_id = ? AND version = ?', userId, version);
  },
  async count(q: Queryable, userId: string, version: number): Promise<number> {
    return (await q.get<{ n: number }>('SELECT COUNT(*) AS n FROM key_backup_keys WHERE user_id = ? AND version = ?', userId, version))?.n ?? 0;
  },

  getKey(q: Queryable, userId: string, version: number, roomId: string, sessionId: string) {
    return q.get<BackupKeyRow>(
      'SELECT * FROM key_backup_keys WHERE user_id = ? AND version = ? AND room_id = ? AND session_id = ?',
      userId,
      version,
      roomId,
      sessionId,
    );
  },
  async putKey(q: Queryable, userId: string, version: number, k: BackupKeyRow) {
    await q.run(
      `INSERT INTO key_backup_keys (user_id, version, room_id, session_id, first_message_index, forwarded_count, is_verified, session_data)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (user_id, version, room_id, session_id) DO UPDATE SET first_message_index = excluded.first_message_index,
         forwarded_count = excluded.forwarded_count, is_verified = excluded.is_verified, session_data = excluded.session_data`,
      userId,
      version,
      k.room_id,
      k.session_id,
      k.first_message_index,
      k.forwarded_count,
      k.is_verified,
      k.session_data,
    );
  },
  /** Keys of a version, optionally of one room or one session. */
  keys(q: Queryable, userId: string, version: number, roomId?: string, sessionId?: string) {
    if (roomId !== undefined && sessionId !== undefined) {
      return q.all<BackupKeyRow>(
        'SELECT * FROM key_backup_keys WHERE user_id = ? AND version = ? AND room_id = ? AND session_id = ?',
        userId,
        version,
        roomId,
        sessionId,
      );
    }
    if (roomId !== undefined)
      return q.all<BackupKeyRow>(
        'SELECT * FROM key_backup_keys WHERE user_id = ? AND version = ? AND room_id = ? ORDER BY session_id',
        userId,
        version,
        roomId,
      );
    return q.all<BackupKeyRow>('SELECT * FROM key_backup_keys WHERE user_id = ? AND version = ? ORDER BY room_id, session_id', userId, version);
  },
  /** Deletes keys of a version (all, one room's, or one session); returns how many went. */
  async deleteKeys(q: Queryable, userId: string, version: number, roomId?: string, sessionId?: string): Promise<number> {
    if (roomId !== undefined && sessionId !== undefined) {
      return (
        await q.run('DELETE FROM key_backup_keys WHERE user_id = ? AND version = ? AND room_id = ? AND session_id = ?', userId, version, roomId, sessionId)
      ).changes;
    }
    if (roomId !== undefined)
      return (await q.run('DELETE FROM key_backup_keys WHERE user_id = ? AND version = ? AND room_id = ?', userId, version, roomId)).changes;
    return (await q.run('DELETE FROM key_backup_keys WHERE user_id = ? AND version = ?', userId, version)).changes;
  },
};
