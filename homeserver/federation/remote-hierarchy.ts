// Summaries of rooms this server is not in, from GET /_matrix/federation/v1/hierarchy/{roomId}
// (server-server space_hierarchy.yaml) on the rooms' `via` servers. Answers are cached for a while,
// as spaces.md "Server behaviour" asks: one answer carries a space and the summaries of its
// children, so a walk of a remote space costs one request per remote sub-space, not per room.
import type { FederationServices } from './services.ts';
import { Lru } from '../rooms/lru.ts';
import { summaryFromRemote, type RoomSummary } from '../rooms/room-summary.ts';
import type { RemoteSummaries } from '../rooms/space-hierarchy.ts';

/** How long a remote answer is reused: spaces change slowly, and a walk pages over minutes. */
export const REMOTE_HIERARCHY_TTL_MS = 5 * 60_000;
/** Remote room summaries kept (each a few hundred bytes, up to 100 children_state each). */
const MAX_CACHED_SUMMARIES = 5_000;
/** One remote hierarchy request: a slow peer costs one page this long at most per `via` server. */
export const REMOTE_HIERARCHY_TIMEOUT_MS = 5_000;
/** Children summaries taken from one answer: as many as a walk follows per space. */
const MAX_CHILDREN_PER_ANSWER = 100;

interface Cached {
  /** undefined: the room's server told us our users may not see it (inaccessible_children). */
  summary: RoomSummary | undefined;
  /** A child's summary in its parent's answer may lack its own children; a room's own answer has them. */
  complete: boolean;
  at: number;
}

export class RemoteHierarchy implements RemoteSummaries {
  private readonly s: FederationServices;
  private readonly cache = new Lru<string, Cached>(MAX_CACHED_SUMMARIES);
  private readonly now: () => number;

  constructor(s: FederationServices, now: () => number = Date.now) {
    this.s = s;
    this.now = now;
  }

  async summaryOf(roomId: string, via: string[]): Promise<RoomSummary | undefined> {
    const hit = this.fresh(roomId);
    // A child that is not a space needs no children: its parent's answer is enough.
    if (hit && (hit.complete || !hit.summary || hit.summary.room_type !== 'm.space')) return hit.summary;
    for (const server of via) {
      const body = await this.ask(server, roomId);
      if (!body) continue;
      const room = summaryFromRemote(body.room);
      if (!room || room.room_id !== roomId) continue;
      const at = this.now();
      this.cache.set(roomId, { summary: room, complete: true, at });
      const children = Array.isArray(body.children) ? body.children.slice(0, MAX_CHILDREN_PER_ANSWER) : [];
      for (const c of children) {
        const child = summaryFromRemote(c);
        // Only a child the space links to: a peer may not fill our cache with other rooms.
        if (!child || !room.children_state.some((l) => l.state_key === child.room_id)) continue;
        if (!this.fresh(child.room_id)?.complete) this.cache.set(child.room_id, { summary: child, complete: child.children_state.length > 0, at });
      }
      const inaccessible = Array.isArray(body.inaccessible_children) ? body.inaccessible_children : [];
      for (const id of inaccessible.slice(0, MAX_CHILDREN_PER_ANSWER)) {
        if (typeof id === 'string' && room.children_state.some((l) => l.state_key === id)) this.cache.set(id, { summary: undefined, complete: true, at });
      }
      return room;
    }
    return hit?.summary;
  }

  private fresh(roomId: string): Cached | undefined {
    const c = this.cache.get(roomId);
    return c && this.now() - c.at < REMOTE_HIERARCHY_TTL_MS ? c : undefined;
  }

  /** The server's answer, or undefined when it has none for us (unreachable, 404, not a room it knows). */
  private async ask(server: string, roomId: string): Promise<Record<string, unknown> | undefined> {
    try {
      const body = await this.s.client.request<unknown>(
        server,
        'GET',
        `/_matrix/federation/v1/hierarchy/${encodeURIComponent(roomId)}?suggested_only=false`,
        undefined,
        {
          timeoutMs: REMOTE_HIERARCHY_TIMEOUT_MS,
        },
      );
      return body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
    } catch (err) {
      // Expected (a peer not in the room answers 404): logged as information, not as an error.
      this.s.log(`space hierarchy: ${server} gave no summary of ${roomId}: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  }
}
