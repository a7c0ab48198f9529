import type { Migration } from './run.ts';

// SQLite's FTS5 (the sqlite3 package builds it in). A PostgreSQL backend would use a tsvector
// column here instead; the search module only asks this store for ranked matches.
export const migration006: Migration = {
  version: 6,
  name: 'full-text search over message bodies, room names and topics',
  sql: `
CREATE VIRTUAL TABLE event_search USING fts5(
  body,
  room_id UNINDEXED,
  search_key UNINDEXED,
  tokenize = 'unicode61 remove_diacritics 2'
);
`,
};
