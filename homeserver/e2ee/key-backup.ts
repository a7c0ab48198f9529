// Server-side key backups (end_to_end_encryption.md "Server-side key backups"; key_backup.yaml).
// The server stores encrypted session keys it cannot read; it only decides, from their metadata,
// which of two copies of a session's key to keep.
import { MatrixError } from '../http/matrix-error.ts';
import type { Database } from '../storage/database.ts';
import { keyBackupStore, type BackupKeyRow, type BackupVersionRow } from '../storage/key-backup-store.ts';
import { backupKeyDataProblem, backupKeyReplaces, isRecord, type BackupKeyData } from '../protocol/e2e-keys.ts';
import { check } from './errors.ts';
import { nullObject } from '../protocol/null-object.ts';

/**
 * Backup versions (not deleted) one account may keep. A client makes a new one when the user
 * resets their backup and rarely deletes the old: 100 is a lifetime of resets, and each one used
 * to stay for ever. Deleted versions keep only a small row for their number (the newest one).
 */
export const MAX_LIVE_BACKUP_VERSIONS = 100;
/** A backup's auth_data is a public key and a few signatures, under 1 kB; 64 KiB is plenty. */
export const MAX_AUTH_DATA_BYTES = 64 * 1024;

type Json = Record<string, unknown>;

/** A key to store, addressed by room and session. */
export interface BackupKeyUpload {
  roomId: string;
  sessionId: string;
  data: BackupKeyData;
}

/** Which keys a GET or DELETE of room_keys/keys addresses: all, one room's, or one session. */
export interface KeySelector {
  roomId?: string;
  sessionId?: string;
}

function parseVersion(v: string | undefined): number | undefined {
  return v !== undefined && /^[1-9]\d{0,14}$/.test(v) ? Number(v) : undefined;
}

function keyData(r: BackupKeyRow): BackupKeyData {
  return {
    first_message_index: r.first_message_index,
    forwarded_count: r.forwarded_count,
    is_verified: r.is_verified === 1,
    session_data: JSON.parse(r.session_data) as Json,
  };
}

export class KeyBackup {
  private readonly db: Database;

  constructor(db: Database) {
    this.db = db;
  }

  async createVersion(userId: string, body: Json): Promise<string> {
    const { algorithm, authData } = versionBody(body);
    return String(
      await this.db.write(async (tx) => {
        if ((await keyBackupStore.countLive(tx, userId)) >= MAX_LIVE_BACKUP_VERSIONS) {
          throw new MatrixError(413, 'M_TOO_LARGE', `An account may keep at most ${MAX_LIVE_BACKUP_VERSIONS} backup versions; delete an old one first`);
        }
        await keyBackupStore.pruneDeleted(tx, userId);
        return keyBackupStore.createVersion(tx, userId, algorithm, authData);
      }),
    );
  }

  /** GET room_keys/version[/{version}]: the newest backup, or the named one; 404 when none or deleted. */
  async getVersion(userId: string, version?: string): Promise<Json> {
    const q = this.db.reader;
    let row: BackupVersionRow | undefined;
    if (version === undefined) row = await keyBackupStore.currentVersion(q, userId);
    else {
      const n = parseVersion(version);
      row = n === undefined ? undefined : await keyBackupStore.getVersion(q, userId, n);
    }
    if (!row || row.deleted) throw new MatrixError(404, 'M_NOT_FOUND', version === undefined ? 'No current backup version' : 'Unknown backup version');
    return {
      algorithm: row.algorithm,
      auth_data: JSON.parse(row.auth_data) as Json,
      count: await keyBackupStore.count(q, userId, row.version),
      etag: String(row.etag),
      version: String(row.version),
    };
  }

  /** PUT room_keys/version/{version}: only auth_data may change. */
  async updateVersion(userId: string, version: string, body: Json): Promise<void> {
    const { algorithm, authData } = versionBody(body);
    if (body.version !== undefined && body.version !== version)
      throw new MatrixError(400, 'M_INVALID_PARAM', "'version' does not match the version in the path");
    const n = parseVersion(version);
    await this.db.write(async (tx) => {
      const row = n === undefined ? undefined : await keyBackupStore.getVersion(tx, userId, n);
      if (!row || row.deleted) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown backup version');
      if (row.algorithm !== algorithm) throw new MatrixError(400, 'M_INVALID_PARAM', 'Algorithm does not match');
      await keyBackupStore.setAuthData(tx, userId, row.version, authData);
    });
  }

  /** DELETE room_keys/version/{version}: succeeds again for a version already deleted. */
  async deleteVersion(userId: string, version: string): Promise<void> {
    const n = parseVersion(version);
    await this.db.write(async (tx) => {
      const row = n === undefined ? undefined : await keyBackupStore.getVersion(tx, userId, n);
      if (!row) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown backup version');
      if (!row.deleted) await keyBackupStore.deleteVersion(tx, userId, row.version);
    });
  }

