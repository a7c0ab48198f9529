import type { Migration } from './run.ts';

// Migration 012 wrote, for each message, one push_log row and one push_unread upsert per
// recipient: in a room of 17, 34 rows and two long multi-row statements per send, which SQLite
// spent most of its time parsing (measured: about 0.19 ms of the 0.33 ms of SQL per send, half of
// it in those two statements). Now one event is one row whatever the room's size: who its
// notifications went to, and with which actions. Unread counts are no longer stored: they are
// counted from these rows after each user's read marks when first asked for, then kept in memory
// and moved by each commit (push/unread-counters.ts), so a crash loses nothing that is not
// recounted at the next start.
export const migration013: Migration = {
  version: 13,
  name: 'push: one row per notifying event, unread counts counted from it',
  sql: `
-- What users' push rules decided for one event (push.md "Server behaviour"), as JSON:
--   actions      the distinct action lists, e.g. [["notify"],["notify",{"set_tweak":"highlight"}]]
--   recipients   user id -> index into actions, for every user the event notified
--   highlighted  the user ids whose actions highlight, or NULL when none do
-- A recipient is found with instr() on '"<user id>":' (a JSON key), a highlight on '"<user id>"'.
CREATE TABLE push_notified (
  stream_ordering INTEGER PRIMARY KEY,
  room_id TEXT NOT NULL,
  thread_id TEXT NOT NULL,
  actions TEXT NOT NULL,
  recipients TEXT NOT NULL,
  highlighted TEXT
);
INSERT INTO push_notified (stream_ordering, room_id, thread_id, actions, recipients, highlighted)
  SELECT g.stream_ordering, MIN(g.room_id), MIN(g.thread_id),
         json_group_array(json(g.actions) ORDER BY g.actions),
         (SELECT json_group_object(l.user_id, a.idx) FROM push_log l
            JOIN (SELECT actions, ROW_NUMBER() OVER (ORDER BY actions) - 1 AS idx FROM push_log WHERE stream_ordering = g.stream_ordering GROUP BY actions) a
              ON a.actions = l.actions
           WHERE l.stream_ordering = g.stream_ordering),
         (SELECT CASE WHEN COUNT(*) = 0 THEN NULL ELSE json_group_array(h.user_id) END FROM push_log h
           WHERE h.stream_ordering = g.stream_ordering AND h.highlight = 1)
    FROM (SELECT stream_ordering, room_id, thread_id, actions FROM push_log GROUP BY stream_ordering, actions) g
   GROUP BY g.stream_ordering;
DROP TABLE push_log;
DROP TABLE push_unread;
`,
};
