// Tables: remote_device_lists, remote_devices, device_list_outbound, federation_to_device_seen
// (migration 010): what federation keeps for device lists and to-device messages across servers.
import type { Queryable } from './sqlite.ts';

export interface RemoteDeviceListRow {
  user_id: string;
  stream_id: number;
  master_key: string | null;
  self_signing_key: string | null;
  fetched_ts: number;
}

export interface RemoteDeviceRow {
  device_id: string;
  display_name: string | null;
  keys_json: string | null;
}

export const remoteDeviceListStore = {
  get(q: Queryable, userId: string) {
    return q.get<RemoteDeviceListRow>('SELECT * FROM remote_device_lists WHERE user_id = ?', userId);
  },
  devices(q: Queryable, userId: string) {
    return q.all<RemoteDeviceRow>('SELECT device_id, display_name, keys_json FROM remote_devices WHERE user_id = ? ORDER BY device_id', userId);
  },
  /** Replaces a user's whole cached list (a fresh GET /user/devices answer). */
  async replace(q: Queryable, row: RemoteDeviceListRow, devices: RemoteDeviceRow[]) {
    await q.run('DELETE FROM remote_devices WHERE user_id = ?', row.user_id);
    await q.run(
      `INSERT INTO remote_device_lists (user_id, stream_id, master_key, self_signing_key, fetched_ts) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET stream_id = excluded.stream_id, master_key = excluded.master_key,
         self_signing_key = excluded.self_signing_key, fetched_ts = excluded.fetched_ts`,
      row.user_id,
      row.stream_id,
      row.master_key,
      row.self_signing_key,
      row.fetched_ts,
    );
    for (const d of devices) {
      await q.run(
        'INSERT INTO remote_devices (user_id, device_id, display_name, keys_json) VALUES (?, ?, ?, ?)',
        row.user_id,
        d.device_id,
        d.display_name,
        d.keys_json,
      );
    }
  },
  async putDevice(q: Queryable, userId: string, d: RemoteDeviceRow) {
    await q.run(
      `INSERT INTO remote_devices (user_id, device_id, display_name, keys_json) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id, device_id) DO UPDATE SET display_name = excluded.display_name, keys_json = excluded.keys_json`,
      userId,
      d.device_id,
      d.display_name,
      d.keys_json,
    );
  },
  async deleteDevice(q: Queryable, userId: string, deviceId: string) {
    await q.run('DELETE FROM remote_devices WHERE user_id = ? AND device_id = ?', userId, deviceId);
  },
  async setStreamId(q: Queryable, userId: string, streamId: number) {
    await q.run('UPDATE remote_device_lists SET stream_id = ? WHERE user_id = ?', streamId, userId);
  },
  async setCrossSigning(q: Queryable, userId: string, field: 'master_key' | 'self_signing_key', keyJson: string) {
    await q.run(`UPDATE remote_device_lists SET ${field} = ? WHERE user_id = ?`, keyJson, userId);
  },
  /** Drops a user's cached list: the next query fetches it again. */
  async forget(q: Queryable, userId: string) {
    await remoteDeviceListStore.forgetMany(q, [userId]);
  },
  /** The same for many users, a few statements in all (joining a big room names a thousand). */
  async forgetMany(q: Queryable, userIds: string[]) {
    for (let i = 0; i < userIds.length; i += 500) {
      const chunk = userIds.slice(i, i + 500);
      const marks = chunk.map(() => '?').join(', ');
      await q.run(`DELETE FROM remote_devices WHERE user_id IN (${marks})`, ...chunk);
      await q.run(`DELETE FROM remote_device_lists WHERE user_id IN (${marks})`, ...chunk);
    }
  },
};

export const deviceListOutboundStore = {
  async current(q: Queryable, userId: string): Promise<number> {
    return (await q.get<{ stream_id: number }>('SELECT stream_id FROM device_list_outbound WHERE user_id = ?', userId))?.stream_id ?? 0;
  },
  /** Takes the user's next stream_id; returns it with the previous one (0 when none). */
  async next(q: Queryable, userId: string): Promise<{ streamId: number; prev: number }> {
    const prev = await deviceListOutboundStore.current(q, userId);
    await q.run(
      'INSERT INTO device_list_outbound (user_id, stream_id) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET stream_id = excluded.stream_id',
      userId,
      prev + 1,
    );
    return { streamId: prev + 1, prev };
  },
};

export const toDeviceSeenStore = {
  /** Records a message id from `origin`; false if it was already there (a retried transaction). */
  async claim(q: Queryable, origin: string, messageId: string, now: number): Promise<boolean> {
    const r = await q.run(
      'INSERT INTO federation_to_device_seen (origin, message_id, received_ts) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
      origin,
      messageId,
      now,
    );
    return r.changes > 0;
  },
  async pruneBefore(q: Queryable, ts: number) {
    await q.run('DELETE FROM federation_to_device_seen WHERE received_ts < ?', ts);
  },
};
