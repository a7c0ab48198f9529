// GET /_matrix/client/v1/rooms/{roomId}/hierarchy (space_hierarchy.yaml): a depth-first walk of a
// space's m.space.child links, page by page, listing the rooms the user may see. Rooms this server
// is not in are summarised by their servers (the federation twin, through `RemoteSummaries`).
// Every walk is bounded: rooms per page, rooms examined per page and per walk, depth, and time.
import { randomBytes } from 'node:crypto';
import { MatrixError } from '../http/matrix-error.ts';
import { Lru } from './lru.ts';
import type { RoomService } from './room-service.ts';
import { serversInRoom } from './servers-in-room.ts';
import { localRoomSummary, orderChildren, userMaySeeRoom, type RoomSummary } from './room-summary.ts';

/** Rooms per page when the client gives no `limit`, and the most it may ask (the spec asks for both). */
export const HIERARCHY_DEFAULT_LIMIT = 50;
export const HIERARCHY_MAX_LIMIT = 100;
/** How deep a walk goes without `max_depth`, and at most: spaces nest a few levels in practice. */
export const HIERARCHY_DEFAULT_MAX_DEPTH = 10;
export const HIERARCHY_MAX_DEPTH = 20;
/** Rooms looked at per page, seen or not: a page of invisible rooms ends instead of reading them all. */
export const HIERARCHY_MAX_EXAMINED_PER_PAGE = 500;
/** Rooms one walk looks at over all its pages: a space with thousands of links stops here. */
export const HIERARCHY_MAX_ROOMS_PER_WALK = 2_000;
/** Children followed per space, in the spec's order; the rest are left out (Synapse keeps 50). */
export const HIERARCHY_MAX_CHILDREN_PER_SPACE = 100;
/** `via` servers asked per child room. */
export const HIERARCHY_MAX_VIA = 3;
/**
 * A page stops growing after this long and hands back `next_batch`: remote children cost one
 * federation request each, and a client should not wait on a slow peer for a whole space.
 */
export const HIERARCHY_PAGE_TIME_MS = 10_000;
/** Pagination tokens kept, and for how long: enough for every user paging at once, then forgotten. */
const MAX_SESSIONS = 1_000;
const SESSION_TTL_MS = 10 * 60_000;

/** Summaries of rooms this server is not in, from their servers (federation/remote-hierarchy.ts). */
export interface RemoteSummaries {
  summaryOf(roomId: string, via: string[]): Promise<RoomSummary | undefined>;
}

export interface HierarchyQuery {
  suggestedOnly: boolean;
  maxDepth: number;
  limit: number;
  from?: string;
}

interface QueueEntry {
  roomId: string;
  depth: number;
  via: string[];
}

/** Where a walk stands between pages: bound to its user, root and filters. */
interface Walk {
  userId: string;
  rootId: string;
  suggestedOnly: boolean;
  maxDepth: number;
  queue: QueueEntry[];
  seen: string[];
  createdAt: number;
}

export class SpaceHierarchy {
  private readonly rooms: RoomService;
  private readonly remote: RemoteSummaries | undefined;
  private readonly now: () => number;
  private readonly walks = new Lru<string, Walk>(MAX_SESSIONS);

  constructor(rooms: RoomService, remote?: RemoteSummaries, now: () => number = Date.now) {
    this.rooms = rooms;
    this.remote = remote;
    this.now = now;
  }

  async page(userId: string, rootId: string, query: HierarchyQuery): Promise<{ rooms: RoomSummary[]; next_batch?: string }> {
    let walk: Walk;
    if (query.from !== undefined) {
      const w = this.walks.get(query.from);
      if (!w || w.userId !== userId || w.rootId !== rootId || this.now() - w.createdAt > SESSION_TTL_MS) {
        throw new MatrixError(400, 'M_INVALID_PARAM', 'Unknown or expired pagination token');
      }
      if (w.suggestedOnly !== query.suggestedOnly || w.maxDepth !== query.maxDepth) {
        throw new MatrixError(400, 'M_INVALID_PARAM', 'suggested_only and max_depth cannot change on paginated requests');
      }
      walk = { ...w, queue: [...w.queue], seen: [...w.seen], createdAt: this.now() };
    } else {
      // The root must be a room this server knows and the user may see (Synapse does the same):
      // the 403 of space_hierarchy.yaml covers an unknown room too.
      const root = await localRoomSummary(this.rooms, rootId);
      if (!root || !(await userMaySeeRoom(this.rooms.db.reader, root, userId))) {
        throw new MatrixError(403, 'M_FORBIDDEN', 'You are not allowed to view this room');
      }
      walk = {
        userId,
        rootId,
        suggestedOnly: query.suggestedOnly,
        maxDepth: query.maxDepth,
        queue: [{ roomId: rootId, depth: 0, via: [] }],
        seen: [],
        createdAt: this.now(),
      };
    }

    const seen = new Set(walk.seen);
    const out: RoomSummary[] = [];
    const deadline = this.now() + HIERARCHY_PAGE_TIME_MS;
    let examined = 0;
    while (walk.queue.length > 0 && out.length < query.limit && examined < HIERARCHY_MAX_EXAMINED_PER_PAGE && this.now() < deadline) {
      if (seen.size >= HIERARCHY_MAX_ROOMS_PER_WALK) {
        walk.queue = [];
        break;
      }
      const entry = walk.queue.shift()!;
      if (seen.has(entry.roomId)) continue;
      seen.add(entry.roomId);
      examined++;
      const summary = await this.summaryOf(entry);
      if (!summary || !(await userMaySeeRoom(this.rooms.db.reader, summary, userId))) continue;
      out.push(summary);
      if (entry.depth >= walk.maxDepth) continue;
      // Depth-first: this room's children come before the rest of the queue, in the spec's order.
      const next: QueueEntry[] = [];
      for (const link of orderChildren(summary.children_state)) {
        if (next.length >= HIERARCHY_MAX_CHILDREN_PER_SPACE) break;
        if (walk.suggestedOnly && link.content.suggested !== true) continue;
        if (seen.has(link.state_key)) continue;
        next.push({ roomId: link.state_key, depth: entry.depth + 1, via: (link.content.via as string[]).slice(0, HIERARCHY_MAX_VIA) });
      }
      walk.queue.unshift(...next);
    }
    walk.queue = walk.queue.filter((e) => !seen.has(e.roomId));
    if (walk.queue.length === 0) return { rooms: out };
    const token = randomBytes(12).toString('base64url');
    this.walks.set(token, { ...walk, seen: [...seen] });
    return { rooms: out, next_batch: token };
  }

  /** Our own summary for a room we are in; the room's servers' otherwise, or our last known state. */
  private async summaryOf(entry: QueueEntry): Promise<RoomSummary | undefined> {
    const q = this.rooms.db.reader;
    const known = await this.rooms.roomVersion(entry.roomId, q);
    if (known && (await serversInRoom(q, entry.roomId)).has(this.rooms.serverName)) return localRoomSummary(this.rooms, entry.roomId);
    const servers = [...entry.via];
    const colon = entry.roomId.indexOf(':');
    if (colon > 0) servers.push(entry.roomId.slice(colon + 1));
    const others = servers.filter((s) => s !== this.rooms.serverName);
    if (this.remote && others.length > 0) {
      const remote = await this.remote.summaryOf(entry.roomId, [...new Set(others)]);
      if (remote) return remote;
    }
    return known ? localRoomSummary(this.rooms, entry.roomId) : undefined;
  }
}
