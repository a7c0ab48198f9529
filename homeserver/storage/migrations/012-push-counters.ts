import type { Migration } from './run.ts';

// Migration 007 kept one row per (user, event) in a table whose three keys all began with the
// user: a message to a room of 17 touched some 50 pages in scattered places, and writing them to
// the WAL was most of a send's cost. The log below is keyed by stream position, so one event's
// rows go together at the end of one tree; the counters are keyed by room, so one event updates
// neighbouring rows. WITHOUT ROWID is SQLite's (a PostgreSQL table is clustered on nothing anyway,
// and takes the same columns and primary key).
export const migration012: Migration = {
  version: 12,
  name: 'push: a notification log by stream position and unread counters per room, user and thread',
  sql: `
-- What each user's push rules made notify (push.md "Server behaviour"): /notifications reads it,
-- and counters are recounted from it when a read receipt moves.
CREATE TABLE push_log (
  stream_ordering INTEGER NOT NULL,
  user_id TEXT NOT NULL,
  room_id TEXT NOT NULL,
  thread_id TEXT NOT NULL,
  highlight INTEGER NOT NULL,
  actions TEXT NOT NULL,
  PRIMARY KEY (stream_ordering, user_id)
) WITHOUT ROWID;
INSERT INTO push_log (stream_ordering, user_id, room_id, thread_id, highlight, actions)
  SELECT stream_ordering, user_id, room_id, thread_id, highlight, actions FROM event_push_actions WHERE notify = 1;

-- Notifications after the user's read mark in that thread (push.md "Receiving notifications"):
-- the mark is the further of the user's unthreaded receipt, their receipt in the thread, and their
-- own latest event in it. Moved in the transaction of each event, receipt and own send.
CREATE TABLE push_unread (
  room_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  thread_id TEXT NOT NULL,
  notifications INTEGER NOT NULL,
  highlights INTEGER NOT NULL,
  PRIMARY KEY (room_id, user_id, thread_id)
) WITHOUT ROWID;
INSERT INTO push_unread (room_id, user_id, thread_id, notifications, highlights)
  SELECT a.room_id, a.user_id, a.thread_id, COUNT(*), SUM(a.highlight) FROM event_push_actions a
   WHERE a.notify = 1
     AND a.stream_ordering > COALESCE((
       SELECT MAX(e.stream_ordering) FROM receipts r JOIN events e ON e.event_id = r.event_id
        WHERE r.room_id = a.room_id AND r.user_id = a.user_id AND r.receipt_type IN ('m.read', 'm.read.private')
          AND r.thread_id IN ('', a.thread_id)), 0)
     AND a.stream_ordering > COALESCE((
       SELECT s.stream_ordering FROM push_read_by_sending s
        WHERE s.room_id = a.room_id AND s.user_id = a.user_id AND s.thread_id = a.thread_id), 0)
   GROUP BY a.room_id, a.user_id, a.thread_id;

DROP TABLE event_push_actions;
`,
};
