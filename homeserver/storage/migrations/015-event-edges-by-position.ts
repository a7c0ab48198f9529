import type { Migration } from './run.ts';

// Each event wrote its prev_events to event_edges and its auth_events to event_auth, both keyed by
// the event's id. An event id is a hash, so every insert landed on a random page of each table's
// index: with 16 senders, about 2.5 of the 7 pages a stored event dirtied (each page a 4 KiB frame
// that the commit writes to the WAL and syncs), for rows that repeat what the event's JSON holds.
// - event_auth is dropped: nothing reads it (auth chains are walked through the events' own
//   auth_events, rooms/auth-chain.ts).
// - event_edges is keyed by the event's position, which only grows, so a batch's rows share a
//   page. Its one reader (backward extremities) walks a room's events by position anyway.
export const migration015: Migration = {
  version: 15,
  name: 'events: prev_events edges keyed by position; event_auth, never read, dropped',
  sql: `
CREATE TABLE event_edges_by_position (
  stream_ordering INTEGER NOT NULL,
  prev_event_id TEXT NOT NULL,
  PRIMARY KEY (stream_ordering, prev_event_id)
);
INSERT INTO event_edges_by_position (stream_ordering, prev_event_id)
  SELECT e.stream_ordering, ed.prev_event_id FROM event_edges ed JOIN events e ON e.event_id = ed.event_id;
DROP TABLE event_edges;
ALTER TABLE event_edges_by_position RENAME TO event_edges;
DROP TABLE event_auth;
`,
};
