// GET /_matrix/federation/v1/hierarchy/{roomId} (server-server space_hierarchy.yaml): a space
// and the summaries of its children, for another server to walk for its users. Not paginated:
// every child the requesting server could peek or join, the ones it could not by id only, and
// children this server does not know left out. The rule of who sees what is rooms/room-summary.ts.
import type Router from '@koa/router';
import { MatrixError } from '../../http/matrix-error.ts';
import { param, queryString } from '../../http/params.ts';
import { localRoomSummary, orderChildren, serverMaySeeRoom, type RoomSummary } from '../../rooms/room-summary.ts';
import { HIERARCHY_MAX_CHILDREN_PER_SPACE } from '../../rooms/space-hierarchy.ts';
import { assertAclAllows } from '../../rooms/server-visibility.ts';
import type { FederationServices } from '../services.ts';
import { originOf } from './room-data.ts';

export function spaceHierarchyRoutes(router: Router, s: FederationServices): void {
  router.get('/_matrix/federation/v1/hierarchy/:roomId', async (ctx) => {
    const roomId = param(ctx, 'roomId');
    const origin = originOf(ctx);
    const suggestedOnly = queryString(ctx, 'suggested_only') === 'true';
    const q = s.db.reader;
    const room = await localRoomSummary(s.rooms, roomId);
    // 404 alike for a room we do not know and one the server may not see: nothing to tell apart.
    if (!room || !(await serverMaySeeRoom(q, room, origin))) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown room, or not one your server may see');
    await assertAclAllows(s.rooms.reader, q, roomId, origin);
    const children: RoomSummary[] = [];
    const inaccessible: string[] = [];
    let links = orderChildren(room.children_state);
    if (suggestedOnly) links = links.filter((l) => l.content.suggested === true);
    for (const link of links.slice(0, HIERARCHY_MAX_CHILDREN_PER_SPACE)) {
      const child = await localRoomSummary(s.rooms, link.state_key);
      if (!child) continue;
      if ((await serverMaySeeRoom(q, child, origin)) && (await aclAllowsServer(s, child.room_id, origin))) children.push(child);
      else inaccessible.push(child.room_id);
    }
    ctx.body = { room, children, inaccessible_children: inaccessible };
  });
}

async function aclAllowsServer(s: FederationServices, roomId: string, origin: string): Promise<boolean> {
  try {
    await assertAclAllows(s.rooms.reader, s.db.reader, roomId, origin);
    return true;
  } catch (err) {
    if (err instanceof MatrixError) return false;
    throw err;
  }
}
