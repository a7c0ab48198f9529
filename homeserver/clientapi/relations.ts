// GET /rooms/{roomId}/relations/{eventId}[/{relType}[/{eventType}]] and /rooms/{roomId}/threads
// (relations.yaml, threads_list.yaml).
import type { Context } from 'koa';
import type { RouteGroup, ClientApiDeps } from './deps.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { requester } from '../http/auth.ts';
import { param, queryInt, queryString } from '../http/params.ts';
import { checkedRoomId } from './rooms.ts';
import { stateIdsVisibleTo } from './room-events.ts';
import { relationsStore } from '../storage/relations-store.ts';
import { toClientEvents } from '../rooms/client-event.ts';
import { formatPaginationToken, parsePaginationToken } from '../sync/sync-token.ts';

export const relationRoutes: RouteGroup = (r, deps) => {
  const relations = async (ctx: Context) => {
    const roomId = checkedRoomId(ctx);
    const me = requester(ctx);
    const parentId = param(ctx, 'eventId');
    const params = ctx.params as Record<string, string | undefined>;
    await stateIdsVisibleTo(deps, roomId, me.userId);
    const q = deps.rooms.db.reader;
    const parent = await deps.rooms.reader.getEvent(q, parentId);
    if (!parent || parent.roomId !== roomId || !(await deps.visibility.canSee(q, me.userId, parent))) {
      throw new MatrixError(404, 'M_NOT_FOUND', 'Event not found');
    }
    const dir = queryString(ctx, 'dir') ?? 'b';
    if (dir !== 'b' && dir !== 'f') throw new MatrixError(400, 'M_INVALID_PARAM', "dir must be 'b' or 'f'");
    const limit = queryInt(ctx, 'limit', 50, 1, 1000);
    const fromStr = queryString(ctx, 'from');
    const toStr = queryString(ctx, 'to');
    const from = fromStr ? parsePaginationToken(fromStr) : dir === 'b' ? deps.rooms.position : 0;
    const to = toStr ? parsePaginationToken(toStr) : undefined;
    const rows =
      dir === 'b'
        ? await relationsStore.page(q, parentId, params.relType ?? null, params.eventType ?? null, to ?? 0, from, limit, true)
        : await relationsStore.page(q, parentId, params.relType ?? null, params.eventType ?? null, from, to ?? deps.rooms.position, limit, false);
    const events = await deps.visibility.filter(
      q,
      me.userId,
      await deps.rooms.reader.getEvents(
        q,
        rows.map((x) => x.event_id),
      ),
    );
    const body: Record<string, unknown> = { chunk: await toClientEvents(q, deps.rooms.reader, events, { viewer: me }) };
    const last = rows[rows.length - 1];
    if (rows.length === limit && last) body.next_batch = formatPaginationToken(dir === 'b' ? last.stream_ordering - 1 : last.stream_ordering);
    if (fromStr) body.prev_batch = fromStr;
    ctx.body = body;
  };
  r.get('/rooms/:roomId/relations/:eventId', deps.auth, relations);
  r.get('/rooms/:roomId/relations/:eventId/:relType', deps.auth, relations);
  r.get('/rooms/:roomId/relations/:eventId/:relType/:eventType', deps.auth, relations);

  r.get('/rooms/:roomId/threads', deps.auth, async (ctx) => {
    const roomId = checkedRoomId(ctx);
    const me = requester(ctx);
    await stateIdsVisibleTo(deps, roomId, me.userId);
    const include = queryString(ctx, 'include') ?? 'all';
    if (include !== 'all' && include !== 'participated') throw new MatrixError(400, 'M_INVALID_PARAM', "include must be 'all' or 'participated'");
    const limit = queryInt(ctx, 'limit', 50, 1, 500);
    const fromStr = queryString(ctx, 'from');
    const before = fromStr ? parsePaginationToken(fromStr) : deps.rooms.position;
    const q = deps.rooms.db.reader;
    const roots = await relationsStore.threadRoots(q, roomId, before, limit, include === 'participated' ? me.userId : undefined);
    const events = await deps.visibility.filter(
      q,
      me.userId,
      await deps.rooms.reader.getEvents(
        q,
        roots.map((x) => x.root),
      ),
    );
    const body: Record<string, unknown> = { chunk: await toClientEvents(q, deps.rooms.reader, events, { viewer: me }) };
    const last = roots[roots.length - 1];
    if (roots.length === limit && last) body.next_batch = formatPaginationToken(last.latest - 1);
    ctx.body = body;
  });
};

export type { ClientApiDeps };
