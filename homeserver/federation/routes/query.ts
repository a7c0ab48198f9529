// query.yaml: GET /_matrix/federation/v1/query/profile (a local user's profile, for other servers)
// and /query/directory (the room an alias of ours names, and the servers in that room).
import type Router from '@koa/router';
import { MatrixError, invalidParam, notFound } from '../../http/matrix-error.ts';
import { isValidRoomAlias, parseUserId } from '../../protocol/identifiers.ts';
import { serversInRoom } from '../../rooms/servers-in-room.ts';
import { roomsStore } from '../../storage/rooms-store.ts';
import type { FederationServices } from '../services.ts';
import { nullObject } from '../../protocol/null-object.ts';

/**
 * query.yaml, /query/profile: the user's whole profile, extended fields included ("the full,
 * public, profile"), or the one `field` asked for. `profileOf` gives undefined for no such user.
 */
export function queryRoutes(serverName: string, profileOf: (userId: string) => Promise<Record<string, unknown> | undefined>) {
  return (router: Router): void => {
    router.get('/_matrix/federation/v1/query/profile', async (ctx) => {
      const userId = ctx.query.user_id;
      if (typeof userId !== 'string') throw new MatrixError(400, 'M_MISSING_PARAM', 'user_id is required');
      const parsed = parseUserId(userId);
      if (parsed === null) throw invalidParam('user_id is not a user id');
      if (parsed.serverName !== serverName) throw invalidParam('user_id is not a user of this server');
      const field = ctx.query.field;
      if (field !== undefined && typeof field !== 'string') throw invalidParam('field must be a single profile key');
      const profile = await profileOf(userId);
      if (profile === undefined) throw notFound('User not found');
      if (field === undefined) {
        ctx.body = profile;
        return;
      }
      // "If the user does not have a particular field set ... exclude it from the response body."
      const body: Record<string, unknown> = nullObject();
      if (profile[field] !== undefined) body[field] = profile[field];
      ctx.body = body;
    });
  };
}

export function queryDirectoryRoutes(router: Router, s: FederationServices): void {
  router.get('/_matrix/federation/v1/query/directory', async (ctx) => {
    const alias = ctx.query.room_alias;
    if (typeof alias !== 'string') throw new MatrixError(400, 'M_MISSING_PARAM', 'room_alias is required');
    if (!isValidRoomAlias(alias)) throw invalidParam('room_alias is not a room alias');
    const row = await roomsStore.getAlias(s.db.reader, alias);
    if (!row) throw notFound('Room alias not found.');
    // "Servers that are likely to hold the given room": the ones with joined members, ours first.
    const residents = await serversInRoom(s.db.reader, row.room_id);
    const servers = [s.serverName, ...[...residents].filter((n) => n !== s.serverName).sort()];
    if (!residents.has(s.serverName) && residents.size > 0) servers.shift();
    ctx.body = { room_id: row.room_id, servers };
  });
}
