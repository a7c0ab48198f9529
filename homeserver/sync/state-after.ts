// /sync's `state_after` (use_state_after, MSC4222, spec v1.16; sync.yaml): a room's state at the
// END of its timeline, where the classic `state` is the state at its start.
import { stateKey } from '../protocol/types.ts';
import type { EventReader, LoadedEvent, StateIds } from '../rooms/event-reader.ts';
import { eventsStore } from '../storage/events-store.ts';
import type { Queryable } from '../storage/sqlite.ts';

export interface StateAfterInput {
  roomId: string;
  /** The room's timeline in this response, oldest first, before the visibility and timeline filters (they hide events, not state). */
  timeline: readonly LoadedEvent[];
  /** The stream position the client's state is at; undefined for all the state (initial sync, full_state, a new membership). */
  since: number | undefined;
  /** The state when no timeline event carries any (no new events): the room's current state. */
  currentState: () => Promise<StateIds>;
  /** lazy_load_members: the timeline's senders and the user, whose member events alone are sent. */
  lazyMembers?: Set<string>;
}

/**
 * The state events a client needs to reach the state at the end of `timeline` from the state it
 * has at `since`: every entry that differs (sync.yaml, `state_after`). It is a difference of two
 * resolved states, not a list of the state events sent in between, so a state event in the
 * timeline that state resolution overruled is not in it, and a key that a merge of forks changed
 * without any new event is. The client takes state only from here, never from the timeline.
 */
export async function stateAfterTimeline(q: Queryable, reader: EventReader, input: StateAfterInput): Promise<LoadedEvent[]> {
  // An invite or knock received over federation before a join is kept without state
  // (RoomWriter.storeOutOfRoomMembership): the end is then the last event that has some.
  // No new event, no new state (a room sent for its receipts or typing alone).
  if (input.since !== undefined && input.timeline.length === 0) return [];
  const last = input.timeline.findLast((e) => e.stateGroup !== null);
  const atEnd = last ? await reader.stateAfter(q, last) : await input.currentState();
  const atSince = input.since === undefined ? new Map<string, string>() : await stateAtPosition(q, reader, input.roomId, input.since);
  const ids = new Set<string>();
  for (const [key, id] of atEnd) if (atSince.get(key) !== id) ids.add(id);
  const lazy = input.lazyMembers;
  if (lazy) {
    // A membership changed in the timeline reaches the client only here (it must not take state
    // from the timeline), so the member events of the timeline count as needed too.
    const needed = new Set(lazy);
    for (const e of input.timeline) if (e.pdu.type === 'm.room.member' && e.pdu.state_key !== undefined) needed.add(e.pdu.state_key);
    const memberPrefix = stateKey('m.room.member', '');
    for (const [key, id] of atEnd) {
      if (!key.startsWith(memberPrefix)) continue;
      if (!needed.has(key.slice(memberPrefix.length))) ids.delete(id);
      // Incremental lazy-loading sends the needed members even when unchanged: the client may
      // never have been sent them (as the classic `state` does).
      else if (input.since !== undefined) ids.add(id);
    }
  }
  return reader.getEvents(q, ids);
}

/** The state after the room's last event at or before stream position `position` (none: empty). */
async function stateAtPosition(q: Queryable, reader: EventReader, roomId: string, position: number): Promise<StateIds> {
  const [row] = await eventsStore.roomEventsBetween(q, roomId, 0, position, 1, true);
  const ev = row ? await reader.getEvent(q, row.event_id) : undefined;
  // An out-of-room membership (no state kept): the client had no state of the room either.
  return ev && ev.stateGroup !== null ? reader.stateAfter(q, ev) : new Map();
}
