// Tables: e2e_device_keys, e2e_one_time_keys, e2e_fallback_keys, e2e_cross_signing_keys,
// e2e_signatures, device_list_changes, to_device_messages, to_device_txns.
import type { Queryable } from './sqlite.ts';
import { nextStreamId } from './edus-store.ts';

export interface OneTimeKeyRow {
  algorithm: string;
  key_id: string;
  key_json: string;
}

export interface SignatureRow {
  target_user_id: string;
  target_key_id: string;
  signer_user_id: string;
  signer_key_id: string;
  signature: string;
}

export interface ToDeviceRow {
  stream_id: number;
  sender: string;
  type: string;
  content: string;
}

export const deviceKeysStore = {
  get(q: Queryable, userId: string, deviceId: string) {
    return q.get<{ key_json: string }>('SELECT key_json FROM e2e_device_keys WHERE user_id = ? AND device_id = ?', userId, deviceId);
  },
  async put(q: Queryable, userId: string, deviceId: string, keyJson: string) {
    await q.run(
      'INSERT INTO e2e_device_keys (user_id, device_id, key_json) VALUES (?, ?, ?) ON CONFLICT (user_id, device_id) DO UPDATE SET key_json = excluded.key_json',
      userId,
      deviceId,
      keyJson,
    );
  },
  /** The device keys of a user's existing devices, with the device's display name. */
  ofUser(q: Queryable, userId: string) {
    return q.all<{ device_id: string; key_json: string; display_name: string | null }>(
      `SELECT k.device_id, k.key_json, d.display_name FROM e2e_device_keys k
       JOIN devices d ON d.user_id = k.user_id AND d.device_id = k.device_id WHERE k.user_id = ?`,
      userId,
    );
  },

  async addOneTimeKey(q: Queryable, userId: string, deviceId: string, algorithm: string, keyId: string, keyJson: string, seq: number) {
    await q.run(
      'INSERT INTO e2e_one_time_keys (user_id, device_id, algorithm, key_id, key_json, upload_seq) VALUES (?, ?, ?, ?, ?, ?)',
      userId,
      deviceId,
      algorithm,
      keyId,
      keyJson,
      seq,
    );
  },
  getOneTimeKey(q: Queryable, userId: string, deviceId: string, algorithm: string, keyId: string) {
    return q.get<{ key_json: string }>(
      'SELECT key_json FROM e2e_one_time_keys WHERE user_id = ? AND device_id = ? AND algorithm = ? AND key_id = ?',
      userId,
      deviceId,
      algorithm,
      keyId,
    );
  },
  oneTimeKeyCounts(q: Queryable, userId: string, deviceId: string) {
    return q.all<{ algorithm: string; n: number }>(
      'SELECT algorithm, COUNT(*) AS n FROM e2e_one_time_keys WHERE user_id = ? AND device_id = ? GROUP BY algorithm',
      userId,
      deviceId,
    );
  },
  /** Removes and returns the oldest one-time key of that algorithm; call inside a write. */
  async takeOneTimeKey(q: Queryable, userId: string, deviceId: string, algorithm: string): Promise<OneTimeKeyRow | undefined> {
    const row = await q.get<OneTimeKeyRow>(
      `SELECT algorithm, key_id, key_json FROM e2e_one_time_keys WHERE user_id = ? AND device_id = ? AND algorithm = ?
       ORDER BY upload_seq, key_id LIMIT 1`,
      userId,
      deviceId,
      algorithm,
    );
    if (row) {
      await q.run(
        'DELETE FROM e2e_one_time_keys WHERE user_id = ? AND device_id = ? AND algorithm = ? AND key_id = ?',
        userId,
        deviceId,
        algorithm,
        row.key_id,
      );
    }
    return row;
  },

  getFallbackKey(q: Queryable, userId: string, deviceId: string, algorithm: string) {
    return q.get<OneTimeKeyRow & { used: number }>(
      'SELECT algorithm, key_id, key_json, used FROM e2e_fallback_keys WHERE user_id = ? AND device_id = ? AND algorithm = ?',
      userId,
      deviceId,
      algorithm,
    );
  },
  async putFallbackKey(q: Queryable, userId: string, deviceId: string, algorithm: string, keyId: string, keyJson: string) {
    await q.run(
      `INSERT INTO e2e_fallback_keys (user_id, device_id, algorithm, key_id, key_json, used) VALUES (?, ?, ?, ?, ?, 0)
       ON CONFLICT (user_id, device_id, algorithm) DO UPDATE SET key_id = excluded.key_id, key_json = excluded.key_json, used = 0`,
      userId,
      deviceId,
      algorithm,
      keyId,
      keyJson,
    );
  },
  async markFallbackKeyUsed(q: Queryable, userId: string, deviceId: string, algorithm: string) {
    await q.run('UPDATE e2e_fallback_keys SET used = 1 WHERE user_id = ? AND device_id = ? AND algorithm = ?', userId, deviceId, algorithm);
  },
  unusedFallbackAlgorithms(q: Queryable, userId: string, deviceId: string) {
    return q
      .all<{ algorithm: string }>(
        'SELECT algorithm FROM e2e_fallback_keys WHERE user_id = ? AND device_id = ? AND used = 0 ORDER BY algorithm',
        userId,
        deviceId,
      )
      .then((rows) => rows.map((r) => r.algorithm));
  },

  /** Everything the server holds for a device: its keys, signatures on it and its pending messages. */
  async deleteDevice(q: Queryable, userId: string, deviceId: string) {
    await q.run('DELETE FROM e2e_device_keys WHERE user_id = ? AND device_id = ?', userId, deviceId);
    await q.run('DELETE FROM e2e_one_time_keys WHERE user_id = ? AND device_id = ?', userId, deviceId);
    await q.run('DELETE FROM e2e_fallback_keys WHERE user_id = ? AND device_id = ?', userId, deviceId);
    await q.run('DELETE FROM e2e_signatures WHERE target_user_id = ? AND target_key_id = ?', userId, deviceId);
    await q.run('DELETE FROM to_device_messages WHERE user_id = ? AND device_id = ?', userId, deviceId);
    await q.run('DELETE FROM to_device_txns WHERE user_id = ? AND device_id = ?', userId, deviceId);
  },
};

