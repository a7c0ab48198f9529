// The unread counters of push_unread (storage/push-store.ts) as /sync reads them, kept in memory
// for the (room, user) pairs that synced. A message to a room changes its recipients' counters in
// the message's own transaction; the same change is applied here once that transaction commits,
// so that the sync it wakes needs no query for them. A counter a receipt recounts (in SQL, from
// the notification log) is dropped here and read again.
import type { Queryable } from '../storage/sqlite.ts';
import { pushStore, type PushLogRow } from '../storage/push-store.ts';

/** Per thread id: notifications and highlights, only those above zero. */
export type ThreadCounts = Map<string, { notifications: number; highlights: number }>;

/** One transaction's change to the counters, as push/push-actions.ts made it in SQL. */
export interface UnreadChange {
  /** Notifications logged: each adds one (and its highlight) to its user's thread. */
  notified: PushLogRow[];
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
    const counts: ThreadCounts = new Map();
    for (const r of await pushStore.unreadByThread(q, roomId, userId)) counts.set(r.thread_id, { notifications: r.notifications, highlights: r.highlights });
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
    for (const r of change.notified) {
      const counts = this.moved(r.room_id, r.user_id);
      if (!counts) continue;
      const c = counts.get(r.thread_id) ?? { notifications: 0, highlights: 0 };
      counts.set(r.thread_id, { notifications: c.notifications + 1, highlights: c.highlights + r.highlight });
    }
  }

  /** The pair's counters changed in a way only SQL knows (a receipt's recount): read them again. */
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
