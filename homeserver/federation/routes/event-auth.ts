// event_auth.yaml: GET /_matrix/federation/v1/event_auth/{roomId}/{eventId}, the auth chain of one
// event (server-server-api "Retrieving event authorisation information"); ACL-protected.
import type Router from '@koa/router';
import { param } from '../../http/params.ts';
import { authChain } from '../../rooms/auth-chain.ts';
import { toFederationPdu } from '../../rooms/federation-pdu.ts';
import type { FederationServices } from '../services.ts';
import { eventInRoom, viewOf } from './room-data.ts';

export function eventAuthRoutes(router: Router, s: FederationServices): void {
  router.get('/_matrix/federation/v1/event_auth/:roomId/:eventId', async (ctx) => {
    const roomId = param(ctx, 'roomId');
    const e = await eventInRoom(s, roomId, param(ctx, 'eventId'));
    await viewOf(ctx, s).assertMayRead(roomId, [e]);
    const chain = await authChain(s.rooms.reader, s.db.reader, [e.eventId]);
    ctx.body = { auth_chain: chain.map(toFederationPdu) };
  });
}
