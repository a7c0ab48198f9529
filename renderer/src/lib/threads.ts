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

/** What matrix-js-sdk's Thread gives: the number of replies and the latest one. */
export interface ThreadLike {
  length: number;
  replyToEvent: EventLike | null | undefined;
}

export interface ThreadSummary {
  replies: number;
  /** "3 replies · last: Bob: ok" */
  text: string;
}

/** The summary shown under a thread root, or null when it has no replies (yet). */
export function summarizeThread(thread: ThreadLike | null | undefined, nameOf: (userId: string) => string): ThreadSummary | null {
  if (!thread || thread.length <= 0) return null;
  const replies = thread.length;
  const count = replies === 1 ? '1 reply' : `${replies} replies`;
  const last = thread.replyToEvent;
  if (!last) return { replies, text: count };
  const text = oneLine(messageText(last));
  return { replies, text: `${count} · last: ${nameOf(last.getSender() ?? '')}: ${text}` };
}

/** A preview is one line: newlines fold to spaces and a long message is cut. */
const PREVIEW_CHARS = 80;

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > PREVIEW_CHARS ? `${flat.slice(0, PREVIEW_CHARS - 1)}…` : flat;
}