export const crossSigningStore = {
  get(q: Queryable, userId: string, keyType: string) {
    return q.get<{ public_key: string; key_json: string }>(
      'SELECT public_key, key_json FROM e2e_cross_signing_keys WHERE user_id = ? AND key_type = ?',
      userId,
      keyType,
    );
  },
  async put(q: Queryable, userId: string, keyType: string, publicKey: string, keyJson: string) {
    await q.run(
      `INSERT INTO e2e_cross_signing_keys (user_id, key_type, public_key, key_json) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id, key_type) DO UPDATE SET public_key = excluded.public_key, key_json = excluded.key_json`,
      userId,
      keyType,
      publicKey,
      keyJson,
    );
  },
  async addSignature(q: Queryable, s: SignatureRow) {
    await q.run(
      `INSERT INTO e2e_signatures (target_user_id, target_key_id, signer_user_id, signer_key_id, signature) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (target_user_id, target_key_id, signer_user_id, signer_key_id) DO UPDATE SET signature = excluded.signature`,
      s.target_user_id,
      s.target_key_id,
      s.signer_user_id,
      s.signer_key_id,
      s.signature,
    );
  },
  signaturesOn(q: Queryable, targetUserId: string) {
    return q.all<SignatureRow>('SELECT * FROM e2e_signatures WHERE target_user_id = ?', targetUserId);
  },
};

export const deviceListStore = {
  /** Records that a user's devices or keys changed; returns the change's stream position. */
  async recordChange(q: Queryable, userId: string): Promise<number> {
    const id = await nextStreamId(q, 'device_lists');
    await q.run('INSERT INTO device_list_changes (stream_id, user_id) VALUES (?, ?)', id, userId);
    return id;
  },
  usersChangedBetween(q: Queryable, fromExclusive: number, toInclusive: number) {
    return q
      .all<{ user_id: string }>('SELECT DISTINCT user_id FROM device_list_changes WHERE stream_id > ? AND stream_id <= ?', fromExclusive, toInclusive)
      .then((rows) => rows.map((r) => r.user_id));
  },
  /** Member events in (from, to] of rooms `userId` is or was in: membership changes that move who shares a room. */
  memberEventsBetween(q: Queryable, userId: string, fromExclusive: number, toInclusive: number) {
    return q.all<{ room_id: string; state_key: string }>(
      `SELECT e.room_id, e.state_key FROM events e
       WHERE e.type = 'm.room.member' AND e.stream_ordering > ? AND e.stream_ordering <= ?
         AND e.room_id IN (SELECT room_id FROM memberships WHERE user_id = ?)`,
      fromExclusive,
      toInclusive,
      userId,
    );
  },
  /** A user's membership in a room as of a stream position. */
  async membershipAt(q: Queryable, roomId: string, userId: string, position: number): Promise<string | undefined> {
    const row = await q.get<{ json: string }>(
      "SELECT json FROM events WHERE room_id = ? AND type = 'm.room.member' AND state_key = ? AND stream_ordering <= ? ORDER BY stream_ordering DESC LIMIT 1",
      roomId,
      userId,
      position,
    );
    return row ? (JSON.parse(row.json) as { content?: { membership?: string } }).content?.membership : undefined;
  },
  /** Every user with a membership row in a room, whatever the membership. */
  membersEver(q: Queryable, roomId: string) {
    return q.all<{ user_id: string }>('SELECT user_id FROM memberships WHERE room_id = ?', roomId).then((rows) => rows.map((r) => r.user_id));
  },
  /** Rooms both users have a membership row in. */
  roomsOfBoth(q: Queryable, a: string, b: string) {
    return q
      .all<{ room_id: string }>(
        'SELECT m1.room_id FROM memberships m1 JOIN memberships m2 ON m1.room_id = m2.room_id WHERE m1.user_id = ? AND m2.user_id = ?',
        a,
        b,
      )
      .then((rows) => rows.map((r) => r.room_id));
  },
};

