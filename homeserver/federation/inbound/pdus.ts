// Inbound PDUs (server-server-api.md "Checks performed on receipt of a PDU"). Per PDU, in order:
// format, signatures, hashes (pdu-checks.ts); then, with the network and outside the write lock,
// whatever we lack: auth events (/event_auth), missing prev_events (/get_missing_events) and, if a
// gap remains, the state before the event (/state_ids); then steps 4-6 in one write job
// (rooms/remote-event.ts). A bad PDU never fails the transaction: it gets an `error` in the answer.
import type { FederationServices } from '../services.ts';
import { checkReceivedPdu, PduCheckError, type CheckedPdu } from '../pdu-checks.ts';
import { fetchEventAuth, fetchMissingEvents, fetchStateBefore } from '../remote-room-data.ts';
import { remoteEventsStore } from '../../storage/remote-events-store.ts';
import { diskFailure } from '../../storage/disk-errors.ts';
import type { StateIds } from '../../rooms/event-reader.ts';
import type { RemoteOutcome } from '../../rooms/remote-event.ts';
import { getRoomVersion } from '../../protocol/room-versions.ts';
import { assertAclAllows } from '../../rooms/server-visibility.ts';
import { computeEventId } from '../../protocol/event-hashing.ts';
import type { PDU } from '../../protocol/types.ts';
import type { Queryable } from '../../storage/sqlite.ts';

/** The per-PDU answer of PUT /send: {} when accepted, { error } when rejected. */
export type PduResults = Record<string, { error?: string }>;

/** Processes a transaction's PDUs from `origin`, in order; never throws for a bad PDU. */
export async function processPdus(s: FederationServices, origin: string, pdus: unknown[]): Promise<PduResults> {
  const results: PduResults = {};
  for (const raw of pdus) {
    const roomId = typeof raw === 'object' && raw !== null ? (raw as { room_id?: unknown }).room_id : undefined;
    // A PDU for a room we are not in cannot even be given an id (that needs the room version).
    const version = typeof roomId === 'string' ? await s.rooms.roomVersion(roomId) : undefined;
    if (typeof roomId !== 'string' || !version) {
      s.log(`ignored a PDU from ${origin} for unknown room ${String(roomId)}`);
      continue;
    }
    let checked: CheckedPdu;
    try {
      // A room's server ACL covers the PDUs a server sends into it ("Server Access Control Lists").
      await assertAclAllows(s.rooms.reader, s.db.reader, roomId, origin).catch(() => {
        throw new PduCheckError(`${origin} is denied by the room's server ACL`);
      });
      checked = await checkReceivedPdu(raw, version, roomId, s.remoteKeys);
    } catch (err) {
      if (!(err instanceof PduCheckError)) throw err;
      const id = eventIdOf(raw, version);
      s.log(`dropped PDU ${id ?? '(no id)'} from ${origin}: ${err.message}`);
      if (id) results[id] = { error: err.message };
      continue;
    }
    try {
      const outcome = await receivePdu(s, origin, roomId, version, checked, true);
      if (outcome.kind === 'rejected') {
        results[checked.eventId] = { error: outcome.reason };
        s.log(`rejected ${checked.eventId} from ${origin}: ${outcome.reason}`);
      } else results[checked.eventId] = {};
    } catch (err) {
      // The disk could not take it: fail the whole transaction (http/disk-errors.ts answers 507),
      // so that the origin sends it again later, rather than a 200 that drops this PDU for good.
      if (diskFailure(err)) throw err;
      s.log(`failed to process ${checked.eventId} from ${origin}`, err);
      results[checked.eventId] = { error: err instanceof Error ? err.message : String(err) };
    }
  }
  return results;
}

/** The id a PDU would have, if it is well-formed enough to compute one. */
function eventIdOf(raw: unknown, version: string): string | undefined {
  const rv = getRoomVersion(version);
  try {
    return rv ? computeEventId(raw as PDU, rv) : undefined;
  } catch {
    return undefined;
  }
}

/** Is the event stored in a usable form (not rejected, not an outlier without state)? */
async function haveWithState(s: FederationServices, eventId: string, q: Queryable = s.db.reader): Promise<boolean> {
  const e = await s.rooms.reader.getEvent(q, eventId);
  return e !== undefined && e.outlier !== 'outlier';
}

/**
 * Fetches what `checked` depends on from `origin`, then persists it. `fillGaps` allows
 * get_missing_events (not used for the events it returns, so the recursion stays one level deep).
 */
export async function receivePdu(
  s: FederationServices,
  origin: string,
  roomId: string,
  version: string,
  checked: CheckedPdu,
  fillGaps: boolean,
): Promise<RemoteOutcome | { kind: 'known' }> {
  const { eventId, pdu } = checked;
  const rejected = await remoteEventsStore.getRejected(s.db.reader, eventId);
  if (rejected) return { kind: 'rejected', reason: rejected.reason };
  if (await haveWithState(s, eventId)) return { kind: 'known' };

  // Auth events we lack: the origin must be able to give us the event's auth chain.
  const knownAuth = await remoteEventsStore.knownIds(s.db.reader, pdu.auth_events);
  if (pdu.auth_events.some((id) => !knownAuth.has(id))) {
    const chain = await fetchEventAuth(s, origin, roomId, eventId, version);
    await s.rooms.write((w) =>
      w.storeOutliers(
        roomId,
        version,
        chain.map(({ eventId: id, pdu: p }) => ({ eventId: id, pdu: p })),
      ),
    );
  }

  // Missing prev_events: first ask for the events in between (limited), oldest first.
  let missing: string[] = [];
  for (const id of pdu.prev_events) if (!(await haveWithState(s, id))) missing.push(id);
  if (missing.length > 0 && fillGaps) {
    const head = await s.rooms.heads.get(s.db.reader, roomId);
    try {
      const between = await fetchMissingEvents(s, origin, roomId, head?.extremities ?? [], [eventId], version, Math.max(0, pdu.depth - 50));
      for (const e of between) {
        if (e.eventId === eventId) continue;
        // One that fails is left to the state fetch below; the others are still worth having.
        await receivePdu(s, origin, roomId, version, e, false).catch((err: unknown) => s.log(`${e.eventId}, missing before ${eventId}, failed`, err));
      }
    } catch (err) {
      s.log(`get_missing_events from ${origin} for ${eventId} failed`, err);
    }
    missing = [];
    for (const id of pdu.prev_events) if (!(await haveWithState(s, id))) missing.push(id);
  }

  // A gap remains: take the state before the event from the origin.
  let stateBefore: StateIds | undefined;
  if (missing.length > 0) stateBefore = await fetchStateBefore(s, origin, roomId, version, eventId);
  return s.rooms.write(async (w) => {
    // Checked again under the write lock: the same event may have come meanwhile by another way
    // (two servers' transactions, or get_missing_events for another PDU), and is stored once.
    if (await haveWithState(s, eventId, w.tx)) return { kind: 'known' as const };
    return w.appendRemote(roomId, { eventId, pdu, ...(stateBefore ? { stateBefore } : {}) });
  });
}
