import type { Migration } from './run.ts';

export const migration005: Migration = {
  version: 5,
  name: 'event relations (edits, reactions, threads, references) and full-text search',
  sql: `
-- One row per event that relates to another through content["m.relates_to"]; removed when the
-- child is redacted, since redaction strips the relation.
CREATE TABLE event_relations (
  event_id TEXT PRIMARY KEY,
  relates_to_id TEXT NOT NULL,
  rel_type TEXT NOT NULL,
  aggregation_key TEXT,
  sender TEXT NOT NULL,
  type TEXT NOT NULL,
  room_id TEXT NOT NULL,
  stream_ordering INTEGER NOT NULL
);
CREATE INDEX event_relations_by_parent ON event_relations (relates_to_id, rel_type, stream_ordering);
CREATE INDEX event_relations_by_room ON event_relations (room_id, rel_type, stream_ordering);
`,
};
