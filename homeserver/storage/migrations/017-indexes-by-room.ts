import type { Migration } from './run.ts';

// Two reads that scanned far more than they needed, each the first of its kind after a start
// (issue 13):
// - The first event a room gets looks for the state group that holds the room's current state
//   among the room's newest groups (rooms/room-heads.ts groupHolding). state_groups had no index
//   but its id, so that read scanned every room's groups.
// - A user's unread counts in a room are counted once from the notification log after their
//   read marks (storage/push-store.ts unreadByThread), which found the room's notifications only
//   through the events table: every event of the room after the mark, notifying or not.
// By room, then position: one room's rows are one range, newest last.
export const migration017: Migration = {
  version: 17,
  name: 'indexes by room for state groups and the notification log',
  sql: `
CREATE INDEX state_groups_by_room ON state_groups (room_id, id);
CREATE INDEX push_notified_by_room ON push_notified (room_id, stream_ordering);
`,
};
