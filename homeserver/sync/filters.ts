// Filters (client-server-api "Filtering"): parsed and validated once, applied to events.
import { MatrixError } from '../http/matrix-error.ts';

export interface EventFilter {
  limit?: number;
  types?: string[];
  not_types?: string[];
  senders?: string[];
  not_senders?: string[];
}

export interface RoomEventFilter extends EventFilter {
  rooms?: string[];
  not_rooms?: string[];
  lazy_load_members?: boolean;
  include_redundant_members?: boolean;
  contains_url?: boolean;
  /** Per-thread notification counts in /sync (push.md "Receiving notifications"). */
  unread_thread_notifications?: boolean;
}

export interface Filter {
  event_fields?: string[];
  event_format?: 'client' | 'federation';
  presence?: EventFilter;
  account_data?: EventFilter;
  room?: {
    rooms?: string[];
    not_rooms?: string[];
    include_leave?: boolean;
    timeline?: RoomEventFilter;
    state?: RoomEventFilter;
    ephemeral?: RoomEventFilter;
    account_data?: RoomEventFilter;
  };
}

function stringList(v: unknown, where: string): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new MatrixError(400, 'M_BAD_JSON', `${where} must be an array of strings`);
  return v as string[];
}

function eventFilter(v: unknown, where: string): RoomEventFilter | undefined {
  if (v === undefined) return undefined;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new MatrixError(400, 'M_BAD_JSON', `${where} must be an object`);
  const o = v as Record<string, unknown>;
  if (o.limit !== undefined && (typeof o.limit !== 'number' || !Number.isInteger(o.limit) || o.limit < 0)) {
    throw new MatrixError(400, 'M_BAD_JSON', `${where}.limit must be a non-negative integer`);
  }
  for (const k of ['types', 'not_types', 'senders', 'not_senders', 'rooms', 'not_rooms']) stringList(o[k], `${where}.${k}`);
  for (const k of ['lazy_load_members', 'include_redundant_members', 'contains_url', 'unread_thread_notifications']) {
    if (o[k] !== undefined && typeof o[k] !== 'boolean') throw new MatrixError(400, 'M_BAD_JSON', `${where}.${k} must be a boolean`);
  }
  return o as RoomEventFilter;
}

/** Validates a filter definition (a POST /filter body or an inline filter). */
export function parseFilter(v: unknown): Filter {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new MatrixError(400, 'M_BAD_JSON', 'Filter must be a JSON object');
  const o = v as Record<string, unknown>;
  stringList(o.event_fields, 'event_fields');
  if (o.event_format !== undefined && o.event_format !== 'client' && o.event_format !== 'federation') {
    throw new MatrixError(400, 'M_BAD_JSON', "event_format must be 'client' or 'federation'");
  }
  eventFilter(o.presence, 'presence');
  eventFilter(o.account_data, 'account_data');
  if (o.room !== undefined) {
    if (o.room === null || typeof o.room !== 'object') throw new MatrixError(400, 'M_BAD_JSON', 'room must be an object');
    const r = o.room as Record<string, unknown>;
    stringList(r.rooms, 'room.rooms');
    stringList(r.not_rooms, 'room.not_rooms');
    if (r.include_leave !== undefined && typeof r.include_leave !== 'boolean') throw new MatrixError(400, 'M_BAD_JSON', 'room.include_leave must be a boolean');
    for (const k of ['timeline', 'state', 'ephemeral', 'account_data']) eventFilter(r[k], `room.${k}`);
  }
  return o as Filter;
}

/** A '*' in a filter pattern matches any run of characters. */
function matches(pattern: string, value: string): boolean {
  if (!pattern.includes('*')) return pattern === value;
  const re = new RegExp(
    '^' +
      pattern
        .split('*')
        .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*') +
      '$',
  );
  return re.test(value);
}

export function eventMatches(
  f: RoomEventFilter | undefined,
  e: { type: string; sender: string; room_id?: string; content?: Record<string, unknown> },
): boolean {
  if (!f) return true;
  if (f.not_types?.some((p) => matches(p, e.type))) return false;
  if (f.types && !f.types.some((p) => matches(p, e.type))) return false;
  if (f.not_senders?.includes(e.sender)) return false;
  if (f.senders && !f.senders.includes(e.sender)) return false;
  if (e.room_id !== undefined) {
    if (f.not_rooms?.includes(e.room_id)) return false;
    if (f.rooms && !f.rooms.includes(e.room_id)) return false;
  }
  if (f.contains_url !== undefined) {
    const has = typeof e.content?.url === 'string';
    if (has !== f.contains_url) return false;
  }
  return true;
}

export function roomIncluded(filter: Filter, roomId: string): boolean {
  const r = filter.room;
  if (!r) return true;
  if (r.not_rooms?.includes(roomId)) return false;
  if (r.rooms && !r.rooms.includes(roomId)) return false;
  return true;
}

/** A /sync timeline's default length, when the filter names none. */
export const DEFAULT_SYNC_TIMELINE_LIMIT = 10;
/**
 * The longest /sync timeline per room, whatever the filter asks: a filter of limit 1,000,000 made
 * one initial sync load every room's whole history. A client shows a screen of messages at first
 * and pages back with /messages from prev_batch; `limited: true` tells it to. Event size is
 * bounded (65,536 bytes), so a room's timeline is at most ~6 MB and usually tens of kB.
 */
export const MAX_SYNC_TIMELINE_LIMIT = 100;

/** The number of timeline events /sync returns per room under `filter`. */
export function syncTimelineLimit(filter: RoomEventFilter | undefined): number {
  return Math.min(filter?.limit ?? DEFAULT_SYNC_TIMELINE_LIMIT, MAX_SYNC_TIMELINE_LIMIT);
}
