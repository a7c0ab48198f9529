// events.yaml: GET /_matrix/federation/v1/event/{eventId}, /state/{roomId} and /state_ids/{roomId}
// (server-server-api "Retrieving events"). State is the state BEFORE the given event, with the
// auth chain of that state. The state routes are ACL-protected ("Server Access Control Lists").
// Also GET /timestamp_to_event/{roomId}, the same rule as the client API's (rooms/event-by-timestamp.ts).
import type Router from '@koa/router';
import type { Context } from 'koa';
import { MatrixError } from '../../http/matrix-error.ts';
import { param, queryString } from '../../http/params.ts';
import { authChain, sortByDepth } from '../../rooms/auth-chain.ts';
import { toFederationPdu } from '../../rooms/federation-pdu.ts';
import type { LoadedEvent } from '../../rooms/event-reader.ts';
import { eventClosestToTimestamp, parseTimestampQuery } from '../../rooms/event-by-timestamp.ts';
import type { FederationServices } from '../services.ts';
import { eventInRoom, transaction, viewOf } from './room-data.ts';

export function eventsRoutes(router: Router, s: FederationServices): void {
  const q = s.db.reader;
  const reader = s.rooms.reader;

  router.get('/_matrix/federation/v1/event/:eventId', async (ctx) => {
    const eventId = param(ctx, 'eventId');
    const e = await reader.getEvent(q, eventId);
    if (!e) throw new MatrixError(404, 'M_NOT_FOUND', `Could not find event ${eventId}`);
    const view = viewOf(ctx, s);
    // /event is not on the spec's list of ACL-protected prefixes, but a denied server has no
    // business reading the room: the same gate as the room routes, then history visibility.
    await view.assertMayRead(e.roomId, [e]);
    if (!(await view.canSee(e))) throw new MatrixError(403, 'M_FORBIDDEN', 'You may not see this event');
    ctx.body = transaction(s, [toFederationPdu(e)]);
  });

  /** The state before `event_id` and its auth chain, after the access checks. */
  const stateAt = async (ctx: Context) => {
    const roomId = param(ctx, 'roomId');
    const eventId = queryString(ctx, 'event_id');
    if (eventId === undefined) throw new MatrixError(400, 'M_MISSING_PARAM', 'event_id is required');
    const e = await eventInRoom(s, roomId, eventId);
    await viewOf(ctx, s).assertMayRead(roomId, [e]);
    // Only a create event has no state before it; any other event without a state group is an outlier.
    if (e.outlier === 'outlier' || (e.stateGroup === null && e.pdu.type !== 'm.room.create')) {
      throw new MatrixError(404, 'M_NOT_FOUND', `The state at ${eventId} is not known here`);
    }
    const ids = [...(await reader.stateOfGroup(q, e.stateGroup)).values()];
    const state: LoadedEvent[] = [];
    for (const id of ids) {
      const ev = await reader.getEvent(q, id);
      if (ev) state.push(ev);
    }
    return { state: sortByDepth(state), chain: await authChain(reader, q, ids) };
  };

  router.get('/_matrix/federation/v1/state/:roomId', async (ctx) => {
    const { state, chain } = await stateAt(ctx);
    ctx.body = { pdus: state.map(toFederationPdu), auth_chain: chain.map(toFederationPdu) };
  });

  router.get('/_matrix/federation/v1/state_ids/:roomId', async (ctx) => {
    const { state, chain } = await stateAt(ctx);
    ctx.body = { pdu_ids: state.map((e) => e.eventId), auth_chain_ids: chain.map((e) => e.eventId) };
  });

  // A server asks when its own history has no event close enough (events.yaml): it must be in the
  // room (or the ACL and membership gate refuses it), as for any other room data.
  router.get('/_matrix/federation/v1/timestamp_to_event/:roomId', async (ctx) => {
    const roomId = param(ctx, 'roomId');
    const query = parseTimestampQuery(queryString(ctx, 'ts'), queryString(ctx, 'dir'));
    await viewOf(ctx, s).assertMayRead(roomId);
    ctx.body = await eventClosestToTimestamp(s.rooms, roomId, query);
  });
}
