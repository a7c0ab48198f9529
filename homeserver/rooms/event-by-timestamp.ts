// The event closest to a timestamp (client-server room_event_by_timestamp.yaml and its federation
// twin, server-server events.yaml "timestamp_to_event"): one rule for both APIs. Each route checks
// first that its requester (a user, a server) may read the room.
import { MatrixError } from '../http/matrix-error.ts';
import { eventsStore } from '../storage/events-store.ts';
import type { RoomService } from './room-service.ts';

export interface TimestampQuery {
  ts: number;
  forward: boolean;
}

/** The `ts` and `dir` query parameters, as both APIs take them; 400 M_INVALID_PARAM when wrong. */
export function parseTimestampQuery(ts: string | undefined, dir: string | undefined): TimestampQuery {
  if (ts === undefined || !/^\d+$/.test(ts)) throw new MatrixError(400, 'M_INVALID_PARAM', "'ts' is required: a timestamp in milliseconds");
  if (dir !== 'f' && dir !== 'b') throw new MatrixError(400, 'M_INVALID_PARAM', "dir must be 'f' or 'b'");
  return { ts: Number(ts), forward: dir === 'f' };
}

/** The closest event at or after (`f`) or at or before (`b`) the timestamp; 404 M_NOT_FOUND if none. */
export async function eventClosestToTimestamp(
  rooms: RoomService,
  roomId: string,
  query: TimestampQuery,
): Promise<{ event_id: string; origin_server_ts: number }> {
  const row = await eventsStore.eventClosestToTs(rooms.db.reader, roomId, query.ts, query.forward);
  if (!row) throw new MatrixError(404, 'M_NOT_FOUND', `Unable to find an event ${query.forward ? 'after' : 'before'} ${query.ts}`);
  return { event_id: row.event_id, origin_server_ts: row.origin_server_ts };
}
