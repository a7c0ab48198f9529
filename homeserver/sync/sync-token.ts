// Stream tokens: `s<events>_<account_data>_<receipts>_<typing>_<presence>_<device_lists>_<to_device>`.
// The spec leaves their format to the server; /messages accepts the same tokens, since a position
// in the event stream is also a pagination point. Missing trailing parts read as 0, so older
// tokens stay valid; new streams are appended at the end.
import { MatrixError } from '../http/matrix-error.ts';

export interface SyncToken {
  events: number;
  accountData: number;
  receipts: number;
  typing: number;
  presence: number;
  /** Changes to users' devices and keys (e2ee/device-lists.ts). */
  deviceLists: number;
  /** Send-to-device messages; syncing with a token acknowledges those up to here (e2ee/to-device.ts). */
  toDevice: number;
}

export function formatSyncToken(t: SyncToken): string {
  return `s${t.events}_${t.accountData}_${t.receipts}_${t.typing}_${t.presence}_${t.deviceLists}_${t.toDevice}`;
}

export function parseSyncToken(s: string): SyncToken {
  const m = /^s(\d+)(?:_(\d+))?(?:_(\d+))?(?:_(\d+))?(?:_(\d+))?(?:_(\d+))?(?:_(\d+))?$/.exec(s);
  if (!m) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid sync token '${s}'`);
  const n = (i: number) => Number(m[i] ?? 0);
  return { events: n(1), accountData: n(2), receipts: n(3), typing: n(4), presence: n(5), deviceLists: n(6), toDevice: n(7) };
}

/** A pagination token is a position between events in the stream: `s<n>` means "after event n", `h<n>` position -n (backfilled history). */
export function parsePaginationToken(s: string): number {
  const point = ROOM_ORDER_TOKEN.exec(s);
  if (point) return Number(point[2]);
  const m = /^[st](\d+)(?:_\d+)*$/.exec(s) ?? /^h()(\d+)$/.exec(s);
  // The seed's M_BAD_PAGINATION: the current spec names no code for a malformed token.
  if (!m) throw new MatrixError(400, 'M_BAD_PAGINATION', `Invalid pagination token '${s}'`);
  return m[2] !== undefined ? -Number(m[2]) : Number(m[1]);
}

/** Positions below 1 belong to history backfilled from other servers (rooms/backfilled-events.ts). */
export function formatPaginationToken(position: number): string {
  return position < 0 ? `h${-position}` : `s${position}`;
}

/**
 * /messages' own tokens, `d<depth>_<position>`: a point in the room's order (depth, then position;
 * storage/events-store.ts roomEventsInOrder), so that the next page continues where this one
 * stopped even when history filled in later sits between events stored long before it.
 */
const ROOM_ORDER_TOKEN = /^d(\d{1,15})_(-?\d{1,15})$/;

/** Where a /messages page starts: a stream position (from /sync, /context) or a point in the room's order. */
export type RoomPaginationPoint = { stream: number; key?: undefined } | { key: { depth: number; stream: number }; stream?: undefined };

export function parseRoomPaginationToken(s: string): RoomPaginationPoint {
  const m = ROOM_ORDER_TOKEN.exec(s);
  if (m) return { key: { depth: Number(m[1]), stream: Number(m[2]) } };
  return { stream: parsePaginationToken(s) };
}

export function formatRoomOrderToken(key: { depth: number; stream: number }): string {
  return `d${key.depth}_${key.stream}`;
}
