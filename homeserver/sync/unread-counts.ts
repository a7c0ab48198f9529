// unread_notifications and unread_thread_notifications in /sync (push.md "Receiving
// notifications", "Marking notifications as read"): the counters that push/push-actions.ts moves
// with each notifying event, and read receipts and the user's own events move back.
//
// They are the counts as of the latest commit, which may be a few events past the position the
// sync response names; the next sync carries those events, and the same counts again.
import type { Queryable } from '../storage/sqlite.ts';
import { MAIN_THREAD } from '../storage/push-store.ts';
import type { UnreadCounters } from '../push/unread-counters.ts';
import { nullObject } from '../protocol/null-object.ts';

export interface NotificationCounts {
  highlight_count: number;
  notification_count: number;
}

export interface UnreadCounts {
  /** The whole room's counts, or only the main timeline's when thread counts were asked for. */
  unread_notifications: NotificationCounts;
  /** Per thread root, present only when asked for (RoomEventFilter unread_thread_notifications) and non-empty. */
  unread_thread_notifications?: Record<string, NotificationCounts>;
}

export async function unreadCounts(q: Queryable, counters: UnreadCounters, roomId: string, userId: string, perThread = false): Promise<UnreadCounts> {
  const main: NotificationCounts = { highlight_count: 0, notification_count: 0 };
  const threads: Record<string, NotificationCounts> = nullObject();
  for (const [threadId, r] of await counters.get(q, roomId, userId)) {
    if (r.notifications === 0 && r.highlights === 0) continue;
    const target = !perThread || threadId === MAIN_THREAD ? main : (threads[threadId] = { highlight_count: 0, notification_count: 0 });
    target.notification_count += r.notifications;
    target.highlight_count += r.highlights;
  }
  const out: UnreadCounts = { unread_notifications: main };
  if (Object.keys(threads).length > 0) out.unread_thread_notifications = threads;
  return out;
}
