// Tables: events, event_edges, forward_extremities, current_state, memberships.
import type { PDU } from '../protocol/types.ts';
import type { Queryable, SqlValue } from './sqlite.ts';
import { searchStore } from './search-store.ts';

export interface EventRow {
  stream_ordering: number;
  event_id: string;
  room_id: string;
  type: string;
  state_key: string | null;
  sender: string;
  depth: number;
  origin_server_ts: number;
  json: string;
  state_group: number | null;
  redacted_by: string | null;
}

/** The client request an event was sent by: its transaction id, scoped to a device and an endpoint. */
export interface ClientTxn {
  userId: string;
  deviceId: string;
  txnId: string;
  /** The endpoint and its path parameters besides the id: 'send/<room>/<type>' or 'redact/<room>/<event>'. */
  scope: string;
}

export interface NewEvent {
  eventId: string;
  roomId: string;
  pdu: PDU;
  stateGroup: number | null;
  txn?: ClientTxn;
  /** An explicit position: backfilled history goes below every existing one (negative). */
  streamOrdering?: number;
  /** JSON.stringify(pdu), when the caller made it already. */
  json?: string;
}

/** The relation an event declares in content["m.relates_to"] (client-server-api "Forming relationships between events"). */
export function relationOf(p: PDU): { eventId: string; relType: string; key: string | null } | undefined {
  const rel = (p.content as Record<string, unknown>)['m.relates_to'] as Record<string, unknown> | undefined;
  if (!rel || typeof rel !== 'object' || typeof rel.rel_type !== 'string' || typeof rel.event_id !== 'string') return undefined;
  return { eventId: rel.event_id, relType: rel.rel_type, key: typeof rel.key === 'string' ? rel.key : null };
}

const EVENT_COLUMNS = 'stream_ordering, event_id, room_id, type, state_key, sender, depth, origin_server_ts, json, state_group, redacted_by';

/** A point in a room's order: an event's depth and position (see roomEventsInOrder). */
export interface RoomOrderKey {
  depth: number;
  stream: number;
}

/** One bound of a page in a room's order: at or below, or above, a point in that order or a position. */
export type RoomOrderBound = { op: '<=' | '>'; key: RoomOrderKey; stream?: undefined } | { op: '<=' | '>'; stream: number; key?: undefined };

