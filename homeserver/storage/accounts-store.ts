// Tables: users, devices, access_tokens, refresh_tokens, login_tokens, filters, uia_sessions, registration_token_uses.
import type { Queryable } from './sqlite.ts';

export interface UserRow {
  user_id: string;
  localpart: string;
  password_hash: string | null;
  displayname: string | null;
  avatar_url: string | null;
  created_ts: number;
  deactivated: number;
}

export interface DeviceRow {
  user_id: string;
  device_id: string;
  display_name: string | null;
  last_seen_ts: number | null;
  last_seen_ip: string | null;
}

export const accountsStore = {
  getUser(q: Queryable, userId: string) {
    return q.get<UserRow>('SELECT * FROM users WHERE user_id = ?', userId);
  },
  getUserByLocalpart(q: Queryable, localpart: string) {
    return q.get<UserRow>('SELECT * FROM users WHERE localpart = ?', localpart);
  },
  async insertUser(q: Queryable, u: { userId: string; localpart: string; passwordHash: string | null; displayname: string }) {
    await q.run(
      'INSERT INTO users (user_id, localpart, password_hash, displayname, created_ts) VALUES (?, ?, ?, ?, ?)',
      u.userId,
      u.localpart,
      u.passwordHash,
      u.displayname,
      Date.now(),
    );
  },
  async setPasswordHash(q: Queryable, userId: string, hash: string | null) {
    await q.run('UPDATE users SET password_hash = ? WHERE user_id = ?', hash, userId);
  },
  async setDeactivated(q: Queryable, userId: string) {
    await q.run('UPDATE users SET deactivated = 1, password_hash = NULL, displayname = NULL, avatar_url = NULL WHERE user_id = ?', userId);
    // The extended profile fields (migration 020) go with the display name and avatar.
    await q.run('DELETE FROM profile_fields WHERE user_id = ?', userId);
  },
  async setProfileField(q: Queryable, userId: string, field: 'displayname' | 'avatar_url', value: string | null) {
    await q.run(`UPDATE users SET ${field === 'displayname' ? 'displayname' : 'avatar_url'} = ? WHERE user_id = ?`, value, userId);
  },

  getDevice(q: Queryable, userId: string, deviceId: string) {
    return q.get<DeviceRow>('SELECT * FROM devices WHERE user_id = ? AND device_id = ?', userId, deviceId);
  },
  listDevices(q: Queryable, userId: string) {
    return q.all<DeviceRow>('SELECT * FROM devices WHERE user_id = ? ORDER BY device_id', userId);
  },
  async upsertDevice(q: Queryable, userId: string, deviceId: string, displayName: string | null, ip: string | null) {
    await q.run(
      `INSERT INTO devices (user_id, device_id, display_name, last_seen_ts, last_seen_ip) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (user_id, device_id) DO UPDATE SET last_seen_ts = excluded.last_seen_ts, last_seen_ip = excluded.last_seen_ip,
         display_name = COALESCE(excluded.display_name, devices.display_name)`,
      userId,
      deviceId,
      displayName,
      Date.now(),
      ip,
    );
  },
  /** Only an existing device: a sighting written after its deletion must not bring it back. */
  async setDeviceSeen(q: Queryable, userId: string, deviceId: string, ts: number, ip: string) {
    await q.run('UPDATE devices SET last_seen_ts = ?, last_seen_ip = ? WHERE user_id = ? AND device_id = ?', ts, ip, userId, deviceId);
  },
  async updateDeviceName(q: Queryable, userId: string, deviceId: string, name: string) {
    return (await q.run('UPDATE devices SET display_name = ? WHERE user_id = ? AND device_id = ?', name, userId, deviceId)).changes;
  },
  /** Deletes one of the user's devices and its tokens; false when the user had no such device. */
  async deleteDevice(q: Queryable, userId: string, deviceId: string): Promise<boolean> {
    await accountsStore.deleteDeviceTokens(q, userId, deviceId);
    return (await q.run('DELETE FROM devices WHERE user_id = ? AND device_id = ?', userId, deviceId)).changes > 0;
  },
  async deleteAllDevices(q: Queryable, userId: string, exceptDeviceId?: string) {
    await q.run('DELETE FROM access_tokens WHERE user_id = ? AND device_id != ?', userId, exceptDeviceId ?? '');
    await q.run('DELETE FROM refresh_tokens WHERE user_id = ? AND device_id != ?', userId, exceptDeviceId ?? '');
    await q.run('DELETE FROM devices WHERE user_id = ? AND device_id != ?', userId, exceptDeviceId ?? '');
  },

  /** A device's access and refresh tokens: gone when the device is, or when it logs in again. */
  async deleteDeviceTokens(q: Queryable, userId: string, deviceId: string) {
    await q.run('DELETE FROM access_tokens WHERE user_id = ? AND device_id = ?', userId, deviceId);
    await q.run('DELETE FROM refresh_tokens WHERE user_id = ? AND device_id = ?', userId, deviceId);
  },
  /** `expiresTs` null: a token that never expires; `refreshTokenHash`: the refresh token issued with it. */
  async insertAccessToken(
    q: Queryable,
    tokenHash: string,
    userId: string,
    deviceId: string,
    expiresTs: number | null = null,
    refreshTokenHash: string | null = null,
  ) {
    await q.run(
      'INSERT INTO access_tokens (token_hash, user_id, device_id, created_ts, expires_ts, refresh_token_hash) VALUES (?, ?, ?, ?, ?, ?)',
      tokenHash,
      userId,
      deviceId,
      Date.now(),
      expiresTs,
      refreshTokenHash,
    );
  },
  /** An access token with what its first use must settle: its expiry and the refresh token its refresh token replaced. */
  getAccessToken(q: Queryable, tokenHash: string) {
    return q.get<{ user_id: string; device_id: string; expires_ts: number | null; refresh_token_hash: string | null; replaces_hash: string | null }>(
      `SELECT a.user_id, a.device_id, a.expires_ts, a.refresh_token_hash, r.replaces_hash
         FROM access_tokens a LEFT JOIN refresh_tokens r ON r.token_hash = a.refresh_token_hash WHERE a.token_hash = ?`,
      tokenHash,
    );
  },
  async deleteAccessToken(q: Queryable, tokenHash: string) {
    await q.run('DELETE FROM access_tokens WHERE token_hash = ?', tokenHash);
  },

  async insertRefreshToken(q: Queryable, tokenHash: string, userId: string, deviceId: string, replacesHash: string | null) {
    await q.run(
      'INSERT INTO refresh_tokens (token_hash, user_id, device_id, created_ts, replaces_hash) VALUES (?, ?, ?, ?, ?)',
      tokenHash,
      userId,
      deviceId,
      Date.now(),
      replacesHash,
    );
  },
  getRefreshToken(q: Queryable, tokenHash: string) {
    return q.get<{ user_id: string; device_id: string; replaces_hash: string | null }>(
      'SELECT user_id, device_id, replaces_hash FROM refresh_tokens WHERE token_hash = ?',
      tokenHash,
    );
  },
  /** Deletes refresh tokens and the access tokens issued with them; returns those access tokens' hashes. */
  async deleteRefreshTokens(q: Queryable, where: 'token_hash' | 'replaces_hash', hash: string): Promise<string[]> {
    const column = where === 'token_hash' ? 'token_hash' : 'replaces_hash';
    const doomed = (await q.all<{ token_hash: string }>(`SELECT token_hash FROM refresh_tokens WHERE ${column} = ?`, hash)).map((r) => r.token_hash);
    const accessHashes: string[] = [];
    for (const h of doomed) {
      accessHashes.push(...(await accountsStore.deleteAccessTokensIssuedWith(q, h)));
      await q.run('DELETE FROM refresh_tokens WHERE token_hash = ?', h);
    }
    return accessHashes;
  },
  /** Deletes the access tokens issued with a refresh token; returns their hashes. */
  async deleteAccessTokensIssuedWith(q: Queryable, refreshTokenHash: string): Promise<string[]> {
    const rows = await q.all<{ token_hash: string }>('SELECT token_hash FROM access_tokens WHERE refresh_token_hash = ?', refreshTokenHash);
    await q.run('DELETE FROM access_tokens WHERE refresh_token_hash = ?', refreshTokenHash);
    return rows.map((r) => r.token_hash);
  },
  /** The refresh token (or its access token) was used: the one it replaced is revoked for good. */
  async settleRefreshToken(q: Queryable, tokenHash: string) {
    const row = await accountsStore.getRefreshToken(q, tokenHash);
    if (!row?.replaces_hash) return;
    await q.run('DELETE FROM refresh_tokens WHERE token_hash = ?', row.replaces_hash);
    await q.run('DELETE FROM access_tokens WHERE refresh_token_hash = ?', row.replaces_hash);
    await q.run('UPDATE refresh_tokens SET replaces_hash = NULL WHERE token_hash = ?', tokenHash);
  },

  async insertLoginToken(q: Queryable, tokenHash: string, userId: string, expiresTs: number, now = Date.now()) {
    // Expired tokens are never taken; drop them as new ones are made so the table stays small.
    await q.run('DELETE FROM login_tokens WHERE expires_ts <= ?', now);
    await q.run('INSERT INTO login_tokens (token_hash, user_id, expires_ts) VALUES (?, ?, ?)', tokenHash, userId, expiresTs);
  },
  /** Login tokens are single-use: taking one deletes it. */
  async takeLoginToken(q: Queryable, tokenHash: string) {
    const row = await q.get<{ user_id: string; expires_ts: number }>('SELECT user_id, expires_ts FROM login_tokens WHERE token_hash = ?', tokenHash);
    if (row) await q.run('DELETE FROM login_tokens WHERE token_hash = ?', tokenHash);
    return row;
  },

  async insertFilter(q: Queryable, userId: string, filterJson: string): Promise<number> {
    const row = await q.get<{ n: number | null }>('SELECT MAX(filter_id) AS n FROM filters WHERE user_id = ?', userId);
    const id = (row?.n ?? -1) + 1;
    await q.run('INSERT INTO filters (user_id, filter_id, filter_json) VALUES (?, ?, ?)', userId, id, filterJson);
    return id;
  },
  async countFilters(q: Queryable, userId: string): Promise<number> {
    return (await q.get<{ n: number }>('SELECT COUNT(*) AS n FROM filters WHERE user_id = ?', userId))?.n ?? 0;
  },
  getFilter(q: Queryable, userId: string, filterId: number) {
    return q.get<{ filter_json: string }>('SELECT filter_json FROM filters WHERE user_id = ? AND filter_id = ?', userId, filterId);
  },

  getUiaSession(q: Queryable, sessionId: string) {
    return q.get<{ completed: string; request_fingerprint: string; created_ts: number }>('SELECT * FROM uia_sessions WHERE session_id = ?', sessionId);
  },
  async putUiaSession(q: Queryable, sessionId: string, completed: string[], fingerprint: string) {
    await q.run(
      `INSERT INTO uia_sessions (session_id, created_ts, completed, request_fingerprint) VALUES (?, ?, ?, ?)
       ON CONFLICT (session_id) DO UPDATE SET completed = excluded.completed`,
      sessionId,
      Date.now(),
      JSON.stringify(completed),
      fingerprint,
    );
  },
  /** Deletes sessions created before `createdBefore`, then the oldest beyond the newest `keep`. */
  async pruneUiaSessions(q: Queryable, createdBefore: number, keep: number) {
    await q.run('DELETE FROM uia_sessions WHERE created_ts < ?', createdBefore);
    await q.run('DELETE FROM uia_sessions WHERE session_id NOT IN (SELECT session_id FROM uia_sessions ORDER BY created_ts DESC LIMIT ?)', keep);
  },
  async deleteUiaSession(q: Queryable, sessionId: string) {
    await q.run('DELETE FROM uia_sessions WHERE session_id = ?', sessionId);
  },
  async countRegistrationTokenUse(q: Queryable, token: string) {
    await q.run('INSERT INTO registration_token_uses (token, completed) VALUES (?, 1) ON CONFLICT (token) DO UPDATE SET completed = completed + 1', token);
  },
};
