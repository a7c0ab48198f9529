// Threads (client-server-api "Threading"): what a thread root's summary line says in the main
// timeline, and which events belong in a thread rather than in the main timeline. Pure, on
// shapes matrix-js-sdk's Thread and MatrixEvent have, so the unit tests need no SDK.
import { messageText, type EventLike } from './events.ts';

export const THREAD_REL_TYPE = 'm.thread';

interface Relation {
  rel_type?: unknown;
  event_id?: unknown;
}

/** The thread root an event replies in, or null for an event in the main timeline. */
export function threadRootOf(ev: Pick<EventLike, 'getContent'>): string | null {
  const rel = (ev.getContent() as { 'm.relates_to'?: Relation })['m.relates_to'];
  if (typeof rel !== 'object' || rel === null || rel.rel_type !== THREAD_REL_TYPE) return null;
  return typeof rel.event_id === 'string' ? rel.event_id : null;
}

/**
 * The event a thread reply quotes, or null. Every thread reply carries m.in_reply_to for clients
 * without threads; only one without `is_falling_back` is a real reply the panel quotes
 * (client-server-api "Fallback for unthreaded clients").
 */
export function threadReplyTo(ev: Pick<EventLike, 'getContent'>): string | null {
  const rel = (ev.getContent() as { 'm.relates_to'?: Relation & { is_falling_back?: unknown; 'm.in_reply_to'?: { event_id?: unknown } } })['m.relates_to'];
  if (typeof rel !== 'object' || rel === null || rel.is_falling_back === true) return null;
  const id = rel['m.in_reply_to']?.event_id;
  return typeof id === 'string' ? id : null;
}

/**
 * Whether a thread can start from this event: any event without a rel_type (a rich reply
 * included) can be a root; one with a rel_type (an edit, a reaction, a thread reply) cannot
 * (client-server-api "Threading": threads do not nest).
 */
export function canStartThread(ev: Pick<EventLike, 'getContent'>): boolean {
  const rel = (ev.getContent() as { 'm.relates_to'?: Relation })['m.relates_to'];
  return typeof rel !== 'object' || rel === null || rel.rel_type === undefined;
}

/**
 * The newest reply across the room's threads, for the room list: a room whose only news is in
 * a thread still shows it as its last message and moves up. Replies still being sent are left
 * out, as the main timeline's are.
 */
export function latestThreadReply<E extends Pick<EventLike, 'getTs'> & { status?: unknown }>(
  threads: ReadonlyArray<{ replyToEvent: E | null | undefined }>,
): E | undefined {
  let latest: E | undefined;
  for (const t of threads) {
    const ev = t.replyToEvent;
    if (ev && (ev.status === null || ev.status === undefined) && (!latest || ev.getTs() > latest.getTs())) latest = ev;
  }
  return latest;
}

/**
 * How many replies a thread has. matrix-js-sdk's Thread.length is a running count, started from
 * the server's bundled count and moved by the events it sees arrive, and the two race: our own
 * reply was seen counted twice ("3 replies" for two). Once the thread is loaded back to its
 * root, the replies themselves are the count; before that, the SDK's is all there is.
 */
export function countReplies(sdkLength: number, loadedToRoot: boolean, loadedReplies: number): number {
  return loadedToRoot ? loadedReplies : Math.max(sdkLength, loadedReplies);
}

/** What matrix-js-sdk's Thread gives: the number of replies and the latest one. */
export interface ThreadLike {
  length: number;
  replyToEvent: EventLike | null | undefined;
}

export interface ThreadSummary {
  replies: number;
  /** The server counts notifying replies the user has not read (unread_thread_notifications). */
  unread: boolean;
  /** "3 replies · last: Bob: ok" */
  text: string;
}

/** The summary shown under a thread root, or null when it has no replies (yet). */
export function summarizeThread(thread: ThreadLike | null | undefined, nameOf: (userId: string) => string, unreadCount = 0): ThreadSummary | null {
  if (!thread || thread.length <= 0) return null;
  const replies = thread.length;
  const count = replies === 1 ? '1 reply' : `${replies} replies`;
  const last = thread.replyToEvent;
  const unread = unreadCount > 0;
  if (!last) return { replies, unread, text: count };
  const text = oneLine(messageText(last));
  return { replies, unread, text: `${count} · last: ${nameOf(last.getSender() ?? '')}: ${text}` };
}

/** A preview is one line: newlines fold to spaces and a long message is cut. */
const PREVIEW_CHARS = 80;

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > PREVIEW_CHARS ? `${flat.slice(0, PREVIEW_CHARS - 1)}…` : flat;
}

/** One thread in the room's thread list (ThreadList.svelte). */
export interface ThreadListItem {
  rootId: string;
  rootSenderId: string;
  rootSender: string;
  /** The root's text on one line. */
  rootText: string;
  replies: number;
  /** "Bob: ok", the latest reply, or '' while it is not known. */
  latest: string;
  /** When the thread last moved: its latest reply, else its root. */
  ts: number;
  unread: boolean;
}

/** What the thread list needs of a thread (matrix-js-sdk's Thread, counted as the summaries are). */
export interface ListedThread {
  id: string;
  rootEvent: EventLike | null | undefined;
  length: number;
  replyToEvent: EventLike | null | undefined;
}

/**
 * The room's threads with at least one reply, the most recently active first, as Element lists
 * them. `unreadOf` is the server's count of unread notifying replies in a thread.
 */
export function threadListItems(threads: readonly ListedThread[], nameOf: (userId: string) => string, unreadOf: (rootId: string) => number): ThreadListItem[] {
  const items: ThreadListItem[] = [];
  for (const t of threads) {
    if (t.length <= 0) continue;
    const root = t.rootEvent;
    const last = t.replyToEvent;
    const rootSenderId = root?.getSender() ?? '';
    items.push({
      rootId: t.id,
      rootSenderId,
      rootSender: root ? nameOf(rootSenderId) : '',
      rootText: root ? oneLine(messageText(root)) : 'Message not loaded',
      replies: t.length,
      latest: last ? `${nameOf(last.getSender() ?? '')}: ${oneLine(messageText(last))}` : '',
      ts: last?.getTs() ?? root?.getTs() ?? 0,
      unread: unreadOf(t.id) > 0,
    });
  }
  return items.sort((a, b) => b.ts - a.ts);
}
