// Which thread the side panel shows: one for the window, opened from a message's "Reply in
// thread" or a thread summary in the timeline, and read by RoomView, which places the panel.
import type { Room } from 'matrix-js-sdk/lib/models/room.js';
import type { MatrixEvent } from 'matrix-js-sdk/lib/models/event.js';
import { Direction } from 'matrix-js-sdk/lib/models/event-timeline.js';
import { ThreadEvent } from 'matrix-js-sdk/lib/models/thread.js';
import { countReplies, threadRootOf } from './threads.ts';

export const threadPanel = $state<{ roomId: string | null; rootId: string | null; listRoomId: string | null }>({
  roomId: null,
  rootId: null,
  listRoomId: null,
});

/** Opens a thread; the room's thread list, if open, stays behind it for "Back to threads". */
export function openThread(roomId: string, rootId: string): void {
  threadPanel.roomId = roomId;
  threadPanel.rootId = rootId;
  if (threadPanel.listRoomId !== roomId) threadPanel.listRoomId = null;
}

export function closeThread(): void {
  threadPanel.roomId = null;
  threadPanel.rootId = null;
}

/** The room header's "Threads": the list of the room's threads, in the thread panel's place. */
export function openThreadList(roomId: string): void {
  closeThread();
  threadPanel.listRoomId = roomId;
}

/** Closes the side panel: the thread and the list behind it (the thread panel's close button). */
export function closeThreadList(): void {
  closeThread();
  threadPanel.listRoomId = null;
}

/** Whether the thread list of `roomId` is open (under a thread opened from it, or shown). */
export function threadListOpenIn(roomId: string): boolean {
  return threadPanel.listRoomId === roomId;
}

/** The thread open in `roomId`, if any. */
export function openThreadIn(roomId: string): string | null {
  return threadPanel.roomId === roomId ? threadPanel.rootId : null;
}

/**
 * Calls `changed` when the room's threads change in ways that bring no timeline event: a thread
 * created from a root, its reply count or latest reply fetched from the server (matrix-js-sdk
 * emits these on the room only, so Chat's client-wide listeners never see them). Returns the
 * unsubscribe.
 */
export function watchThreads(room: Room, changed: () => void): () => void {
  let queued = false;
  const bump = () => {
    if (queued) return;
    queued = true;
    queueMicrotask(() => {
      queued = false;
      changed();
    });
  };
  const events = [ThreadEvent.New, ThreadEvent.Update, ThreadEvent.NewReply, ThreadEvent.Delete] as const;
  for (const name of events) room.on(name as ThreadEvent.New, bump);
  return () => {
    for (const name of events) room.off(name as ThreadEvent.New, bump);
  };
}

export interface ThreadView {
  /** Loaded replies, oldest first, and ours still being sent. */
  replies: MatrixEvent[];
  pending: MatrixEvent[];
  /** All replies, loaded or not. */
  length: number;
  replyToEvent: MatrixEvent | null;
  /** Older replies are still on the server. */
  hasEarlier: boolean;
}

/** The thread under `rootId` as the summary and the panel show it, or null when it has none. */
export function threadView(room: Room, rootId: string): ThreadView | null {
  const t = room.getThread(rootId);
  if (!t) return null;
  // By the wire content: an edited reply's getContent() is its new content, without the relation.
  // A deleted reply loses its relation with its content; matrix-js-sdk then moves it to the main
  // timeline (room.js eventShouldLiveIn, until MSC3389), so it leaves the thread.
  const replies = t.events.filter((ev) => threadRootOf({ getContent: () => ev.getWireContent() }) === rootId);
  const loaded = new Set(replies);
  const pending = room.getPendingEvents().filter((ev) => !loaded.has(ev) && threadRootOf(ev) === rootId);
  const hasEarlier = t.liveTimeline.getPaginationToken(Direction.Backward) !== null;
  const toRoot = t.initialEventsFetched && !hasEarlier;
  return { replies, pending, length: countReplies(t.length, toRoot, replies.length + pending.length), replyToEvent: t.replyToEvent, hasEarlier };
}
