// Fetching history a room had before this server joined (server-server-api.md "Backfilling and
// retrieving missing events"): when /messages runs out of local events, ask a server in the room for
// the events before our oldest one and store them as history (rooms/backfilled-events.ts).
import type { FederationServices } from './services.ts';
import { fetchBackfill, fetchStateBefore } from './remote-room-data.ts';
import { serversInRoom } from '../rooms/servers-in-room.ts';
import { remoteEventsStore } from '../storage/remote-events-store.ts';
import type { StateIds } from '../rooms/event-reader.ts';

/** The most backward extremities one backfill request starts from. */
const MAX_BACKFILL_FROM = 20;

/** One backfill at a time per room: concurrent /messages calls wait for the same one. */
const running = new Map<string, Promise<number>>();

/** Fetches up to `limit` events before the room's oldest timeline event; resolves with how many were stored. */
export function backfillRoom(s: FederationServices, roomId: string, limit: number): Promise<number> {
  let p = running.get(roomId);
  if (!p) {
    p = doBackfill(s, roomId, limit).finally(() => running.delete(roomId));
    running.set(roomId, p);
  }
  return p;
}

async function doBackfill(s: FederationServices, roomId: string, limit: number): Promise<number> {
  const q = s.db.reader;
  const oldestId = await remoteEventsStore.oldestTimelineEvent(q, roomId);
  const oldest = oldestId ? await s.rooms.reader.getEvent(q, oldestId) : undefined;
  if (!oldest || oldest.pdu.type === 'm.room.create' || oldest.pdu.prev_events.length === 0) return 0;
  const version = await s.rooms.roomVersion(roomId);
  if (!version) return 0;
  const from = await remoteEventsStore.backwardExtremities(q, roomId, MAX_BACKFILL_FROM);
  if (from.length === 0) return 0;
  const servers = [...(await serversInRoom(q, roomId))].filter((x) => x !== s.serverName);
  for (const server of servers) {
    try {
      const events = (await fetchBackfill(s, server, roomId, from, Math.min(100, limit + from.length), version)).filter((e) => !from.includes(e.eventId));
      if (events.length === 0) continue;
      // An event whose prev_events are neither in this batch nor in our timeline (the batch's
      // lower edge: one per branch of the DAG) takes the state before it from the server.
      const inBatch = new Set(events.map((e) => e.eventId));
      const statesBefore = new Map<string, StateIds>();
      for (const e of events) {
        let gap = false;
        for (const id of e.pdu.prev_events) {
          if (inBatch.has(id)) continue;
          const known = await s.rooms.reader.getEvent(q, id);
          if (!known || known.outlier === 'outlier') gap = true;
        }
        if (gap) statesBefore.set(e.eventId, await fetchStateBefore(s, server, roomId, version, e.eventId));
      }
      const stored = await s.rooms.write((w) =>
        w.storeBackfilled(
          roomId,
          events.map((e) => ({ eventId: e.eventId, pdu: e.pdu })),
          statesBefore,
        ),
      );
      return stored.length;
    } catch (err) {
      s.log(`backfill of ${roomId} from ${server} failed`, err);
    }
  }
  return 0;
}
