// The newest timeline events of each room, as committed since this process started: an
// incremental /sync asks for a room's events after its token, nearly always the last few, and
// gets their ids without a query. Older positions than the ones kept are answered "unknown", and
// the caller queries the events table as before.

import { Lru } from './lru.ts';

/** Events kept per room; a sync's timeline limit is 10 by default (and one more tells it is limited). */
const PER_ROOM = 64;
/** Rooms kept; past this the rooms written least recently are dropped (rooms/lru.ts). */
const MAX_ROOMS = 2_000;

interface RoomTail {
  /** Every event of the room after this position is in `ids`. */
  from: number;
  /** [stream ordering, event id], oldest first. */
  ids: Array<[number, string]>;
}

export class RecentEvents {
  /** Every event committed after this position was recorded here. */
  private start: number;
  /** The position of the last event recorded. */
  private last: number;
  // A room dropped here is then known to have no events only after the current position.
  private readonly rooms = new Lru<string, RoomTail>(MAX_ROOMS, () => (this.start = Math.max(this.start, this.last)));

  constructor(start: number) {
    this.start = start;
    this.last = start;
  }

  /** An event committed to the room's timeline; events arrive in stream order. */
  record(roomId: string, streamOrdering: number, eventId: string): void {
    this.last = streamOrdering;
    let tail = this.rooms.get(roomId);
    if (!tail) {
      tail = { from: this.start, ids: [] };
      this.rooms.set(roomId, tail);
    }
    tail.ids.push([streamOrdering, eventId]);
    if (tail.ids.length > PER_ROOM) tail.from = tail.ids.shift()![0];
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
