// The auth chain of a set of events (server-server-api "Retrieving event authorisation
// information"; /state, /state_ids, /event_auth, send_join): every event reachable from them
// through `auth_events`, recursively. Walked iteratively, so a long chain cannot overflow the stack.
import { getRoomVersion } from '../protocol/room-versions.ts';
import { roomsStore } from '../storage/rooms-store.ts';
import type { Queryable } from '../storage/sqlite.ts';
import type { EventReader, LoadedEvent } from './event-reader.ts';

/**
 * Events reachable from `eventIds` through one or more `auth_events` edges. A given event is in
 * the answer only if another given event (or one of their auth events) cites it — as Synapse does
 * and as /state's `auth_chain` expects, where the state's create and power events reappear.
 *
 * In room versions whose room id is the create event's hash (v12), no event lists the create event
 * in `auth_events`, yet the auth rules read it (rooms/v12.md, auth rule 2); a remote server needs
 * it to check the chain (and the spec's auth chain stretches "back to the start of the room"), so
 * every other event counts as citing it.
 *
 * Auth events we do not hold are skipped. Ordered by depth, then event id: parents first.
 */
export async function authChain(reader: EventReader, q: Queryable, eventIds: Iterable<string>): Promise<LoadedEvent[]> {
  const implied = new Map<string, string | null>();
  const citedBy = async (e: LoadedEvent): Promise<string[]> => {
    let createId = implied.get(e.roomId);
    if (createId === undefined) {
      const room = await roomsStore.getRoom(q, e.roomId);
      createId = room && getRoomVersion(room.room_version)?.roomIdFromCreateEvent ? `$${e.roomId.slice(1)}` : null;
      implied.set(e.roomId, createId);
    }
    return createId === null || e.eventId === createId ? e.pdu.auth_events : [...e.pdu.auth_events, createId];
  };

  const found = new Map<string, LoadedEvent>();
  const queued = new Set<string>();
  let frontier: string[] = [];
  for (const id of new Set(eventIds)) {
    const e = await reader.getEvent(q, id);
    if (e) frontier.push(...(await citedBy(e)));
  }
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const id of frontier) {
      if (queued.has(id)) continue;
      queued.add(id);
      const e = await reader.getEvent(q, id);
      if (!e) continue;
      found.set(id, e);
      for (const parent of await citedBy(e)) if (!queued.has(parent)) next.push(parent);
    }
    frontier = next;
  }
  return sortByDepth([...found.values()]);
}

/** Depth ascending, then event id: a stable order two servers agree on. */
export function sortByDepth(events: LoadedEvent[]): LoadedEvent[] {
  return events.sort((a, b) => a.pdu.depth - b.pdu.depth || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
}
