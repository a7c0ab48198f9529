import type { Migration } from './run.ts';

// Events were indexed for search in their own transaction; from now on behind the timeline
// (rooms/search-indexer.ts), from this recorded position. Everything stored so far is indexed.
export const migration014: Migration = {
  version: 14,
  name: 'search: events are indexed behind the timeline, from a recorded position',
  sql: `INSERT INTO stream_counters (name, value) SELECT 'search_indexed', COALESCE(MAX(stream_ordering), 0) FROM events;`,
};
