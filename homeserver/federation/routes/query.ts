// query.yaml: GET /_matrix/federation/v1/query/profile (a local user's profile, for other servers)
// and /query/directory (the room an alias of ours names, and the servers in that room).
import type Router from '@koa/router';
import { MatrixError, invalidParam, notFound } from '../../http/matrix-error.ts';
import { isValidRoomAlias, parseUserId } from '../../protocol/identifiers.ts';
import { serversInRoom } from '../../rooms/servers-in-room.ts';
import { roomsStore } from '../../storage/rooms-store.ts';
import type { FederationServices } from '../services.ts';
import { nullObject } from '../../protocol/null-object.ts';

export interface Profile {
  displayname: string | null;
  avatar_url: string | null;
}

export function queryRoutes(serverName: string, profileOf: (userId: string) => Promise<Profile | undefined>) {
  return (router: Router): void => {
    router.get('/_matrix/federation/v1/query/profile', async (ctx) => {
      const userId = ctx.query.user_id;
      if (typeof userId !== 'string') throw new MatrixError(400, 'M_MISSING_PARAM', 'user_id is required');
      const parsed = parseUserId(userId);
      if (parsed === null) throw invalidParam('user_id is not a user id');
      if (parsed.serverName !== serverName) throw invalidParam('user_id is not a user of this server');
      const field = ctx.query.field;
      if (field !== undefined && field !== 'displayname' && field !== 'avatar_url') throw invalidParam('field must be displayname or avatar_url');
      const profile = await profileOf(userId);
      if (profile === undefined) throw notFound('User not found');
      const body: Record<string, string> = nullObject();
      if ((field === undefined || field === 'displayname') && profile.displayname !== null) body.displayname = profile.displayname;
      if ((field === undefined || field === 'avatar_url') && profile.avatar_url !== null) body.avatar_url = profile.avatar_url;
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
