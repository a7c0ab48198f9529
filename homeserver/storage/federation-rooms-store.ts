// Reads behind the federation routes that serve room data (tables: events, current_state).
import type { Queryable } from './sqlite.ts';

/** The server part of a user id in SQL: everything after the first ':' (it may hold a port). */
const SERVER_OF_STATE_KEY = "substr(state_key, instr(state_key, ':') + 1)";

export const federationRoomsStore = {
  /** Users joined to a room where a user of `serverName` is joined too: who we federate with. */
  async usersSharingRoomsWithServer(q: Queryable, serverName: string): Promise<string[]> {
    const rows = await q.all<{ user_id: string }>(
      `SELECT DISTINCT m2.user_id FROM memberships m1 JOIN memberships m2 ON m1.room_id = m2.room_id
       WHERE m1.membership = 'join' AND m2.membership = 'join' AND substr(m1.user_id, instr(m1.user_id, ':') + 1) = ?`,
      serverName,
    );
    return rows.map((r) => r.user_id);
  },
  /** Stream positions of the join events of `serverName`'s users in a room (for "shared" history). */
  serverJoinPositions(q: Queryable, roomId: string, serverName: string): Promise<number[]> {
    return q
      .all<{ stream_ordering: number }>(
        `SELECT stream_ordering FROM events WHERE room_id = ? AND type = 'm.room.member' AND ${SERVER_OF_STATE_KEY} = ?
           AND json_extract(json, '$.content.membership') = 'join'`,
        roomId,
        serverName,
      )
      .then((rows) => rows.map((r) => r.stream_ordering));
  },

  /** The event id of one entry of a room's current state. */
  currentStateEventId(q: Queryable, roomId: string, type: string, stateKey: string): Promise<string | undefined> {
    return q
      .get<{ event_id: string }>('SELECT event_id FROM current_state WHERE room_id = ? AND type = ? AND state_key = ?', roomId, type, stateKey)
      .then((r) => r?.event_id);
  },

  /** Ids of the current m.room.member events of `serverName`'s users in a room. */
  currentMemberEventIdsOfServer(q: Queryable, roomId: string, serverName: string): Promise<string[]> {
    return q
      .all<{ event_id: string }>(
        `SELECT event_id FROM current_state WHERE room_id = ? AND type = 'm.room.member' AND ${SERVER_OF_STATE_KEY} = ?`,
        roomId,
        serverName,
      )
      .then((rows) => rows.map((r) => r.event_id));
  },
};
