// Rooms two users are both joined to (mutual_rooms.yaml), from the memberships table.
import type { Queryable } from './sqlite.ts';

const BOTH_JOINED = `FROM memberships a JOIN memberships b ON b.room_id = a.room_id
  WHERE a.user_id = ? AND a.membership = 'join' AND b.user_id = ? AND b.membership = 'join'`;

export const mutualRoomsStore = {
  /** Up to `limit` room ids after `after` (room id order), and how many there are in all. */
  async page(q: Queryable, userA: string, userB: string, after: string | undefined, limit: number): Promise<{ roomIds: string[]; total: number }> {
    const rows = await q.all<{ room_id: string }>(
      `SELECT a.room_id ${BOTH_JOINED} AND a.room_id > ? ORDER BY a.room_id LIMIT ?`,
      userA,
      userB,
      after ?? '',
      limit,
    );
    const total = (await q.get<{ n: number }>(`SELECT COUNT(*) AS n ${BOTH_JOINED}`, userA, userB))?.n ?? 0;
    return { roomIds: rows.map((r) => r.room_id), total };
  },
};
