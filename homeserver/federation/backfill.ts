// Fetching history this server lacks (server-server-api.md "Backfilling and retrieving missing
// events"): before the room's oldest event (the room was joined late) or in a gap in the middle
// (this server had no member for a while). /messages finds the gap (a backward extremity: an event
// whose prev_events we lack) and asks a server in the room for the events before it; they are
// placed by their prev_events (rooms/backfilled-events.ts). What cannot be placed at once (an auth
// event or the state before it unknown) is fetched and tried again; what is refused is logged.
import type { FederationServices } from './services.ts';
import { fetchBackfill, fetchEventAuth, fetchStateBefore } from './remote-room-data.ts';
import { serversInRoom } from '../rooms/servers-in-room.ts';
import type { StateIds } from '../rooms/event-reader.ts';
import type { NotPlaced } from '../rooms/backfilled-events.ts';
import type { PDU } from '../protocol/types.ts';

/**
 * The most gaps one fill works on, one request each (a request per gap, not one for all: /backfill
 * answers the events nearest its starting points first, so a gap nobody can fill, e.g. before an
 * event whose signing server is gone, would use up the answer of every request it is part of).
 */
export const MAX_GAPS_PER_FILL = 5;

/** The most events of one batch that get their auth chain or prior state fetched per retry round. */
const MAX_REFETCH_PER_ROUND = 20;

/** The most events one request asks for: what our own /backfill answers at most (routes/backfill.ts MAX_BACKFILL). */
const MAX_BACKFILL_REQUEST = 100;

/**
 * A gap that a server could not fill (it lacks the events too, or refuses us) is asked again only
 * after this long: /messages pages every few hundred milliseconds while a user scrolls, and must
 * not send a request per page for history nobody can give.
 */
export const GAP_RETRY_MS = 60_000;

/** Rounds of "fetch what is missing, then try the events not yet placed again" after the first. */
const PLACEMENT_RETRIES = 2;

// Both maps are keyed by our server name too: tests run several homeservers in one process.

/** One backfill at a time per room: concurrent /messages calls wait for the same one. */
const running = new Map<string, Promise<number>>();

/** Backward extremities whose last fill brought nothing, with when. */
const unfillable = new Map<string, number>();

/**
 * Fetches up to `limit` events before the backward extremities `from` (events whose prev_events
 * we lack) and stores the ones that pass the checks; resolves with how many were stored.
 */
export function backfillBefore(s: FederationServices, roomId: string, from: string[], limit: number): Promise<number> {
  const key = `${s.serverName}\u0000${roomId}`;
  let p = running.get(key);
  if (!p) {
    p = doBackfill(s, roomId, from, limit).finally(() => running.delete(key));
    running.set(key, p);
  }
  return p;
}

async function doBackfill(s: FederationServices, roomId: string, extremities: string[], limit: number): Promise<number> {
  const now = Date.now();
  // Entries past their wait say nothing any more: dropped, so the map stays as small as the gaps
  // that are waiting.
  for (const [id, at] of unfillable) if (now - at >= GAP_RETRY_MS) unfillable.delete(id);
  const mark = (id: string) => `${s.serverName}\u0000${id}`;
  const from = extremities.filter((id) => !unfillable.has(mark(id))).slice(0, MAX_GAPS_PER_FILL);
  if (from.length === 0) return 0;
  const version = await s.rooms.roomVersion(roomId);
  if (!version) return 0;
  const servers = [...(await serversInRoom(s.db.reader, roomId))].filter((x) => x !== s.serverName);
  let stored = 0;
  for (const id of from) {
    if (stored >= limit) break;
    const n = await fillGap(s, roomId, version, servers, id, limit);
    if (n === 0) unfillable.set(mark(id), Date.now());
    else unfillable.delete(mark(id));
    stored += n;
  }
  return stored;
}

