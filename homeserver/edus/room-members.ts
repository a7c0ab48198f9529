import type { Queryable } from '../storage/sqlite.ts';

/** Users joined to a room: who an ephemeral event in it must wake. */
export async function joinedMembers(q: Queryable, roomId: string): Promise<string[]> {
  const rows = await q.all<{ user_id: string }>("SELECT user_id FROM memberships WHERE room_id = ? AND membership = 'join'", roomId);
  return rows.map((r) => r.user_id);
}

/** Users who share at least one joined room with `userId` (including themselves). */
export async function usersSharingARoom(q: Queryable, userId: string): Promise<Set<string>> {
  const rows = await q.all<{ user_id: string }>(
    `SELECT DISTINCT m2.user_id FROM memberships m1 JOIN memberships m2 ON m1.room_id = m2.room_id
     WHERE m1.user_id = ? AND m1.membership = 'join' AND m2.membership = 'join'`,
    userId,
  );
  const out = new Set(rows.map((r) => r.user_id));
  out.add(userId);
  return out;
}