export const eventsStore = {
  async insertEvent(q: Queryable, e: NewEvent): Promise<number> {
    const p = e.pdu;
    // The position SQLite would choose, named up front so that this insert and the ones below can be
    // deferred (Queryable.defer): they travel to SQLite's thread with the job's next statement. An
    // explicit position is below every other (backfill), so it never meets one nextKey() hands out.
    const r = { lastID: e.streamOrdering ?? (await q.nextKey('events', 'stream_ordering')) };
    q.defer(
      `INSERT INTO events (stream_ordering, event_id, room_id, type, state_key, sender, depth, origin_server_ts, json, state_group, txn_user_id, txn_device_id, txn_id, txn_scope)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      r.lastID,
      e.eventId,
      e.roomId,
      p.type,
      p.state_key ?? null,
      p.sender,
      p.depth,
      p.origin_server_ts,
      e.json ?? JSON.stringify(p),
      e.stateGroup,
      e.txn?.userId ?? null,
      e.txn?.deviceId ?? null,
      e.txn?.txnId ?? null,
      e.txn?.scope ?? null,
    );
    const prevs = [...new Set(p.prev_events)];
    if (prevs.length > 0) {
      q.defer(
        `INSERT INTO event_edges (stream_ordering, prev_event_id) VALUES ${prevs.map(() => '(?, ?)').join(', ')}`,
        ...prevs.flatMap((x) => [r.lastID, x]),
      );
    }
    const rel = relationOf(p);
    if (rel) {
      q.defer(
        `INSERT INTO event_relations (event_id, relates_to_id, rel_type, aggregation_key, sender, type, room_id, stream_ordering)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        e.eventId,
        rel.eventId,
        rel.relType,
        rel.key,
        p.sender,
        p.type,
        e.roomId,
        r.lastID,
      );
    }
    // Events take positions in order and are indexed behind them (rooms/search-indexer.ts);
    // backfilled history, placed below every position, is indexed here, with its insert.
    if (e.streamOrdering !== undefined) await searchStore.index(q, r.lastID, e.roomId, p);
    return r.lastID;
  },

  getEvent(q: Queryable, eventId: string) {
    return q.get<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE event_id = ?`, eventId);
  },
  /**
   * Many events in one query, in no particular order; ids not stored are missing from the result.
   * The ids travel as one JSON array, so that every batch runs the same prepared statement.
   */
  getEventsByIds(q: Queryable, eventIds: readonly string[]) {
    return q.all<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE event_id IN (SELECT value FROM json_each(?))`, JSON.stringify(eventIds));
  },

  getEventByTxn(q: Queryable, t: ClientTxn) {
    return q.get<{ event_id: string }>(
      'SELECT event_id FROM events WHERE txn_user_id = ? AND txn_device_id = ? AND txn_id = ? AND txn_scope = ?',
      t.userId,
      t.deviceId,
      t.txnId,
      t.scope,
    );
  },

  async setRedactedBy(q: Queryable, eventId: string, redactionId: string, redactedJson: string) {
    await q.run('UPDATE events SET redacted_by = ?, json = ? WHERE event_id = ? AND redacted_by IS NULL', redactionId, redactedJson, eventId);
    await q.run('DELETE FROM event_relations WHERE event_id = ?', eventId);
    const row = await q.get<{ stream_ordering: number }>('SELECT stream_ordering FROM events WHERE event_id = ?', eventId);
    if (row) await searchStore.remove(q, row.stream_ordering);
  },

  minStreamOrdering(q: Queryable) {
    return q.get<{ s: number | null }>('SELECT MIN(stream_ordering) AS s FROM events').then((r) => r?.s ?? 0);
  },
  maxStreamOrdering(q: Queryable) {
    return q.get<{ s: number | null }>('SELECT MAX(stream_ordering) AS s FROM events').then((r) => r?.s ?? 0);
  },

  /** Events of a room with from < stream_ordering <= to, newest first (limit) or oldest first. */
  roomEventsBetween(q: Queryable, roomId: string, fromExclusive: number, toInclusive: number, limit: number, newestFirst: boolean) {
    return q.all<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE room_id = ? AND stream_ordering > ? AND stream_ordering <= ?
       ORDER BY stream_ordering ${newestFirst ? 'DESC' : 'ASC'} LIMIT ?`,
      roomId,
      fromExclusive,
      toInclusive,
      limit,
    );
  },

  /**
   * A page of a room's events in the room's order (depth, then position; migration 021), newest
   * first or oldest first, within every bound of `bounds`.
   */
  roomEventsInOrder(q: Queryable, roomId: string, bounds: RoomOrderBound[], limit: number, newestFirst: boolean) {
    const where: string[] = ['room_id = ?'];
    const args: SqlValue[] = [roomId];
    for (const b of bounds) {
      if (b.key) {
        where.push(`(depth, stream_ordering) ${b.op} (?, ?)`);
        args.push(b.key.depth, b.key.stream);
      } else {
        where.push(`stream_ordering ${b.op} ?`);
        args.push(b.stream);
      }
    }
    const dir = newestFirst ? 'DESC' : 'ASC';
    return q.all<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE ${where.join(' AND ')} ORDER BY depth ${dir}, stream_ordering ${dir} LIMIT ?`,
      ...args,
      limit,
    );
  },

  /** Rooms (from a given set) that have events after a stream position: the incremental sync's work list. */
  roomsWithEventsAfter(q: Queryable, since: number, upTo: number) {
    return q.all<{ room_id: string }>('SELECT DISTINCT room_id FROM events WHERE stream_ordering > ? AND stream_ordering <= ?', since, upTo);
  },

  eventClosestToTs(q: Queryable, roomId: string, ts: number, forward: boolean) {
    return forward
      ? q.get<EventRow>(
          `SELECT ${EVENT_COLUMNS} FROM events WHERE room_id = ? AND origin_server_ts >= ? ORDER BY origin_server_ts ASC, stream_ordering ASC LIMIT 1`,
          roomId,
          ts,
        )
      : q.get<EventRow>(
          `SELECT ${EVENT_COLUMNS} FROM events WHERE room_id = ? AND origin_server_ts <= ? ORDER BY origin_server_ts DESC, stream_ordering DESC LIMIT 1`,
          roomId,
          ts,
        );
  },

  forwardExtremities(q: Queryable, roomId: string) {
    return q.all<{ event_id: string }>('SELECT event_id FROM forward_extremities WHERE room_id = ?', roomId).then((r) => r.map((x) => x.event_id));
  },
  async setForwardExtremities(q: Queryable, roomId: string, eventIds: string[]) {
    q.defer('DELETE FROM forward_extremities WHERE room_id = ?', roomId);
    if (eventIds.length > 0)
      q.defer(
        `INSERT INTO forward_extremities (room_id, event_id) VALUES ${eventIds.map(() => '(?, ?)').join(', ')}`,
        ...eventIds.flatMap((id) => [roomId, id]),
      );
  },

  currentState(q: Queryable, roomId: string) {
    return q.all<{ type: string; state_key: string; event_id: string }>('SELECT type, state_key, event_id FROM current_state WHERE room_id = ?', roomId);
  },
  async setCurrentState(q: Queryable, roomId: string, type: string, stateKey: string, eventId: string) {
    q.defer(
      'INSERT INTO current_state (room_id, type, state_key, event_id) VALUES (?, ?, ?, ?) ON CONFLICT (room_id, type, state_key) DO UPDATE SET event_id = excluded.event_id',
      roomId,
      type,
      stateKey,
      eventId,
    );
  },

  async setMembership(q: Queryable, roomId: string, userId: string, membership: string, eventId: string, streamOrdering: number) {
    q.defer(
      `INSERT INTO memberships (room_id, user_id, membership, event_id, stream_ordering, forgotten) VALUES (?, ?, ?, ?, ?, 0)
       ON CONFLICT (room_id, user_id) DO UPDATE SET membership = excluded.membership, event_id = excluded.event_id,
         stream_ordering = excluded.stream_ordering, forgotten = 0`,
      roomId,
      userId,
      membership,
      eventId,
      streamOrdering,
    );
  },
  async forget(q: Queryable, roomId: string, userId: string) {
    await q.run('UPDATE memberships SET forgotten = 1 WHERE room_id = ? AND user_id = ?', roomId, userId);
  },
  membershipsOfUser(q: Queryable, userId: string) {
    return q.all<{ room_id: string; membership: string; event_id: string; stream_ordering: number; forgotten: number }>(
      'SELECT room_id, membership, event_id, stream_ordering, forgotten FROM memberships WHERE user_id = ?',
      userId,
    );
  },
  membershipOf(q: Queryable, roomId: string, userId: string) {
    return q.get<{ membership: string; event_id: string; stream_ordering: number; forgotten: number }>(
      'SELECT membership, event_id, stream_ordering, forgotten FROM memberships WHERE room_id = ? AND user_id = ?',
      roomId,
      userId,
    );
  },
  membersOfRoom(q: Queryable, roomId: string) {
    return q.all<{ user_id: string; membership: string; event_id: string }>('SELECT user_id, membership, event_id FROM memberships WHERE room_id = ?', roomId);
  },
};

