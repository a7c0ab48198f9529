// Tables: rooms, room_aliases, account_data, stream_counters.
import type { Queryable } from './sqlite.ts';

export interface RoomRow {
  room_id: string;
  room_version: string;
  creator: string;
  is_public: number;
  created_ts: number;
}

export const roomsStore = {
  async insertRoom(q: Queryable, roomId: string, version: string, creator: string, isPublic: boolean) {
    await q.run(
      'INSERT INTO rooms (room_id, room_version, creator, is_public, created_ts) VALUES (?, ?, ?, ?, ?)',
      roomId,
      version,
      creator,
      isPublic ? 1 : 0,
      Date.now(),
    );
  },
  getRoom(q: Queryable, roomId: string) {
    return q.get<RoomRow>('SELECT * FROM rooms WHERE room_id = ?', roomId);
  },
  async setPublic(q: Queryable, roomId: string, isPublic: boolean) {
    await q.run('UPDATE rooms SET is_public = ? WHERE room_id = ?', isPublic ? 1 : 0, roomId);
  },
  publicRooms(q: Queryable) {
    return q.all<{ room_id: string }>('SELECT room_id FROM rooms WHERE is_public = 1 ORDER BY created_ts');
  },

  getAlias(q: Queryable, alias: string) {
    return q.get<{ room_id: string; creator: string }>('SELECT room_id, creator FROM room_aliases WHERE alias = ?', alias);
  },
  async insertAlias(q: Queryable, alias: string, roomId: string, creator: string) {
    await q.run('INSERT INTO room_aliases (alias, room_id, creator) VALUES (?, ?, ?)', alias, roomId, creator);
  },
  async deleteAlias(q: Queryable, alias: string) {
    await q.run('DELETE FROM room_aliases WHERE alias = ?', alias);
  },
  /** A room upgrade moves every local alias of the old room to its replacement. */
  async moveAliases(q: Queryable, fromRoomId: string, toRoomId: string) {
    await q.run('UPDATE room_aliases SET room_id = ? WHERE room_id = ?', toRoomId, fromRoomId);
  },
  aliasesOfRoom(q: Queryable, roomId: string) {
    return q.all<{ alias: string }>('SELECT alias FROM room_aliases WHERE room_id = ? ORDER BY alias', roomId).then((r) => r.map((x) => x.alias));
  },
};

export const accountDataStore = {
  async put(q: Queryable, userId: string, roomId: string, type: string, content: string): Promise<number> {
    await q.run("UPDATE stream_counters SET value = value + 1 WHERE name = 'account_data'");
    const row = await q.get<{ value: number }>("SELECT value FROM stream_counters WHERE name = 'account_data'");
    const id = row!.value;
    await q.run(
      `INSERT INTO account_data (user_id, room_id, type, content, stream_id) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (user_id, room_id, type) DO UPDATE SET content = excluded.content, stream_id = excluded.stream_id`,
      userId,
      roomId,
      type,
      content,
      id,
    );
    return id;
  },
  get(q: Queryable, userId: string, roomId: string, type: string) {
    return q.get<{ content: string }>('SELECT content FROM account_data WHERE user_id = ? AND room_id = ? AND type = ?', userId, roomId, type);
  },
  since(q: Queryable, userId: string, since: number) {
    return q.all<{ room_id: string; type: string; content: string; stream_id: number }>(
      'SELECT room_id, type, content, stream_id FROM account_data WHERE user_id = ? AND stream_id > ? ORDER BY stream_id',
      userId,
      since,
    );
  },
  /** A user's items and their bytes (type and content, UTF-8), leaving out one item (the one about to be replaced). */
  async usageExcept(q: Queryable, userId: string, roomId: string, type: string): Promise<{ count: number; bytes: number }> {
    const row = await q.get<{ count: number; bytes: number }>(
      `SELECT COUNT(*) AS count, TOTAL(LENGTH(CAST(type AS BLOB)) + LENGTH(CAST(content AS BLOB))) AS bytes
         FROM account_data WHERE user_id = ? AND NOT (room_id = ? AND type = ?)`,
      userId,
      roomId,
      type,
    );
    return { count: row?.count ?? 0, bytes: row?.bytes ?? 0 };
  },
  maxStreamId(q: Queryable) {
    return q.get<{ value: number }>("SELECT value FROM stream_counters WHERE name = 'account_data'").then((r) => r?.value ?? 0);
  },
};
