// Queries behind the user directory: who a user can see through rooms, and their profiles.
import type { Queryable } from './sqlite.ts';

export interface DirectoryProfileRow {
  user_id: string;
  displayname: string | null;
  avatar_url: string | null;
}

export const userDirectoryStore = {
  /** Users joined to a room the user is joined to. */
  usersSharingARoom(q: Queryable, userId: string) {
    return q
      .all<{ user_id: string }>(
        `SELECT DISTINCT m2.user_id FROM memberships m1 JOIN memberships m2 ON m1.room_id = m2.room_id
         WHERE m1.user_id = ? AND m1.membership = 'join' AND m2.membership = 'join'`,
        userId,
      )
      .then((rows) => rows.map((r) => r.user_id));
  },
  /** The current join rules and history visibility events of every room, to find the open ones. */
  visibilityStateOfRooms(q: Queryable) {
    return q.all<{ room_id: string; type: string; json: string }>(
      `SELECT cs.room_id, cs.type, e.json FROM current_state cs JOIN events e ON e.event_id = cs.event_id
       WHERE cs.type IN ('m.room.join_rules', 'm.room.history_visibility') AND cs.state_key = ''`,
    );
  },
  joinedMembers(q: Queryable, roomId: string) {
    return q
      .all<{ user_id: string }>("SELECT user_id FROM memberships WHERE room_id = ? AND membership = 'join'", roomId)
      .then((rows) => rows.map((r) => r.user_id));
  },
  /** Profiles of active accounts among `userIds`. */
  async profiles(q: Queryable, userIds: string[]): Promise<DirectoryProfileRow[]> {
    const out: DirectoryProfileRow[] = [];
    for (const id of userIds) {
      const row = await q.get<DirectoryProfileRow & { deactivated: number }>(
        'SELECT user_id, displayname, avatar_url, deactivated FROM users WHERE user_id = ?',
        id,
      );
      if (row && !row.deactivated) out.push({ user_id: row.user_id, displayname: row.displayname, avatar_url: row.avatar_url });
    }
    return out;
  },
};