/** Rows per INSERT of state group entries: within SQLite's bound on parameters when run prepared. */
const ENTRIES_PER_INSERT = 500;

/** State groups: deltas against a previous group, with a full snapshot every so often. */
export const stateGroupsStore = {
  async insertGroup(q: Queryable, roomId: string, prevGroup: number | null, chainLength: number, entries: Array<[string, string, string]>) {
    const r = await q.run('INSERT INTO state_groups (room_id, prev_group, chain_length) VALUES (?, ?, ?)', roomId, prevGroup, chainLength);
    for (let i = 0; i < entries.length; i += ENTRIES_PER_INSERT) {
      const chunk = entries.slice(i, i + ENTRIES_PER_INSERT);
      q.defer(
        `INSERT INTO state_group_entries (group_id, type, state_key, event_id) VALUES ${chunk.map(() => '(?, ?, ?, ?)').join(', ')}`,
        ...chunk.flatMap(([type, key, eventId]) => [r.lastID, type, key, eventId]),
      );
    }
    return r.lastID;
  },
  getGroup(q: Queryable, groupId: number) {
    return q.get<{ prev_group: number | null; chain_length: number; room_id: string }>(
      'SELECT prev_group, chain_length, room_id FROM state_groups WHERE id = ?',
      groupId,
    );
  },
  /** A room's newest groups, newest first (migration 017's index finds them without a scan). */
  newestOfRoom(q: Queryable, roomId: string, limit: number) {
    return q.all<{ id: number; chain_length: number }>('SELECT id, chain_length FROM state_groups WHERE room_id = ? ORDER BY id DESC LIMIT ?', roomId, limit);
  },
  /**
   * A group and the groups it is a delta against, newest first, down to its full snapshot (at most
   * the chain's length, rooms/append-event.ts MAX_STATE_CHAIN): one query for the whole chain.
   */
  chainOf(q: Queryable, groupId: number) {
    return q.all<{ id: number; prev_group: number | null }>(
      `WITH RECURSIVE chain(id, prev_group, depth) AS (
         SELECT id, prev_group, 0 FROM state_groups WHERE id = ?
         UNION ALL
         SELECT g.id, g.prev_group, c.depth + 1 FROM state_groups g JOIN chain c ON g.id = c.prev_group
       )
       SELECT id, prev_group FROM chain ORDER BY depth`,
      groupId,
    );
  },
  /** The entries of many groups in one query (the ids as one JSON array: one prepared statement). */
  entriesOfGroups(q: Queryable, groupIds: readonly number[]) {
    return q.all<{ group_id: number; type: string; state_key: string; event_id: string }>(
      'SELECT group_id, type, state_key, event_id FROM state_group_entries WHERE group_id IN (SELECT value FROM json_each(?))',
      JSON.stringify(groupIds),
    );
  },
};
