// Room aliases and the published room directory (directory.yaml, list_public_rooms.yaml).
import type { Context } from 'koa';
import type { RouteGroup, ClientApiDeps } from './deps.ts';
import { bodyObject } from '../http/json-body.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { requester } from '../http/auth.ts';
import { param, queryInt, queryString, stringField } from '../http/params.ts';
import { isValidRoomAlias, isValidServerName } from '../protocol/identifiers.ts';
import { queryRemoteAlias } from '../federation/remote-membership.ts';
import {
  DEFAULT_REMOTE_PUBLIC_ROOMS_LIMIT,
  MAX_REMOTE_PUBLIC_ROOMS_LIMIT,
  remotePublicRooms,
  type RemotePublicRoomsQuery,
} from '../federation/remote-public-rooms.ts';
import { roomsStore } from '../storage/rooms-store.ts';
import { checkedRoomId } from './rooms.ts';
import { stateIdsVisibleTo } from './room-events.ts';
import { eventsStore } from '../storage/events-store.ts';
import { parsePublicRoomsBody, publicRoomsPage } from '../rooms/public-rooms.ts';

function checkedAlias(ctx: Context, _deps: ClientApiDeps): string {
  const alias = param(ctx, 'roomAlias');
  if (!isValidRoomAlias(alias)) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid room alias '${alias}'`);
  return alias;
}

function aliasServer(alias: string): string {
  return alias.slice(alias.indexOf(':') + 1);
}

/**
 * The `server` of /publicRooms when it names another server; undefined for ours or none ("Defaults
 * to the local server. Case sensitive.", list_public_rooms.yaml). Without federation no other
 * server can be asked: 404, as Synapse answers for a server it cannot reach.
 */
function remoteServerParam(ctx: Context, deps: ClientApiDeps): string | undefined {
  const server = queryString(ctx, 'server');
  if (server === undefined || server === deps.config.serverName) return undefined;
  if (!isValidServerName(server)) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid server name '${server}'`);
  if (!deps.federation) throw new MatrixError(404, 'M_NOT_FOUND', 'This server does not federate');
  return server;
}

