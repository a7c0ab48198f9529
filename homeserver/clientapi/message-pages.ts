// The pages of GET /rooms/{roomId}/messages (message_pagination.yaml): a room's events in the
// room's order (depth, then position), and the history this server lacks fetched as the pages
// reach it, wherever it is (server-server-api.md "Backfilling and retrieving missing events").
import { eventsStore, type EventRow, type RoomOrderBound } from '../storage/events-store.ts';
import { remoteEventsStore } from '../storage/remote-events-store.ts';
import { backfillBefore } from '../federation/backfill.ts';
import type { FederationServices } from '../federation/services.ts';
import type { Queryable } from '../storage/sqlite.ts';
import type { RoomPaginationPoint } from '../sync/sync-token.ts';

/**
 * How many times one page fills a gap and looks again: a fill stores at most one request's events
 * (100), and a page that meets more gaps than that leaves them to the next page, so that one
 * request's work stays bounded.
 */
export const MAX_GAP_FILLS_PER_PAGE = 3;

export interface PageRequest {
  roomId: string;
  dir: 'b' | 'f';
  limit: number;
  from: RoomPaginationPoint | undefined;
  to: RoomPaginationPoint | undefined;
  /** Bounds every page keeps to: the server's committed position, and a former member's leave. */
  ceiling: RoomOrderBound[];
}

function bound(op: '<=' | '>', p: RoomPaginationPoint): RoomOrderBound {
  return p.key ? { op, key: p.key } : { op, stream: p.stream };
}

/** Backwards: at or below `from`, above `to`; forwards: above `from`, at or below `to`. */
function boundsOf(r: PageRequest): RoomOrderBound[] {
  const out = [...r.ceiling];
  if (r.from) out.push(bound(r.dir === 'b' ? '<=' : '>', r.from));
  if (r.to) out.push(bound(r.dir === 'b' ? '>' : '<=', r.to));
  return out;
}

/**
 * One page of events, after filling the gaps it meets: a backward extremity among its events, or
 * (backwards) just above where it starts (the event the previous page stopped below), is an event whose
 * prev_events we lack; the events before it are fetched from the room's servers and the page is
 * read again. `filled` says whether anything was stored (there may be more history still).
 */
export async function readPage(q: Queryable, federation: FederationServices | undefined, r: PageRequest): Promise<{ rows: EventRow[]; filled: boolean }> {
  const bounds = boundsOf(r);
  const page = () => eventsStore.roomEventsInOrder(q, r.roomId, bounds, r.limit, r.dir === 'b');
  let rows = await page();
  let filled = false;
  if (!federation) return { rows, filled };
  for (let round = 0; round < MAX_GAP_FILLS_PER_PAGE; round++) {
    // Forwards, a gap before one of the page's events belongs in this page, before that event.
    const candidates = rows.map((x) => x.stream_ordering);
    if (r.from && r.dir === 'b') {
      const [above] = await eventsStore.roomEventsInOrder(q, r.roomId, [...r.ceiling, bound('>', r.from)], 1, false);
      if (above) candidates.push(above.stream_ordering);
    }
    const gaps = await remoteEventsStore.gapsBefore(q, candidates);
    if (gaps.length === 0) break;
    const stored = await backfillBefore(federation, r.roomId, gaps, r.limit);
    if (stored === 0) break;
    filled = true;
    rows = await page();
  }
  return { rows, filled };
}
