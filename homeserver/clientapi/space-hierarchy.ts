// GET /rooms/{roomId}/hierarchy (space_hierarchy.yaml) and GET /room_summary/{roomIdOrAlias}
// (room_summary.yaml, v1.15). The walk is rooms/space-hierarchy.ts; rooms this server is not in
// are summarised by their servers through federation/remote-hierarchy.ts.
import type { Context } from 'koa';
import type { ClientApiDeps, RouteGroup } from './deps.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { requester } from '../http/auth.ts';
import { param, queryString } from '../http/params.ts';
import { eventsStore } from '../storage/events-store.ts';
import { serversInRoom } from '../rooms/servers-in-room.ts';
import { localRoomSummary, userMaySeeRoom, type RoomSummary } from '../rooms/room-summary.ts';
import {
  HIERARCHY_DEFAULT_LIMIT,
  HIERARCHY_DEFAULT_MAX_DEPTH,
  HIERARCHY_MAX_DEPTH,
  HIERARCHY_MAX_LIMIT,
  HIERARCHY_MAX_VIA,
  SpaceHierarchy,
} from '../rooms/space-hierarchy.ts';
import { RemoteHierarchy } from '../federation/remote-hierarchy.ts';
import { checkedRoomId } from './rooms.ts';
import { resolveRoomAndServers } from './remote-rooms.ts';

/** One walker (its pagination tokens) and one remote cache per homeserver, whichever prefix is asked. */
const walkers = new WeakMap<ClientApiDeps['rooms'], { hierarchy: SpaceHierarchy; remote?: RemoteHierarchy }>();

function walkerOf(deps: ClientApiDeps) {
  let w = walkers.get(deps.rooms);
  if (!w) {
    const remote = deps.federation ? new RemoteHierarchy(deps.federation) : undefined;
    w = { hierarchy: new SpaceHierarchy(deps.rooms, remote), remote };
    walkers.set(deps.rooms, w);
  }
  return w;
}

/** A query parameter that must be an integer in [min, ∞) when given; capped at max. */
function boundedInt(ctx: Context, key: string, dflt: number, min: number, max: number): number {
  const v = queryString(ctx, key);
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min) throw new MatrixError(400, 'M_INVALID_PARAM', `'${key}' must be an integer of at least ${min}`);
  return Math.min(max, Number(v));
}

function boolParam(ctx: Context, key: string): boolean {
  const v = queryString(ctx, key);
  if (v === undefined || v === 'false') return false;
  if (v === 'true') return true;
  throw new MatrixError(400, 'M_INVALID_PARAM', `'${key}' must be true or false`);
}

export const spaceHierarchyRoutes: RouteGroup = (r, deps) => {
  r.get('/rooms/:roomId/hierarchy', deps.auth, async (ctx) => {
    const roomId = checkedRoomId(ctx);
    const page = await walkerOf(deps).hierarchy.page(requester(ctx).userId, roomId, {
      suggestedOnly: boolParam(ctx, 'suggested_only'),
      maxDepth: boundedInt(ctx, 'max_depth', HIERARCHY_DEFAULT_MAX_DEPTH, 0, HIERARCHY_MAX_DEPTH),
      limit: boundedInt(ctx, 'limit', HIERARCHY_DEFAULT_LIMIT, 1, HIERARCHY_MAX_LIMIT),
      from: queryString(ctx, 'from'),
    });
    ctx.body = page;
  });

  // room_summary.yaml lets a server answer without a token for public rooms; Hearth asks for one,
  // as it does for /hierarchy: what a user may see depends on who they are.
  r.get('/room_summary/:roomIdOrAlias', deps.auth, async (ctx) => {
    const me = requester(ctx);
    const { roomId, servers } = await resolveRoomAndServers(deps, param(ctx, 'roomIdOrAlias'), viaOf(ctx));
    const q = deps.rooms.db.reader;
    let summary: RoomSummary | undefined;
    const resident = (await deps.rooms.roomVersion(roomId)) !== undefined && (await serversInRoom(q, roomId)).has(deps.config.serverName);
    const remote = walkerOf(deps).remote;
    const others = [...new Set(servers)].filter((s) => s !== deps.config.serverName).slice(0, HIERARCHY_MAX_VIA);
    if (!resident && remote && others.length > 0) summary = await remote.summaryOf(roomId, others);
    summary ??= await localRoomSummary(deps.rooms, roomId);
    if (!summary || !(await userMaySeeRoom(q, summary, me.userId))) throw new MatrixError(404, 'M_NOT_FOUND', 'Room not found');
    const { children_state: _children, ...body } = summary;
    const m = await eventsStore.membershipOf(q, roomId, me.userId);
    ctx.body = m ? { ...body, membership: m.membership } : body;
  });
};

function viaOf(ctx: Context): string[] {
  const v = ctx.query.via;
  return (typeof v === 'string' ? [v] : Array.isArray(v) ? v : []).slice(0, HIERARCHY_MAX_VIA);
}
