// Receipts (client-server-api modules/receipts.md): m.read, m.read.private, threaded receipts,
// stored and delivered as m.receipt ephemeral events through /sync.
import type { Database } from '../storage/database.ts';
import { receiptsStore, currentStreamId, type ReceiptRow } from '../storage/edus-store.ts';
import type { Queryable } from '../storage/sqlite.ts';
import { StreamChangeCache } from '../sync/stream-change-cache.ts';
import type { UnreadCounters } from '../push/unread-counters.ts';
import type { Notifier } from '../sync/notifier.ts';
import type { JsonObject } from '../protocol/types.ts';
import { nullObject } from '../protocol/null-object.ts';

export const RECEIPT_TYPES = ['m.read', 'm.read.private'];
/** Receipts without a thread are stored under this thread id. */
const UNTHREADED = '';

/** A local user's new receipt (federation passes public ones on). */
export interface LocalReceipt {
  roomId: string;
  userId: string;
  type: string;
  eventId: string;
  threadId: string | undefined;
  ts: number;
}

export class ReceiptService {
  private readonly db: Database;
  private readonly notifier: Notifier;
  private readonly membersOf: (roomId: string) => Promise<string[]>;
  /** Rooms by the position of their latest receipt. */
  private changes = new StreamChangeCache(0);
  private readonly localListeners: Array<(r: LocalReceipt) => void> = [];

  /** Unread counters kept in memory, which a receipt makes stale. */
  private readonly unread: UnreadCounters | undefined;

  constructor(db: Database, notifier: Notifier, membersOf: (roomId: string) => Promise<string[]>, unread?: UnreadCounters) {
    this.db = db;
    this.notifier = notifier;
    this.membersOf = membersOf;
    this.unread = unread;
  }

  async init(): Promise<void> {
    this.changes = new StreamChangeCache(await currentStreamId(this.db.reader, 'receipts'));
  }

  get currentPosition(): number {
    return this.changes.position;
  }

  /** Calls `fn` after each receipt a local user sets (federation passes public ones on). */
  onLocalReceipt(fn: (r: LocalReceipt) => void): void {
    this.localListeners.push(fn);
  }

  /** A local user's receipt, from the client API. */
  async setReceipt(roomId: string, userId: string, type: string, eventId: string, threadId?: string): Promise<void> {
    const ts = Date.now();
    await this.store(roomId, userId, type, eventId, threadId, ts);
    for (const fn of this.localListeners) fn({ roomId, userId, type, eventId, threadId, ts });
  }

  /** A remote user's receipt, from a federation m.receipt EDU, with the time their server gave. */
  async setRemoteReceipt(roomId: string, userId: string, type: string, eventId: string, threadId: string | undefined, ts: number): Promise<void> {
    await this.store(roomId, userId, type, eventId, threadId, ts);
  }

  private async store(roomId: string, userId: string, type: string, eventId: string, threadId: string | undefined, ts: number): Promise<void> {
    const id = await this.db.write((tx) =>
      receiptsStore.put(tx, { room_id: roomId, receipt_type: type, user_id: userId, thread_id: threadId ?? UNTHREADED, event_id: eventId, ts }),
    );
    this.changes.record(roomId, id);
    // The read mark moved (push.md "Marking notifications as read"): the pair's unread counts are
    // counted again, after it, when next asked for.
    if (RECEIPT_TYPES.includes(type)) this.unread?.forget(roomId, userId);
    // Private receipts wake only their owner; public ones every member.
    this.notifier.notifyUsers(type === 'm.read.private' ? [userId] : await this.membersOf(roomId));
  }

  /** The m.receipt event for a room: changes in (since, upTo], or every receipt when since is undefined. */
  async receiptEvent(q: Queryable, roomId: string, viewer: string, since: number | undefined, upTo: number): Promise<JsonObject | undefined> {
    if (since !== undefined && (since >= upTo || !this.changes.mayHaveChanged(roomId, since))) return undefined;
    const rows = await receiptsStore.roomSince(q, roomId, since ?? 0, upTo);
    const visible = rows.filter((r) => r.receipt_type !== 'm.read.private' || r.user_id === viewer);
    if (visible.length === 0) return undefined;
    return { type: 'm.receipt', content: receiptContent(visible) };
  }

  async roomsWithChanges(q: Queryable, since: number, upTo: number): Promise<Set<string>> {
    return this.changes.changedSince(since) ?? new Set((await receiptsStore.roomsWithReceiptsAfter(q, since, upTo)).map((r) => r.room_id));
  }
}

/** m.receipt content: event id -> receipt type -> user id -> { ts, thread_id? }. */
function receiptContent(rows: ReceiptRow[]): JsonObject {
  const content: Record<string, Record<string, Record<string, JsonObject>>> = nullObject();
  for (const r of rows) {
    const byType = (content[r.event_id] ??= nullObject());
    const byUser = (byType[r.receipt_type] ??= nullObject());
    const receipt: JsonObject = { ts: r.ts };
    if (r.thread_id !== UNTHREADED) receipt.thread_id = r.thread_id;
    byUser[r.user_id] = receipt;
  }
  return content as unknown as JsonObject;
}
