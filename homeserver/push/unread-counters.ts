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
/** Rooms whose changes are followed at most; past this too. */
const MAX_ROOMS = 50_000;

/** A room's kept counters by user, and a version that moves with every change in the room. */
interface RoomCounters {
  version: number;
  users: Map<string, ThreadCounts>;
}

export class UnreadCounters {
  private readonly rooms = new Map<string, RoomCounters>();
  /** Pairs kept, over all rooms. */
  private size = 0;
  /** Moves when `rooms` is emptied, which would hide changes from reads begun before. */
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
    const known = this.rooms.get(roomId)?.users.get(userId);
    if (known) return known;
    const version = this.rooms.get(roomId)?.version ?? 0;
    const generation = this.generation;
    const quiet = this.writing === 0;
    const counts: ThreadCounts = await pushStore.unreadByThread(q, roomId, userId);
    if (quiet && this.writing === 0 && this.generation === generation && (this.rooms.get(roomId)?.version ?? 0) === version) {
      if (this.size >= MAX_ENTRIES) this.startOver();
      const room = this.room(roomId);
      if (!room.users.has(userId)) this.size++;
      room.users.set(userId, counts);
    }
    return counts;
  }

  /** A transaction that made `change` committed. */
  committed(change: UnreadChange): void {
    if (change.sent) {
      const { roomId, userId, threadId } = change.sent;
      this.moved(roomId).users.get(userId)?.delete(threadId);
    }
    const n = change.notified;
    if (!n) return;
    const users = this.moved(n.roomId).users;
    if (users.size === 0) return;
    for (const userId of n.recipients.keys()) {
      const counts = users.get(userId);
      if (!counts) continue;
      const c = counts.get(n.threadId);
      const highlight = n.highlighted.length > 0 && n.highlighted.includes(userId) ? 1 : 0;
      counts.set(n.threadId, { notifications: (c?.notifications ?? 0) + 1, highlights: (c?.highlights ?? 0) + highlight });
    }
  }

  /** The pair's read marks moved (a receipt): count again when next asked. */
  forget(roomId: string, userId: string): void {
    if (this.moved(roomId).users.delete(userId)) this.size--;
  }

  /** Marks the room changed, so that reads begun before are not kept; returns its entry. */
  private moved(roomId: string): RoomCounters {
    const room = this.room(roomId);
    room.version++;
    return room;
  }

  private room(roomId: string): RoomCounters {
    let room = this.rooms.get(roomId);
    if (!room) {
      if (this.rooms.size >= MAX_ROOMS) this.startOver();
      this.rooms.set(roomId, (room = { version: 0, users: new Map() }));
    }
    return room;
  }

  private startOver(): void {
    this.rooms.clear();
    this.size = 0;
    this.generation++;
  }
}
