// Table: event_relations (filled by eventsStore.insertEvent, emptied of redacted children).
import type { Queryable } from './sqlite.ts';

export interface RelationRow {
  event_id: string;
  relates_to_id: string;
  rel_type: string;
  aggregation_key: string | null;
  sender: string;
  type: string;
  room_id: string;
  stream_ordering: number;
}

export const relationsStore = {
  /** Ids of every event that is the parent of some relation. */
  parentIds(q: Queryable) {
    return q.all<{ id: string }>('SELECT DISTINCT relates_to_id AS id FROM event_relations').then((r) => r.map((x) => x.id));
  },
  children(q: Queryable, parentId: string, relType?: string) {
    return relType
      ? q.all<RelationRow>('SELECT * FROM event_relations WHERE relates_to_id = ? AND rel_type = ? ORDER BY stream_ordering', parentId, relType)
      : q.all<RelationRow>('SELECT * FROM event_relations WHERE relates_to_id = ? ORDER BY stream_ordering', parentId);
  },
  /** Children of an event in stream order within (from, to], for the /relations endpoint. */
  page(q: Queryable, parentId: string, relType: string | null, eventType: string | null, after: number, before: number, limit: number, newestFirst: boolean) {
    return q.all<RelationRow>(
      `SELECT * FROM event_relations WHERE relates_to_id = ? AND (? IS NULL OR rel_type = ?) AND (? IS NULL OR type = ?)
       AND stream_ordering > ? AND stream_ordering <= ? ORDER BY stream_ordering ${newestFirst ? 'DESC' : 'ASC'} LIMIT ?`,
      parentId,
      relType,
      relType,
      eventType,
      eventType,
      after,
      before,
      limit,
    );
  },
  findAnnotation(q: Queryable, parentId: string, sender: string, key: string) {
    return q.get<{ event_id: string }>(
      "SELECT event_id FROM event_relations WHERE relates_to_id = ? AND rel_type = 'm.annotation' AND sender = ? AND aggregation_key = ?",
      parentId,
      sender,
      key,
    );
  },
  relationOfEvent(q: Queryable, eventId: string) {
    return q.get<RelationRow>('SELECT * FROM event_relations WHERE event_id = ?', eventId);
  },
  /** Thread roots of a room, most recently active first, with their latest reply's position. */
  threadRoots(q: Queryable, roomId: string, before: number, limit: number, participant?: string) {
    return q.all<{ root: string; latest: number }>(
      `SELECT relates_to_id AS root, MAX(stream_ordering) AS latest FROM event_relations
       WHERE room_id = ? AND rel_type = 'm.thread' GROUP BY relates_to_id
       HAVING MAX(stream_ordering) <= ? ${
         participant
           ? `AND (SUM(CASE WHEN sender = ? THEN 1 ELSE 0 END) > 0
         OR relates_to_id IN (SELECT event_id FROM events WHERE sender = ?))`
           : ''
       }
       ORDER BY latest DESC LIMIT ?`,
      ...(participant ? [roomId, before, participant, participant, limit] : [roomId, before, limit]),
    );
  },
};
