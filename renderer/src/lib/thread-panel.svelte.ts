// Which thread the side panel shows: one for the window, opened from a message's "Reply in
// thread" or a thread summary in the timeline, and read by RoomView, which places the panel.
import type { Room } from 'matrix-js-sdk/lib/models/room.js';
import { ThreadEvent } from 'matrix-js-sdk/lib/models/thread.js';

export const threadPanel = $state<{ roomId: string | null; rootId: string | null }>({ roomId: null, rootId: null });

export function openThread(roomId: string, rootId: string): void {
  threadPanel.roomId = roomId;
  threadPanel.rootId = rootId;
}

export function closeThread(): void {
  threadPanel.roomId = null;
  threadPanel.rootId = null;
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
