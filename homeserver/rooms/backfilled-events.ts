// History fetched from another server (server-server-api.md "Backfilling and retrieving missing
// events"): events older than anything in our timeline. They pass the same auth checks as any
// received event (against their auth events and the state before them), but they neither move the
// room's forward extremities nor its current state, and take stream positions below every existing
// one, so /messages pages back into them and /sync never reports them as new.
import type { PDU } from '../protocol/types.ts';
import { eventsStore } from '../storage/events-store.ts';
import { remoteEventsStore } from '../storage/remote-events-store.ts';
import type { Queryable } from '../storage/sqlite.ts';
import type { EventReader, LoadedEvent, StateIds } from './event-reader.ts';
import { checkAgainst, ownAuthCheck, resolvedStateAfter, stateGroupFor } from './remote-event.ts';
import type { RoomHead } from './room-heads.ts';

/**
 * Persists `events` (any order) as history before the room's oldest timeline event. `statesBefore`
 * holds the state before each of them whose prev_events are unknown here (the batch's lower edge,
 * one event per branch of the DAG). Returns the events stored.
 */
export async function persistBackfilled(
  q: Queryable,
  reader: EventReader,
  head: RoomHead,
  events: Array<{ eventId: string; pdu: PDU }>,
  statesBefore: Map<string, StateIds>,
): Promise<LoadedEvent[]> {
  const sorted = [...events].sort((a, b) => a.pdu.depth - b.pdu.depth || (a.eventId < b.eventId ? -1 : 1));
  const placed: Array<{ eventId: string; pdu: PDU; stateGroup: number }> = [];
  for (const { eventId, pdu } of sorted) {
    const existing = await reader.getEvent(q, eventId);
    if (existing && !existing.outlier) continue;
    if (await remoteEventsStore.getRejected(q, eventId)) continue;
    if (await ownAuthCheck(q, reader, head, pdu)) {
      await remoteEventsStore.insertRejected(q, eventId, head.roomId, 'failed the auth rules against its auth events');
      continue;
    }
    const stateBefore = statesBefore.get(eventId) ?? (await resolvedStateAfter(q, reader, head.version, pdu.prev_events));
    if (!stateBefore) continue;
    if (await checkAgainst(q, reader, head, pdu, stateBefore)) {
      await remoteEventsStore.insertRejected(q, eventId, head.roomId, 'failed the auth rules against the state before it');
      continue;
    }
    const stateGroup = await stateGroupFor(q, reader, head.roomId, stateBefore, undefined);
    // Known so far only as an outlier (send_join's state): it becomes part of the timeline now.
    if (existing) await remoteEventsStore.deleteOutlier(q, eventId);
    placed.push({ eventId, pdu, stateGroup });
    // Later events of this batch read this one's state through the reader.
    reader.remember({ eventId, roomId: head.roomId, streamOrdering: 0, stateGroup, redactedBy: null, pdu });
  }
  // Oldest gets the lowest position; all of them below the room's (and the server's) lowest.
  const lowest = await eventsStore.minStreamOrdering(q);
  const base = Math.min(0, lowest) - placed.length;
  const out: LoadedEvent[] = [];
  for (let i = 0; i < placed.length; i++) {
    const { eventId, pdu, stateGroup } = placed[i]!;
    const streamOrdering = await eventsStore.insertEvent(q, { eventId, roomId: head.roomId, pdu, stateGroup, streamOrdering: base + i });
    const e: LoadedEvent = { eventId, roomId: head.roomId, streamOrdering, stateGroup, redactedBy: null, pdu };
    reader.remember(e);
    out.push(e);
  }
  return out;
}