export const toDeviceStore = {
  async txnSeen(q: Queryable, userId: string, deviceId: string, txnId: string): Promise<boolean> {
    return (await q.get('SELECT 1 AS x FROM to_device_txns WHERE user_id = ? AND device_id = ? AND txn_id = ?', userId, deviceId, txnId)) !== undefined;
  },
  /** Records a transaction id, keeping only the device's newest `keep` (rowid order is insertion order). */
  async recordTxn(q: Queryable, userId: string, deviceId: string, txnId: string, keep: number) {
    await q.run('INSERT INTO to_device_txns (user_id, device_id, txn_id) VALUES (?, ?, ?)', userId, deviceId, txnId);
    await q.run(
      `DELETE FROM to_device_txns WHERE user_id = ? AND device_id = ? AND rowid <=
         (SELECT rowid FROM to_device_txns WHERE user_id = ? AND device_id = ? ORDER BY rowid DESC LIMIT 1 OFFSET ?)`,
      userId,
      deviceId,
      userId,
      deviceId,
      keep,
    );
  },
  async add(q: Queryable, userId: string, deviceId: string, sender: string, type: string, content: string): Promise<number> {
    const id = await nextStreamId(q, 'to_device');
    await q.run(
      'INSERT INTO to_device_messages (stream_id, user_id, device_id, sender, type, content) VALUES (?, ?, ?, ?, ?, ?)',
      id,
      userId,
      deviceId,
      sender,
      type,
      content,
    );
    return id;
  },
  /** Ids and content sizes (UTF-8 bytes) of what waits in (from, to], oldest first: picks a batch without loading it. */
  pendingSizes(q: Queryable, userId: string, deviceId: string, fromExclusive: number, toInclusive: number, limit: number) {
    return q.all<{ stream_id: number; bytes: number }>(
      'SELECT stream_id, LENGTH(CAST(content AS BLOB)) AS bytes FROM to_device_messages WHERE user_id = ? AND device_id = ? AND stream_id > ? AND stream_id <= ? ORDER BY stream_id LIMIT ?',
      userId,
      deviceId,
      fromExclusive,
      toInclusive,
      limit,
    );
  },
  pending(q: Queryable, userId: string, deviceId: string, fromExclusive: number, toInclusive: number, limit: number) {
    return q.all<ToDeviceRow>(
      'SELECT stream_id, sender, type, content FROM to_device_messages WHERE user_id = ? AND device_id = ? AND stream_id > ? AND stream_id <= ? ORDER BY stream_id LIMIT ?',
      userId,
      deviceId,
      fromExclusive,
      toInclusive,
      limit,
    );
  },
  /** How much waits for a device: in all, and from `sender`. Content bytes as stored (UTF-8). */
  async queueSize(q: Queryable, userId: string, deviceId: string, sender: string) {
    const row = await q.get<{ count: number; bytes: number; senderCount: number; senderBytes: number }>(
      `SELECT COUNT(*) AS count, TOTAL(LENGTH(CAST(content AS BLOB))) AS bytes, TOTAL(sender = ?) AS senderCount,
              TOTAL(CASE WHEN sender = ? THEN LENGTH(CAST(content AS BLOB)) ELSE 0 END) AS senderBytes
         FROM to_device_messages WHERE user_id = ? AND device_id = ?`,
      sender,
      sender,
      userId,
      deviceId,
    );
    return { count: row?.count ?? 0, bytes: row?.bytes ?? 0, senderCount: row?.senderCount ?? 0, senderBytes: row?.senderBytes ?? 0 };
  },
  async hasDeliveredUpTo(q: Queryable, userId: string, deviceId: string, upTo: number): Promise<boolean> {
    return (
      (await q.get('SELECT 1 AS x FROM to_device_messages WHERE user_id = ? AND device_id = ? AND stream_id <= ? LIMIT 1', userId, deviceId, upTo)) !==
      undefined
    );
  },
  async deleteUpTo(q: Queryable, userId: string, deviceId: string, upTo: number) {
    await q.run('DELETE FROM to_device_messages WHERE user_id = ? AND device_id = ? AND stream_id <= ?', userId, deviceId, upTo);
  },
};
