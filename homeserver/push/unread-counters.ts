// Unread counts as /sync reads them, kept in memory for the (room, user) pairs that synced. They
// are counted once from the notification log after the user's read marks (storage/push-store.ts
// unreadByThread), then moved here by each committed event that notified the user or that the
// user sent. A receipt drops the pair, which is counted again when next asked for. A count that
// read many rows of the log is stored as the pair's checkpoint (migration 018), and so are kept
// counters every CHECKPOINT_AFTER_ROWS rows of their room's log, so that the first count after a
// restart (or a kill -9) reads at most about that many rows.
import type { Queryable } from '../storage/sqlite.ts';
import { pushStore, type EventNotifications, type UnreadCheckpoint } from '../storage/push-store.ts';

/** Per thread id: notifications and highlights, only those above zero. */
export type ThreadCounts = Map<string, { notifications: number; highlights: number }>;

/** One event's change to the counters (push/push-actions.ts). */
export interface UnreadChange {
  /** Notifications logged: each recipient gets one more in the event's thread (and a highlight). */
  notified?: EventNotifications;
  /** The sender's own event: their counters in that thread went to zero. */
  sent?: { userId: string; roomId: string; threadId: string; streamOrdering: number };
}

/** Pairs kept at most; past this the cache starts over. */
const MAX_ENTRIES = 50_000;
/** Rooms whose changes are followed at most; past this too. */
const MAX_ROOMS = 50_000;
/**
 * A count that read this many rows of the room's notification log is stored as a checkpoint.
 * Reading 1,000 rows takes about 3 ms (200,000 took ~0.5 s, issue 13), well under the 50 ms a
 * first request may take; storing a checkpoint is one small row, so fewer rows are not worth it.
 */
export const CHECKPOINT_AFTER_ROWS = 1_000;
/**
 * Recipients not kept here whose checkpoints one sweep brings up to date, at most: each is a count
 * of about CHECKPOINT_AFTER_ROWS rows (~3 ms) on the reader, so a sweep stays well under a second
 * of background reads however large the room.
 */
export const MAX_SWEPT_USERS = 100;

/** Brings the stored checkpoints of `userIds` in a room up to date, in the background. */
export type Sweep = (roomId: string, userIds: string[]) => void;

/**
 * One pair's kept counters, with what a checkpoint of them needs: the read marks they count from
 * and the position of the room's last log row they hold (storage/push-store.ts UnreadCheckpoint).
 */
interface Kept {
  counts: ThreadCounts;
  marks: Map<string, number>;
  through: number;
  /** Log rows of the room taken in since the pair's last checkpoint. */
  unsaved: number;
}

/** A room's kept counters by user, and a version that moves with every change in the room. */
interface RoomCounters {
  version: number;
  users: Map<string, Kept>;
  /** Log rows of the room since its last sweep. */
  unswept: number;
}

export class UnreadCounters {
  /** Stores a checkpoint, in a write job of its own; counting goes on without waiting for it. */
  private readonly saveCheckpoint: ((cp: UnreadCheckpoint) => void) | undefined;
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

  /**
   * Every CHECKPOINT_AFTER_ROWS rows of a room, its recipients not kept here (users who have not
   * synced since the start) get their checkpoints brought up to date, so that their first count
   * after a restart reads few rows too.
   */
  private readonly sweep: Sweep | undefined;

  constructor(saveCheckpoint?: (cp: UnreadCheckpoint) => void, sweep?: Sweep) {
    this.saveCheckpoint = saveCheckpoint;
    this.sweep = sweep;
  }

  /** A write job that may change counters begins; end() follows, after committed() if it did. */
  begin(): void {
    this.writing++;
  }

  end(): void {
    this.writing--;
  }

  async get(q: Queryable, roomId: string, userId: string): Promise<ThreadCounts> {
    const known = this.rooms.get(roomId)?.users.get(userId);
    if (known) return known.counts;
    const version = this.rooms.get(roomId)?.version ?? 0;
    const generation = this.generation;
    const quiet = this.writing === 0;
    const { counts, scanned, checkpoint } = await pushStore.unreadByThread(q, roomId, userId);
    const stored = scanned >= CHECKPOINT_AFTER_ROWS;
    if (stored) this.saveCheckpoint?.(checkpoint);
    if (quiet && this.writing === 0 && this.generation === generation && (this.rooms.get(roomId)?.version ?? 0) === version) {
      if (this.size >= MAX_ENTRIES) this.startOver();
      const room = this.room(roomId);
      if (!room.users.has(userId)) this.size++;
      // Copies: the checkpoint handed to be stored is written later, and must not move with these.
      const kept = { counts, marks: new Map(checkpoint.marks), through: checkpoint.through, unsaved: stored ? 0 : scanned };
      room.users.set(userId, kept);
      return kept.counts;
    }
    return counts;
  }

  /** A transaction that made `change` committed. */
  committed(change: UnreadChange): void {
    if (change.sent) {
      const { roomId, userId, threadId, streamOrdering } = change.sent;
      const kept = this.moved(roomId).users.get(userId);
      if (kept) {
        kept.counts.delete(threadId);
        kept.marks.set(threadId, Math.max(kept.marks.get(threadId) ?? 0, streamOrdering));
      }
    }
    const n = change.notified;
    if (!n) return;
    const room = this.moved(n.roomId);
    const users = room.users;
    if (++room.unswept >= CHECKPOINT_AFTER_ROWS && this.sweep) {
      room.unswept = 0;
      const others = [...n.recipients.keys()].filter((u) => !users.has(u)).slice(0, MAX_SWEPT_USERS);
      if (others.length > 0) this.sweep(n.roomId, others);
    }
    if (users.size === 0) return;
    const highlighted = new Set(n.highlighted);
    // Every kept pair of the room takes in the row, notified or not: their counters now hold the
    // log up to it, as a count over it would.
    for (const [userId, kept] of users) {
      kept.through = Math.max(kept.through, n.streamOrdering);
      if (n.recipients.has(userId)) {
        const c = kept.counts.get(n.threadId);
        const highlight = highlighted.has(userId) ? 1 : 0;
        kept.counts.set(n.threadId, { notifications: (c?.notifications ?? 0) + 1, highlights: (c?.highlights ?? 0) + highlight });
      }
      if (++kept.unsaved >= CHECKPOINT_AFTER_ROWS) {
        kept.unsaved = 0;
        this.saveCheckpoint?.({ roomId: n.roomId, userId, marks: new Map(kept.marks), through: kept.through, counts: copyCounts(kept.counts) });
      }
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
      this.rooms.set(roomId, (room = { version: 0, users: new Map(), unswept: 0 }));
    }
    return room;
  }

  private startOver(): void {
    this.rooms.clear();
    this.size = 0;
    this.generation++;
  }
}

function copyCounts(counts: ThreadCounts): ThreadCounts {
  return new Map([...counts].map(([t, c]) => [t, { ...c }]));
}
