// How far the user has read each room, with the spec's read receipts and fully-read marker
// (POST /rooms/{roomId}/read_markers): other clients and other devices see the same position,
// and the server moves its unread counts back. The SDK synthesizes a receipt for the sender of
// each event, so sending (or joining) counts as having read what came before.
import type { MatrixClient } from 'matrix-js-sdk/lib/client.js';
import type { Room } from 'matrix-js-sdk/lib/models/room.js';
import type { MatrixEvent } from 'matrix-js-sdk/lib/models/event.js';

/** At most one read-marker request per room per this many ms while messages stream in. */
const WRITE_INTERVAL_MS = 1000;

export class ReadMarkers {
  private readonly client: MatrixClient;
  private readonly userId: string;
  /** Read up to this timestamp, marked here before the request (and its local echo) is made. */
  private readonly local = new Map<string, number>();
  private readonly pendingWrites = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly lastWrite = new Map<string, number>();

  constructor(client: MatrixClient, userId: string) {
    this.client = client;
    this.userId = userId;
  }

  /**
   * Marks the room read up to its latest event. Returns false when there was nothing new, so
   * the caller knows whether what it shows changed.
   */
  markRead(room: Room): boolean {
    const last = lastSentEvent(room);
    if (!last || last.getTs() <= (this.local.get(room.roomId) ?? 0) || room.getEventReadUpTo(this.userId) === last.getId()) return false;
    this.local.set(room.roomId, last.getTs());
    // Opening a room marks it at once (the window may close right after); while messages stream
    // in, one request per interval carries the latest.
    clearTimeout(this.pendingWrites.get(room.roomId));
    const wait = (this.lastWrite.get(room.roomId) ?? 0) + WRITE_INTERVAL_MS - Date.now();
    const write = () => {
      this.pendingWrites.delete(room.roomId);
      this.lastWrite.set(room.roomId, Date.now());
      this.client.setRoomReadMarkers(room.roomId, last.getId()!, last).catch(() => {});
    };
    if (wait <= 0) write();
    else this.pendingWrites.set(room.roomId, setTimeout(write, wait));
    return true;
  }

  stop(): void {
    for (const t of this.pendingWrites.values()) clearTimeout(t);
    this.pendingWrites.clear();
  }
}

/** The newest event the server has (a local echo has no event ID a receipt could name). */
function lastSentEvent(room: Room): MatrixEvent | undefined {
  const events = room.getLiveTimeline().getEvents();
  for (let i = events.length - 1; i >= 0; i--) {
    const ev = events[i]!;
    if (ev.status === null && ev.getId()?.startsWith('$')) return ev;
  }
  return undefined;
}
