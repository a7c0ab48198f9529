// public_rooms.yaml: GET and POST /_matrix/federation/v1/publicRooms, this server's published room
// directory for other servers (server-server-api "Published Room Directory"). The listing is the
// client API's (rooms/public-rooms.ts). We bridge no third-party networks, so asking for one
// (third_party_instance_id) lists nothing.
import type Router from '@koa/router';
import { MatrixError } from '../../http/matrix-error.ts';
import { bodyObject } from '../../http/json-body.ts';
import { queryString } from '../../http/params.ts';
import { parsePublicRoomsBody, publicRoomsPage, type PublicRoomsQuery } from '../../rooms/public-rooms.ts';
import type { FederationServices } from '../services.ts';

export function publicRoomsRoutes(router: Router, s: FederationServices): void {
  const page = async (query: PublicRoomsQuery, thirdPartyInstance: unknown) => {
    if (thirdPartyInstance !== undefined && thirdPartyInstance !== null) return { chunk: [], total_room_count_estimate: 0 };
    // "Defaults to 0 (no limit)".
    return publicRoomsPage(s.rooms, { ...query, limit: query.limit || undefined });
  };

  router.get('/_matrix/federation/v1/publicRooms', async (ctx) => {
    const limitText = queryString(ctx, 'limit');
    if (limitText !== undefined && !/^\d+$/.test(limitText)) throw new MatrixError(400, 'M_INVALID_PARAM', 'limit must be a non-negative integer');
    const query: PublicRoomsQuery = { since: queryString(ctx, 'since') };
    if (limitText !== undefined) query.limit = Number(limitText);
    ctx.body = await page(query, queryString(ctx, 'third_party_instance_id'));
  });

  router.post('/_matrix/federation/v1/publicRooms', async (ctx) => {
    const body = bodyObject(ctx);
    ctx.body = await page(parsePublicRoomsBody(body), body.third_party_instance_id);
  });
}