export const directoryRoutes: RouteGroup = (r, deps) => {
  // "The server will use the federation API to resolve the alias if the domain part of the alias
  // does not correspond to the server's own domain" (directory.yaml), as a join by alias does.
  r.get('/directory/room/:roomAlias', async (ctx) => {
    const alias = checkedAlias(ctx, deps);
    const row = await roomsStore.getAlias(deps.rooms.db.reader, alias);
    if (row) {
      ctx.body = { room_id: row.room_id, servers: [deps.config.serverName] };
      return;
    }
    if (aliasServer(alias) === deps.config.serverName || !deps.federation) throw new MatrixError(404, 'M_NOT_FOUND', `Room alias ${alias} not found`);
    const remote = await queryRemoteAlias(deps.federation, alias);
    ctx.body = { room_id: remote.roomId, servers: remote.servers };
  });

  r.put('/directory/room/:roomAlias', deps.auth, async (ctx) => {
    const alias = checkedAlias(ctx, deps);
    const roomId = stringField(bodyObject(ctx), 'room_id', true);
    if (!alias.endsWith(`:${deps.config.serverName}`)) throw new MatrixError(400, 'M_INVALID_PARAM', 'Aliases must be on this server');
    if (!(await deps.rooms.roomVersion(roomId))) throw new MatrixError(404, 'M_NOT_FOUND', `Unknown room ${roomId}`);
    const m = await eventsStore.membershipOf(deps.rooms.db.reader, roomId, requester(ctx).userId);
    if (m?.membership !== 'join') throw new MatrixError(403, 'M_FORBIDDEN', 'You must be in the room to give it an alias');
    await deps.rooms.db.write(async (tx) => {
      if (await roomsStore.getAlias(tx, alias)) throw new MatrixError(409, 'M_UNKNOWN', `Room alias ${alias} already exists`);
      await roomsStore.insertAlias(tx, alias, roomId, requester(ctx).userId);
    });
    ctx.body = {};
  });

  r.delete('/directory/room/:roomAlias', deps.auth, async (ctx) => {
    const alias = checkedAlias(ctx, deps);
    const me = requester(ctx);
    const row = await roomsStore.getAlias(deps.rooms.db.reader, alias);
    if (!row) throw new MatrixError(404, 'M_NOT_FOUND', `Room alias ${alias} not found`);
    // The alias's creator, or a room member with power to change the canonical alias, may delete it.
    if (row.creator !== me.userId) {
      const p = await deps.rooms.powerOf(row.room_id, me.userId);
      if (p.level < 50) throw new MatrixError(403, 'M_FORBIDDEN', 'You may not delete this alias');
    }
    await deps.rooms.db.write((tx) => roomsStore.deleteAlias(tx, alias));
    ctx.body = {};
  });

  r.get('/rooms/:roomId/aliases', deps.auth, async (ctx) => {
    const roomId = checkedRoomId(ctx);
    await stateIdsVisibleTo(deps, roomId, requester(ctx).userId);
    ctx.body = { aliases: await roomsStore.aliasesOfRoom(deps.rooms.db.reader, roomId) };
  });

  r.get('/directory/list/room/:roomId', async (ctx) => {
    const room = await roomsStore.getRoom(deps.rooms.db.reader, checkedRoomId(ctx));
    if (!room) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown room');
    ctx.body = { visibility: room.is_public ? 'public' : 'private' };
  });
  r.put('/directory/list/room/:roomId', deps.auth, async (ctx) => {
    const roomId = checkedRoomId(ctx);
    const visibility = stringField(bodyObject(ctx), 'visibility') ?? 'public';
    if (visibility !== 'public' && visibility !== 'private') throw new MatrixError(400, 'M_INVALID_PARAM', "visibility must be 'public' or 'private'");
    if (!(await deps.rooms.roomVersion(roomId))) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown room');
    const p = await deps.rooms.powerOf(roomId, requester(ctx).userId);
    if (p.level < 50) throw new MatrixError(403, 'M_FORBIDDEN', "You may not change this room's directory visibility");
    await deps.rooms.db.write((tx) => roomsStore.setPublic(tx, roomId, visibility === 'public'));
    ctx.body = {};
  });

  // The listing itself is shared with federation's /publicRooms (rooms/public-rooms.ts); with
  // `server` naming another server, that server is asked (federation/remote-public-rooms.ts).
  r.get(
    '/publicRooms',
    async (ctx, next) => {
      const server = remoteServerParam(ctx, deps);
      // Anyone may read our own listing, but only a user may make us ask another server (as in
      // Synapse): an anonymous client must not use us to send requests where it likes.
      if (server !== undefined) return deps.auth(ctx, next);
      ctx.body = await publicRoomsPage(deps.rooms, { limit: queryInt(ctx, 'limit', 100, 1, 500), since: queryString(ctx, 'since') });
    },
    async (ctx) => {
      const server = remoteServerParam(ctx, deps)!;
      const query: RemotePublicRoomsQuery = { limit: queryInt(ctx, 'limit', DEFAULT_REMOTE_PUBLIC_ROOMS_LIMIT, 1, MAX_REMOTE_PUBLIC_ROOMS_LIMIT) };
      const since = queryString(ctx, 'since');
      if (since !== undefined) query.since = since;
      ctx.body = await remotePublicRooms(deps.federation!, server, query, false);
    },
  );
  r.post('/publicRooms', deps.auth, async (ctx) => {
    const body = bodyObject(ctx);
    const query = parsePublicRoomsBody(body);
    if (query.limit === 0) throw new MatrixError(400, 'M_BAD_JSON', 'limit must be a positive integer');
    const server = remoteServerParam(ctx, deps);
    if (server === undefined) {
      ctx.body = await publicRoomsPage(deps.rooms, { ...query, limit: query.limit ?? 100 });
      return;
    }
    const remote: RemotePublicRoomsQuery = { ...query };
    if (typeof body.third_party_instance_id === 'string') remote.thirdPartyInstanceId = body.third_party_instance_id;
    if (typeof body.include_all_networks === 'boolean') remote.includeAllNetworks = body.include_all_networks;
    ctx.body = await remotePublicRooms(deps.federation!, server, remote, true);
  });
};