/** The events before one backward extremity, from the first server that has any we lack and can store. */
async function fillGap(s: FederationServices, roomId: string, version: string, servers: string[], extremity: string, limit: number): Promise<number> {
  const q = s.db.reader;
  for (const server of servers) {
    try {
      const fetched = await fetchBackfill(s, server, roomId, [extremity], Math.min(MAX_BACKFILL_REQUEST, limit + 1), version);
      const events: Array<{ eventId: string; pdu: PDU }> = [];
      for (const e of fetched) {
        const known = await s.rooms.reader.getEvent(q, e.eventId);
        if (e.eventId !== extremity && (!known || known.outlier === 'outlier')) events.push({ eventId: e.eventId, pdu: e.pdu });
      }
      if (events.length === 0) continue;
      const stored = await placeBatch(s, server, roomId, version, events);
      if (stored > 0) return stored;
    } catch (err) {
      s.log(`backfill of ${roomId} before ${extremity} from ${server} failed`, err);
    }
  }
  s.log(`backfill of ${roomId}: no server gave events before ${extremity} that could be stored`);
  return 0;
}

/**
 * Stores one server's batch: the state before each event at its lower edge comes from that server,
 * then the events are placed; the ones that could not be placed yet get what they lack (their auth
 * chain, the state before them) and are tried again. Resolves with how many were stored.
 */
async function placeBatch(
  s: FederationServices,
  server: string,
  roomId: string,
  version: string,
  batch: Array<{ eventId: string; pdu: PDU }>,
): Promise<number> {
  const q = s.db.reader;
  const inBatch = new Set(batch.map((e) => e.eventId));
  // An event whose prev_events are neither in this batch nor in our timeline (the batch's lower
  // edge: one per branch of the DAG) takes the state before it from the server.
  const statesBefore = new Map<string, StateIds>();
  for (const e of batch) {
    let gap = false;
    for (const id of e.pdu.prev_events) {
      if (inBatch.has(id)) continue;
      const known = await s.rooms.reader.getEvent(q, id);
      if (!known || known.outlier === 'outlier') gap = true;
    }
    if (gap) statesBefore.set(e.eventId, await fetchStateBefore(s, server, roomId, version, e.eventId));
  }
  let pending = batch;
  let stored = 0;
  const refused: NotPlaced[] = [];
  let retry: NotPlaced[];
  for (let round = 0; ; round++) {
    const outcome = await s.rooms.write((w) => w.storeBackfilled(roomId, pending, statesBefore));
    stored += outcome.stored.length;
    refused.push(...outcome.notPlaced.filter((n) => n.kind === 'rejected'));
    retry = outcome.notPlaced.filter((n) => n.kind !== 'rejected');
    if (retry.length === 0 || round === PLACEMENT_RETRIES) break;
    const waiting = new Set(retry.map((n) => n.eventId));
    const byId = new Map(batch.map((e) => [e.eventId, e]));
    let fetchedSomething = false;
    for (const n of retry.slice(0, MAX_REFETCH_PER_ROUND)) {
      const e = byId.get(n.eventId)!;
      if (n.kind === 'auth') {
        // Its full auth chain (event_auth.yaml), stored as outliers that its auth check can read.
        const chain = await fetchEventAuth(s, server, roomId, n.eventId, version);
        if (chain.length > 0) {
          await s.rooms.write((w) =>
            w.storeOutliers(
              roomId,
              version,
              chain.map((c) => ({ eventId: c.eventId, pdu: c.pdu })),
            ),
          );
          fetchedSomething = true;
        }
      } else if (!e.pdu.prev_events.some((id) => waiting.has(id))) {
        // The lowest of the waiting ones on its branch: a prev event of it is missing or was refused.
        statesBefore.set(n.eventId, await fetchStateBefore(s, server, roomId, version, n.eventId));
        fetchedSomething = true;
      }
    }
    if (!fetchedSomething) break;
    pending = batch.filter((e) => waiting.has(e.eventId));
  }
  // Never dropped silently: what is left out, and why.
  for (const n of [...refused, ...retry]) s.log(`backfill of ${roomId} from ${server}: ${n.eventId} not stored: ${n.reason}`);
  return stored;
}
