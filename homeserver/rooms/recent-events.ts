// The newest timeline events of each room, as committed since this process started: an
// incremental /sync asks for a room's events after its token, nearly always the last few, and
// gets their ids without a query. Older positions than the ones kept are answered "unknown", and
// the caller queries the events table as before.

/** Events kept per room; a sync's timeline limit is 10 by default (and one more tells it is limited). */
const PER_ROOM = 64;
/** Rooms kept; past this the least recently written one is dropped. */
const MAX_ROOMS = 2_000;

interface RoomTail {
  /** Every event of the room after this position is in `ids`. */
  from: number;
  /** [stream ordering, event id], oldest first. */
  ids: Array<[number, string]>;
}

export class RecentEvents {
  private readonly rooms = new Map<string, RoomTail>();
  /** Every event committed after this position was recorded here. */
  private start: number;

  constructor(start: number) {
    this.start = start;
  }

  /** An event committed to the room's timeline; events arrive in stream order. */
  record(roomId: string, streamOrdering: number, eventId: string): void {
    let tail = this.rooms.get(roomId);
    if (tail) this.rooms.delete(roomId);
    else tail = { from: this.start, ids: [] };
    this.rooms.set(roomId, tail);
    tail.ids.push([streamOrdering, eventId]);
    if (tail.ids.length > PER_ROOM) tail.from = tail.ids.shift()![0];
    if (this.rooms.size > MAX_ROOMS) {
      // The room written least recently is dropped: a room unknown here is then known to have no
      // events only after the current position.
      this.rooms.delete(this.rooms.keys().next().value as string);
      this.start = Math.max(this.start, streamOrdering);
    }
  }

  /**
   * Ids of the room's events in (after, upTo], newest first, at most `limit`; undefined when
   * the events after `after` are not all known here.
   */
  between(roomId: string, after: number, upTo: number, limit: number): string[] | undefined {
    const tail = this.rooms.get(roomId);
    if (!tail) return after >= this.start ? [] : undefined;
    if (after < tail.from) return undefined;
    const out: string[] = [];
    for (let i = tail.ids.length - 1; i >= 0 && out.length < limit; i--) {
      const [position, id] = tail.ids[i]!;
      if (position <= after) break;
      if (position <= upTo) out.push(id);
    }
    return out;
  }
}
