// Asking another server for room data we lack: single events, an event's auth chain, the state at
// an event, the events missing between our front and a new event (server-server-api.md "Retrieving
// events", "Backfilling and retrieving missing events"). Every event that comes back is checked
// (pdu-checks.ts) before the caller may use it; the ones that fail are dropped.
import type { FederationServices } from './services.ts';
import { checkReceivedPdu, PduCheckError, type CheckedPdu } from './pdu-checks.ts';
import { remoteEventsStore } from '../storage/remote-events-store.ts';
import { stateKey, type PDU } from '../protocol/types.ts';
import type { StateIds } from '../rooms/event-reader.ts';

const enc = encodeURIComponent;

/** Checks each raw PDU; the bad ones are logged and left out. */
export async function checkAll(s: FederationServices, origin: string, raws: unknown, version: string, roomId: string): Promise<CheckedPdu[]> {
  if (!Array.isArray(raws)) return [];
  const out: CheckedPdu[] = [];
  for (const raw of raws) {
    try {
      out.push(await checkReceivedPdu(raw, version, roomId, s.remoteKeys));
    } catch (err) {
      if (!(err instanceof PduCheckError)) throw err;
      s.log(`dropped an event from ${origin}: ${err.message}`);
    }
  }
  return out;
}

export async function fetchEvent(s: FederationServices, dest: string, eventId: string, version: string, roomId: string): Promise<CheckedPdu | undefined> {
  const body = await s.client.request<{ pdus?: unknown }>(dest, 'GET', `/_matrix/federation/v1/event/${enc(eventId)}`);
  const [checked] = await checkAll(s, dest, body.pdus, version, roomId);
  return checked && checked.eventId === eventId ? checked : undefined;
}

/** The full auth chain of an event (event_auth.yaml). */
export async function fetchEventAuth(s: FederationServices, dest: string, roomId: string, eventId: string, version: string): Promise<CheckedPdu[]> {
  const body = await s.client.request<{ auth_chain?: unknown }>(dest, 'GET', `/_matrix/federation/v1/event_auth/${enc(roomId)}/${enc(eventId)}`);
  return checkAll(s, dest, body.auth_chain, version, roomId);
}

/** The ids of the state before `eventId` and of its auth chain (state_ids.yaml). */
export async function fetchStateIds(
  s: FederationServices,
  dest: string,
  roomId: string,
  eventId: string,
): Promise<{ pduIds: string[]; authChainIds: string[] }> {
  const body = await s.client.request<{ pdu_ids?: unknown; auth_chain_ids?: unknown }>(
    dest,
    'GET',
    `/_matrix/federation/v1/state_ids/${enc(roomId)}?event_id=${enc(eventId)}`,
  );
  const ids = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  return { pduIds: ids(body.pdu_ids), authChainIds: ids(body.auth_chain_ids) };
}

/** Events between our forward extremities and `latest`, oldest first (get_missing_events.yaml). */
export async function fetchMissingEvents(
  s: FederationServices,
  dest: string,
  roomId: string,
  earliest: string[],
  latest: string[],
  version: string,
  minDepth: number,
): Promise<CheckedPdu[]> {
  const body = await s.client.request<{ events?: unknown }>(dest, 'POST', `/_matrix/federation/v1/get_missing_events/${enc(roomId)}`, {
    earliest_events: earliest,
    latest_events: latest,
    limit: 20,
    min_depth: minDepth,
  });
  const events = await checkAll(s, dest, body.events, version, roomId);
  return events.sort((a, b) => a.pdu.depth - b.pdu.depth);
}

/** Events of the DAG before `from`, newest first (backfill.yaml). */
export async function fetchBackfill(
  s: FederationServices,
  dest: string,
  roomId: string,
  from: string[],
  limit: number,
  version: string,
): Promise<CheckedPdu[]> {
  const q = from.map((id) => `v=${enc(id)}`).join('&');
  const body = await s.client.request<{ pdus?: unknown }>(dest, 'GET', `/_matrix/federation/v1/backfill/${enc(roomId)}?${q}&limit=${limit}`);
  return checkAll(s, dest, body.pdus, version, roomId);
}

/**
 * The state before `eventId` as `server` sees it: /state_ids, then every event of it (and of its
 * auth chain) we lack, checked and stored as outliers. Entries we could not get are left out.
 */
export async function fetchStateBefore(s: FederationServices, server: string, roomId: string, version: string, eventId: string): Promise<StateIds> {
  const { pduIds, authChainIds } = await fetchStateIds(s, server, roomId, eventId);
  const all = [...new Set([...authChainIds, ...pduIds])];
  const known = await remoteEventsStore.knownIds(s.db.reader, all);
  const fetched: Array<{ eventId: string; pdu: PDU }> = [];
  for (const id of all) {
    if (known.has(id)) continue;
    const e = await fetchEvent(s, server, id, version, roomId).catch((err) => {
      s.log(`could not fetch ${id} from ${server}`, err);
      return undefined;
    });
    if (e) fetched.push({ eventId: e.eventId, pdu: e.pdu });
  }
  if (fetched.length > 0) await s.rooms.write((w) => w.storeOutliers(roomId, version, fetched));
  const state: StateIds = new Map();
  for (const id of pduIds) {
    const e = await s.rooms.reader.getEvent(s.db.reader, id);
    if (e && e.pdu.state_key !== undefined) state.set(stateKey(e.pdu.type, e.pdu.state_key), id);
  }
  return state;
}
