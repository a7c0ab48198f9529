// Room aliases and the published room directory (directory.yaml, list_public_rooms.yaml).
import type { Context } from 'koa';
import type { RouteGroup, ClientApiDeps } from './deps.ts';
import { bodyObject } from '../http/json-body.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { requester } from '../http/auth.ts';
import { param, queryInt, queryString, stringField } from '../http/params.ts';
import { isValidRoomAlias } from '../protocol/identifiers.ts';
import { roomsStore } from '../storage/rooms-store.ts';
import { checkedRoomId } from './rooms.ts';
import { stateIdsVisibleTo } from './room-events.ts';
import { eventsStore } from '../storage/events-store.ts';

function checkedAlias(ctx: Context, deps: ClientApiDeps): string {
  const alias = param(ctx, 'roomAlias');
  if (!isValidRoomAlias(alias)) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid room alias '${alias}'`);
  return alias;
}

export const directoryRoutes: RouteGroup = (r, deps) => {
  r.get('/directory/room/:roomAlias', async (ctx) => {
    const alias = checkedAlias(ctx, deps);
    const row = await roomsStore.getAlias(deps.rooms.db.reader, alias);
    if (!row) throw new MatrixError(404, 'M_NOT_FOUND', `Room alias ${alias} not found`);
    ctx.body = { room_id: row.room_id, servers: [deps.config.serverName] };
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
    if (p.level < 50) throw new MatrixError(403, 'M_FORBIDDEN', 'You may not change this room\'s directory visibility');
    await deps.rooms.db.write((tx) => roomsStore.setPublic(tx, roomId, visibility === 'public'));
    ctx.body = {};
  });

  const publicRooms = async (ctx: Context, limit: number, since: string | undefined, term: string | undefined) => {
    const q = deps.rooms.db.reader;
    const chunk: Record<string, unknown>[] = [];
    for (const { room_id } of await roomsStore.publicRooms(q)) {
      const state = await deps.rooms.currentStateIds(room_id);
      const get = async (type: string) => {
        const id = state.get(`${type}\u0000`);
        return id ? (await deps.rooms.reader.getEvent(q, id))?.pdu.content : undefined;
      };
      const name = (await get('m.room.name'))?.name as string | undefined;
      const topic = (await get('m.room.topic'))?.topic as string | undefined;
      const alias = (await get('m.room.canonical_alias'))?.alias as string | undefined;
      const avatar = (await get('m.room.avatar'))?.url as string | undefined;
      const joinRule = ((await get('m.room.join_rules'))?.join_rule as string | undefined) ?? 'invite';
      const hv = (await get('m.room.history_visibility'))?.history_visibility;
      const guest = (await get('m.room.guest_access'))?.guest_access;
      const create = await get('m.room.create');
      const members = (await eventsStore.membersOfRoom(q, room_id)).filter((m) => m.membership === 'join').length;
      if (term) {
        const t = term.toLowerCase();
        if (![name, topic, alias].some((s) => s?.toLowerCase().includes(t))) continue;
      }
      const entry: Record<string, unknown> = {
        room_id, num_joined_members: members, world_readable: hv === 'world_readable', guest_can_join: guest === 'can_join', join_rule: joinRule,
      };
      if (name) entry.name = name;
      if (topic) entry.topic = topic;
      if (alias) entry.canonical_alias = alias;
      if (avatar) entry.avatar_url = avatar;
      if (typeof create?.type === 'string') entry.room_type = create.type;
      chunk.push(entry);
    }
    chunk.sort((a, b) => (b.num_joined_members as number) - (a.num_joined_members as number));
    const start = since ? Number(/^p(\d+)$/.exec(since)?.[1] ?? NaN) : 0;
    if (Number.isNaN(start)) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid since token');
    const page = chunk.slice(start, start + limit);
    const body: Record<string, unknown> = { chunk: page, total_room_count_estimate: chunk.length };
    if (start + limit < chunk.length) body.next_batch = `p${start + limit}`;
    if (start > 0) body.prev_batch = `p${Math.max(0, start - limit)}`;
    ctx.body = body;
  };
  r.get('/publicRooms', (ctx) => publicRooms(ctx, queryInt(ctx, 'limit', 100, 1, 500), queryString(ctx, 'since'), undefined));
  r.post('/publicRooms', deps.auth, (ctx) => {
    const body = bodyObject(ctx);
    const limit = body.limit === undefined ? 100 : Number(body.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new MatrixError(400, 'M_BAD_JSON', 'limit must be a positive integer');
    const filter = body.filter as Record<string, unknown> | undefined;
    const term = filter && typeof filter.generic_search_term === 'string' ? filter.generic_search_term : undefined;
    return publicRooms(ctx, limit, stringField(body, 'since'), term);
  });
};
