// Fetching history a room had before this server joined (server-server-api.md "Backfilling and
// retrieving missing events"): when /messages runs out of local events, ask a server in the room for
// the events before our oldest one and store them as history (rooms/backfilled-events.ts).
import type { FederationServices } from './services.ts';
import { fetchBackfill, fetchStateBefore } from './remote-room-data.ts';
import { serversInRoom } from '../rooms/servers-in-room.ts';
import { remoteEventsStore } from '../storage/remote-events-store.ts';

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
  const servers = [...(await serversInRoom(q, roomId))].filter((x) => x !== s.serverName);
  for (const server of servers) {
    try {
      const events = (await fetchBackfill(s, server, roomId, [oldest.eventId], Math.min(100, limit + 1), version)).filter((e) => e.eventId !== oldest.eventId);
      if (events.length === 0) continue;
      // The oldest fetched event's prev_events are unknown here: its state comes from the server.
      const first = events.reduce((a, b) => (b.pdu.depth < a.pdu.depth ? b : a));
      const state = await fetchStateBefore(s, server, roomId, version, first.eventId);
      const stored = await s.rooms.write((w) => w.storeBackfilled(roomId, events.map((e) => ({ eventId: e.eventId, pdu: e.pdu })), state));
      return stored.length;
    } catch (err) {
      s.log(`backfill of ${roomId} from ${server} failed`, err);
    }
  }
  return 0;
}
