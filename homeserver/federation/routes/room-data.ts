// Shared by the route groups that serve room data: the verified origin, loading an event of a
// room (404 otherwise) and the transaction-shaped answer of /event and /backfill.
import type { Context } from 'koa';
import { MatrixError } from '../../http/matrix-error.ts';
import type { PDU } from '../../protocol/types.ts';
import type { LoadedEvent } from '../../rooms/event-reader.ts';
import { ServerView } from '../../rooms/server-visibility.ts';
import type { FederationServices } from '../services.ts';

/** The authenticated origin (request-auth.ts sets it before any route runs). */
export function originOf(ctx: Context): string {
  const origin = ctx.state.origin;
  if (typeof origin !== 'string') throw new MatrixError(401, 'M_UNAUTHORIZED', 'Request is not signed');
  return origin;
}

/** What the request's origin may read, through the reader connection. */
export function viewOf(ctx: Context, s: FederationServices): ServerView {
  return new ServerView(s.rooms.reader, s.db.reader, originOf(ctx));
}

/** An event of `roomId` we hold, or 404 M_NOT_FOUND. */
export async function eventInRoom(s: FederationServices, roomId: string, eventId: string): Promise<LoadedEvent> {
  const e = await s.rooms.reader.getEvent(s.db.reader, eventId);
  if (!e || e.roomId !== roomId) throw new MatrixError(404, 'M_NOT_FOUND', `Could not find event ${eventId} in ${roomId}`);
  return e;
}

/** A transaction as /event and /backfill answer: origin, origin_server_ts, pdus (transaction.yaml). */
export function transaction(s: FederationServices, pdus: PDU[]) {
  return { origin: s.serverName, origin_server_ts: Date.now(), pdus };
}