  /**
   * PUT room_keys/keys[...]: keys may only be written to the current version. For a session the
   * backup already holds, the better key is kept (protocol/e2e-keys.ts backupKeyReplaces).
   */
  async putKeys(userId: string, version: string | undefined, keys: BackupKeyUpload[]): Promise<{ etag: string; count: number }> {
    if (version === undefined) throw new MatrixError(400, 'M_MISSING_PARAM', "Missing 'version'");
    for (const k of keys) check(backupKeyDataProblem(k.data, `session ${k.sessionId}`));
    return this.db.write(async (tx) => {
      const current = await keyBackupStore.currentVersion(tx, userId);
      if (!current) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown backup version');
      if (parseVersion(version) !== current.version) {
        throw new MatrixError(403, 'M_WRONG_ROOM_KEYS_VERSION', 'Wrong backup version.', { current_version: String(current.version) });
      }
      let changed = false;
      for (const k of keys) {
        const existing = await keyBackupStore.getKey(tx, userId, current.version, k.roomId, k.sessionId);
        if (existing && !backupKeyReplaces(k.data, keyData(existing))) continue;
        await keyBackupStore.putKey(tx, userId, current.version, {
          room_id: k.roomId,
          session_id: k.sessionId,
          first_message_index: k.data.first_message_index,
          forwarded_count: k.data.forwarded_count,
          is_verified: k.data.is_verified ? 1 : 0,
          session_data: JSON.stringify(k.data.session_data),
        });
        changed = true;
      }
      if (changed) await keyBackupStore.bumpEtag(tx, userId, current.version);
      return { etag: String(current.etag + (changed ? 1 : 0)), count: await keyBackupStore.count(tx, userId, current.version) };
    });
  }

  /** GET room_keys/keys[...]: `{rooms}`, a room's `{sessions}`, or one session's key data (404 if absent). */
  async getKeys(userId: string, version: string | undefined, sel: KeySelector): Promise<Json> {
    const row = await this.existingVersion(userId, version);
    const rows = await keyBackupStore.keys(this.db.reader, userId, row.version, sel.roomId, sel.sessionId);
    if (sel.sessionId !== undefined) {
      if (rows.length === 0) throw new MatrixError(404, 'M_NOT_FOUND', 'Key not found.');
      return keyData(rows[0]!) as unknown as Json;
    }
    const sessions = (rs: BackupKeyRow[]) => Object.fromEntries(rs.map((r) => [r.session_id, keyData(r)]));
    if (sel.roomId !== undefined) return { sessions: sessions(rows) };
    const rooms: Record<string, { sessions: Json }> = nullObject();
    for (const r of rows) (rooms[r.room_id] ??= { sessions: nullObject() }).sessions[r.session_id] = keyData(r);
    return { rooms };
  }

  /** DELETE room_keys/keys[...]. */
  async deleteKeys(userId: string, version: string | undefined, sel: KeySelector): Promise<{ etag: string; count: number }> {
    const row = await this.existingVersion(userId, version);
    return this.db.write(async (tx) => {
      const removed = await keyBackupStore.deleteKeys(tx, userId, row.version, sel.roomId, sel.sessionId);
      if (removed > 0) await keyBackupStore.bumpEtag(tx, userId, row.version);
      const now = await keyBackupStore.getVersion(tx, userId, row.version);
      return { etag: String(now?.etag ?? 0), count: await keyBackupStore.count(tx, userId, row.version) };
    });
  }

  private async existingVersion(userId: string, version: string | undefined): Promise<BackupVersionRow> {
    if (version === undefined) throw new MatrixError(400, 'M_MISSING_PARAM', "Missing 'version'");
    const n = parseVersion(version);
    const row = n === undefined ? undefined : await keyBackupStore.getVersion(this.db.reader, userId, n);
    if (!row || row.deleted) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown backup version');
    return row;
  }
}

function versionBody(body: Json): { algorithm: string; authData: string } {
  const algorithm = body.algorithm;
  if (algorithm === undefined) throw new MatrixError(400, 'M_MISSING_PARAM', "Missing 'algorithm'");
  if (typeof algorithm !== 'string') throw new MatrixError(400, 'M_BAD_JSON', "'algorithm' must be a string");
  if (body.auth_data === undefined) throw new MatrixError(400, 'M_MISSING_PARAM', "Missing 'auth_data'");
  if (!isRecord(body.auth_data)) throw new MatrixError(400, 'M_BAD_JSON', "'auth_data' must be an object");
  const authData = JSON.stringify(body.auth_data);
  if (Buffer.byteLength(authData) > MAX_AUTH_DATA_BYTES) throw new MatrixError(413, 'M_TOO_LARGE', `'auth_data' is limited to ${MAX_AUTH_DATA_BYTES} bytes`);
  return { algorithm, authData };
}
