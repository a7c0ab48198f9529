// History fetched from another server (server-server-api.md "Backfilling and retrieving missing
// events"): events older than the ones that cite them, either before the room's oldest event or in
// a gap in the middle (while this server had no member). They pass the same auth checks as any
// received event (against their auth events and the state before them), but they neither move the
// room's forward extremities nor its current state, and take stream positions below every existing
// one, so /sync never reports them as new; /messages pages in the room's order (depth, then
// position), which puts them where they belong.
import type { PDU } from '../protocol/types.ts';
import { eventsStore } from '../storage/events-store.ts';
import { remoteEventsStore } from '../storage/remote-events-store.ts';
import type { Queryable } from '../storage/sqlite.ts';
import type { EventReader, LoadedEvent, StateIds } from './event-reader.ts';
import { checkAgainst, ownAuthCheck, resolvedStateAfter, stateGroupFor } from './remote-event.ts';
import type { RoomHead } from './room-heads.ts';

/** Why an event of a batch was not stored, and whether asking the server for more could help. */
export interface NotPlaced {
  eventId: string;
  reason: string;
  /** 'state': the state before it is unknown (a prev event is missing); 'auth': an auth event is missing; 'rejected': for good. */
  kind: 'state' | 'auth' | 'rejected';
}

export interface BackfillOutcome {
  stored: LoadedEvent[];
  notPlaced: NotPlaced[];
}

/**
 * The batch in an order where each event comes after the ones of the batch it cites (prev_events
 * and auth_events): the DAG's order. Depth is only the sender's hint (server-server-api.md
 * "Backfilling and retrieving missing events"; an older Synapse gives a new room's power levels the
 * depth of the creator's join), so it only breaks ties between events the DAG leaves unordered.
 * Events on a cycle (only a forger makes one) are returned separately.
 */
export function topologicalOrder<T extends { eventId: string; pdu: PDU }>(events: T[]): { ordered: T[]; cyclic: T[] } {
  const byId = new Map(events.map((e) => [e.eventId, e]));
  const waitingOn = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const e of events) {
    const deps = new Set([...e.pdu.prev_events, ...e.pdu.auth_events].filter((id) => id !== e.eventId && byId.has(id)));
    waitingOn.set(e.eventId, deps.size);
    for (const d of deps) {
      const list = dependents.get(d) ?? [];
      list.push(e.eventId);
      dependents.set(d, list);
    }
  }
  const hint = (a: T, b: T) => a.pdu.depth - b.pdu.depth || (a.eventId < b.eventId ? -1 : 1);
  const ready = events.filter((e) => waitingOn.get(e.eventId) === 0).sort(hint);
  const ordered: T[] = [];
  while (ready.length > 0) {
    const e = ready.shift()!;
    ordered.push(e);
    let added = false;
    for (const id of dependents.get(e.eventId) ?? []) {
      const left = waitingOn.get(id)! - 1;
      waitingOn.set(id, left);
      if (left === 0) {
        ready.push(byId.get(id)!);
        added = true;
      }
    }
    if (added) ready.sort(hint);
  }
  const done = new Set(ordered.map((e) => e.eventId));
  return { ordered, cyclic: events.filter((e) => !done.has(e.eventId)) };
}

/**
 * Persists `events` (any order) as history. `statesBefore` holds the state before each of them
 * whose prev_events are unknown here (the batch's lower edge, one event per branch of the DAG).
 * Returns the events stored, and the ones that were not, each with its reason: the ones that may
 * yet be placed (a missing auth or prev event) are not marked rejected, so a retry can place them.
 */
export async function persistBackfilled(
  q: Queryable,
  reader: EventReader,
  head: RoomHead,
  events: Array<{ eventId: string; pdu: PDU }>,
  statesBefore: Map<string, StateIds>,
): Promise<BackfillOutcome> {
  const { ordered, cyclic } = topologicalOrder(events);
  const notPlaced: NotPlaced[] = [];
  const refuse = async (eventId: string, reason: string) => {
    await remoteEventsStore.insertRejected(q, eventId, head.roomId, reason);
    notPlaced.push({ eventId, reason, kind: 'rejected' });
  };
  for (const e of cyclic) await refuse(e.eventId, 'its prev_events or auth_events form a cycle');
  const placed: Array<{ eventId: string; pdu: PDU; stateGroup: number }> = [];
  for (const { eventId, pdu } of ordered) {
    const existing = await reader.getEvent(q, eventId);
    if (existing && !existing.outlier) continue;
    if (await remoteEventsStore.getRejected(q, eventId)) continue;
    // An auth event we lack (not rejected, just unknown) may still come: not a reason to reject.
    let missingAuth: string | undefined;
    for (const id of pdu.auth_events) if (!(await reader.getEvent(q, id)) && !(await remoteEventsStore.getRejected(q, id))) missingAuth = id;
    if (missingAuth) {
      notPlaced.push({ eventId, reason: `auth event ${missingAuth} is unknown`, kind: 'auth' });
      continue;
    }
    const own = await ownAuthCheck(q, reader, head, pdu);
    if (own) {
      await refuse(eventId, `failed the auth rules against its auth events: ${own}`);
      continue;
    }
    const stateBefore = statesBefore.get(eventId) ?? (await resolvedStateAfter(q, reader, head.version, pdu.prev_events));
    if (!stateBefore) {
      notPlaced.push({ eventId, reason: 'the state before it is unknown (a prev event is missing or not placed)', kind: 'state' });
      continue;
    }
    const before = await checkAgainst(q, reader, head, pdu, stateBefore);
    if (before) {
      await refuse(eventId, `failed the auth rules against the state before it: ${before}`);
      continue;
    }
    // The state group of its first prev event when the state is the same (a message after a
    // message): not a full snapshot of the room's state per event.
    const firstPrev = pdu.prev_events.length > 0 ? await reader.getEvent(q, pdu.prev_events[0]!) : undefined;
    const base =
      firstPrev && !firstPrev.outlier && firstPrev.stateGroup !== null
        ? { group: firstPrev.stateGroup, state: await reader.stateOfGroup(q, firstPrev.stateGroup) }
        : undefined;
    const stateGroup = await stateGroupFor(q, reader, head.roomId, stateBefore, base);
    // Known so far only as an outlier (send_join's state): it becomes part of the timeline now.
    if (existing) await remoteEventsStore.deleteOutlier(q, eventId);
    placed.push({ eventId, pdu, stateGroup });
    // Later events of this batch read this one's state through the reader.
    reader.remember({ eventId, roomId: head.roomId, streamOrdering: 0, stateGroup, redactedBy: null, pdu });
  }
  // Below the server's lowest position, in the DAG's order (an event above the ones it cites).
  const lowest = await eventsStore.minStreamOrdering(q);
  const base = Math.min(0, lowest) - placed.length;
  const stored: LoadedEvent[] = [];
  for (let i = 0; i < placed.length; i++) {
    const { eventId, pdu, stateGroup } = placed[i]!;
    const streamOrdering = await eventsStore.insertEvent(q, { eventId, roomId: head.roomId, pdu, stateGroup, streamOrdering: base + i });
    const e: LoadedEvent = { eventId, roomId: head.roomId, streamOrdering, stateGroup, redactedBy: null, pdu };
    reader.remember(e);
    stored.push(e);
  }
  return { stored, notPlaced };
}
