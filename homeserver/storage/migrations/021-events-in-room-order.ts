import type { Migration } from './run.ts';

// /messages pages through a room in the room's order (the DAG's depth, then the position an event
// was stored at), not only in the order this server stored events: history filled in later (a gap
// while this server had no member, backfill from other servers) takes positions below every
// existing one yet belongs between events stored long before it (issue 14, fault 3). The index
// makes that order one range per room, as events_by_room does for positions.
export const migration021: Migration = {
  version: 21,
  name: 'events: index by room, depth and position for /messages in the room order',
  sql: `
CREATE INDEX events_by_room_depth ON events (room_id, depth, stream_ordering);
`,
};
