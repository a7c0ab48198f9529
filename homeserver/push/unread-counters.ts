// Unread counts as /sync reads them, kept in memory for the (room, user) pairs that synced. They
// are counted once from the notification log after the user's read marks (storage/push-store.ts
// unreadByThread), then moved here by each committed event that notified the user or that the
// user sent. A receipt drops the pair, which is counted again when next asked for.
import type { Queryable } from '../storage/sqlite.ts';
import { pushStore, type EventNotifications } from '../storage/push-store.ts';

/** Per thread id: notifications and highlights, only those above zero. */
export type ThreadCounts = Map<string, { notifications: number; highlights: number }>;

/** One event's change to the counters (push/push-actions.ts). */
export interface UnreadChange {
  /** Notifications logged: each recipient gets one more in the event's thread (and a highlight). */
  notified?: EventNotifications;
  /** The sender's own event: their counters in that thread went to zero. */
  sent?: { userId: string; roomId: string; threadId: string };
}

/** Pairs kept at most; past this the cache starts over. */
const MAX_ENTRIES = 50_000;

export class UnreadCounters {
  private readonly entries = new Map<string, ThreadCounts>();
  /** Moves with every change to a pair, so that a read that began before it is not kept. */
  private readonly versions = new Map<string, number>();
  /** Moves when `versions` is emptied, which would hide changes from reads begun before. */
  private generation = 0;
  /**
   * Write jobs begun and not yet applied here: what a read returns may already hold their
   * commit, which committed() would then add a second time, so nothing read meanwhile is kept.
   */
  private writing = 0;

  /** A write job that may change counters begins; end() follows, after committed() if it did. */
  begin(): void {
    this.writing++;
  }

  end(): void {
    this.writing--;
  }

  async get(q: Queryable, roomId: string, userId: string): Promise<ThreadCounts> {
    const key = pairKey(roomId, userId);
    const known = this.entries.get(key);
    if (known) return known;
    const version = this.versions.get(key) ?? 0;
    const generation = this.generation;
    const quiet = this.writing === 0;
    const counts: ThreadCounts = await pushStore.unreadByThread(q, roomId, userId);
    if (quiet && this.writing === 0 && this.generation === generation && (this.versions.get(key) ?? 0) === version) {
      if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
      this.entries.set(key, counts);
    }
    return counts;
  }

  /** A transaction that made `change` committed. */
  committed(change: UnreadChange): void {
    if (change.sent) {
      const { roomId, userId, threadId } = change.sent;
      this.moved(roomId, userId)?.delete(threadId);
    }
    const n = change.notified;
    if (!n) return;
    const highlighted = new Set(n.highlighted);
    for (const userId of n.recipients.keys()) {
      const counts = this.moved(n.roomId, userId);
      if (!counts) continue;
      const c = counts.get(n.threadId) ?? { notifications: 0, highlights: 0 };
      counts.set(n.threadId, { notifications: c.notifications + 1, highlights: c.highlights + (highlighted.has(userId) ? 1 : 0) });
    }
  }

  /** The pair's read marks moved (a receipt): count again when next asked. */
  forget(roomId: string, userId: string): void {
    this.moved(roomId, userId);
    this.entries.delete(pairKey(roomId, userId));
  }

  /** Marks the pair changed; returns its kept counters, if any, to update in place. */
  private moved(roomId: string, userId: string): ThreadCounts | undefined {
    const key = pairKey(roomId, userId);
    this.versions.set(key, (this.versions.get(key) ?? 0) + 1);
    if (this.versions.size >= MAX_ENTRIES * 4) {
      this.versions.clear();
      this.entries.clear();
      this.generation++;
    }
    return this.entries.get(key);
  }
}

function pairKey(roomId: string, userId: string): string {
  return `${roomId}\u0000${userId}`;
}
