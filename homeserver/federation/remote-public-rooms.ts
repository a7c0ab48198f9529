// Another server's published room directory, asked for a local client (list_public_rooms.yaml's
// `server` parameter) with GET or POST /_matrix/federation/v1/publicRooms (public_rooms.yaml).
// The remote's answer is bounded (a page size we ask for and enforce, a cap on the bytes read)
// and passed on only in the spec's shape, so a broken or hostile server cannot hand our clients
// anything else. Connections go through the federation client, hence the address policy.
import type { FederationServices } from './services.ts';
import { asClientError } from './client-facing-error.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { isValidRoomAlias, isValidRoomId } from '../protocol/identifiers.ts';
import type { JsonObject } from '../protocol/types.ts';
import type { PublicRoomsQuery } from '../rooms/public-rooms.ts';

/** Rooms asked of a remote per page when the client names no limit: the local listing's default. */
export const DEFAULT_REMOTE_PUBLIC_ROOMS_LIMIT = 100;
/**
 * The most rooms asked of a remote per page, whatever the client asks: the local listing's own
 * cap. Without one our own federation endpoint (and Synapse's) lists every room at once.
 */
export const MAX_REMOTE_PUBLIC_ROOMS_LIMIT = 500;
/**
 * The most bytes read of a remote's page. An entry is a few hundred bytes (ids, a name, a topic),
 * so 500 of them fit well within 1 MiB; a topic may be long, hence twice that.
 */
export const MAX_REMOTE_PUBLIC_ROOMS_BYTES = 2 * 1024 * 1024;
/** A remote directory that does not answer in this time is reported unreachable: a person is waiting. */
export const REMOTE_PUBLIC_ROOMS_TIMEOUT_MS = 20_000;

export interface RemotePublicRoomsQuery extends PublicRoomsQuery {
  thirdPartyInstanceId?: string;
  includeAllNetworks?: boolean;
}

/** One page of `server`'s directory; POST (with a filter) when the client filtered, GET otherwise. */
export async function remotePublicRooms(s: FederationServices, server: string, query: RemotePublicRoomsQuery, post: boolean): Promise<JsonObject> {
  const limit = Math.min(query.limit ?? DEFAULT_REMOTE_PUBLIC_ROOMS_LIMIT, MAX_REMOTE_PUBLIC_ROOMS_LIMIT);
  const options = { maxResponseBytes: MAX_REMOTE_PUBLIC_ROOMS_BYTES, timeoutMs: REMOTE_PUBLIC_ROOMS_TIMEOUT_MS };
  let answer: unknown;
  try {
    if (post) {
      const body: JsonObject = { limit };
      if (query.since !== undefined) body.since = query.since;
      const filter: JsonObject = {};
      if (query.term !== undefined) filter.generic_search_term = query.term;
      if (query.roomTypes !== undefined) filter.room_types = query.roomTypes as unknown as JsonObject[];
      if (Object.keys(filter).length > 0) body.filter = filter;
      if (query.includeAllNetworks !== undefined) body.include_all_networks = query.includeAllNetworks;
      if (query.thirdPartyInstanceId !== undefined) body.third_party_instance_id = query.thirdPartyInstanceId;
      answer = await s.client.request(server, 'POST', '/_matrix/federation/v1/publicRooms', body, options);
    } else {
      const params = new URLSearchParams({ limit: String(limit) });
      if (query.since !== undefined) params.set('since', query.since);
      if (query.includeAllNetworks !== undefined) params.set('include_all_networks', String(query.includeAllNetworks));
      if (query.thirdPartyInstanceId !== undefined) params.set('third_party_instance_id', query.thirdPartyInstanceId);
      answer = await s.client.request(server, 'GET', `/_matrix/federation/v1/publicRooms?${params}`, undefined, options);
    }
  } catch (err) {
    throw asClientError(err, server);
  }
  return publicRoomsAnswer(answer, limit);
}

/** The remote's page in the spec's shape (public_rooms_response.yaml): malformed entries are left out. */
function publicRoomsAnswer(answer: unknown, limit: number): JsonObject {
  const a = answer as Record<string, unknown>;
  if (!Array.isArray(a.chunk)) throw new MatrixError(502, 'M_UNKNOWN', 'The remote server sent no room list');
  const chunk = a.chunk.slice(0, limit).flatMap((entry) => {
    const room = publicRoomEntry(entry);
    return room ? [room] : [];
  });
  const out: JsonObject = { chunk };
  if (typeof a.next_batch === 'string') out.next_batch = a.next_batch;
  if (typeof a.prev_batch === 'string') out.prev_batch = a.prev_batch;
  if (Number.isSafeInteger(a.total_room_count_estimate) && (a.total_room_count_estimate as number) >= 0) {
    out.total_room_count_estimate = a.total_room_count_estimate as number;
  }
  return out;
}

function publicRoomEntry(entry: unknown): JsonObject | undefined {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return undefined;
  const e = entry as Record<string, unknown>;
  if (typeof e.room_id !== 'string' || !isValidRoomId(e.room_id)) return undefined;
  if (!Number.isSafeInteger(e.num_joined_members) || typeof e.world_readable !== 'boolean' || typeof e.guest_can_join !== 'boolean') return undefined;
  const room: JsonObject = {
    room_id: e.room_id,
    num_joined_members: e.num_joined_members as number,
    world_readable: e.world_readable,
    guest_can_join: e.guest_can_join,
  };
  for (const key of ['name', 'topic', 'join_rule', 'room_type'] as const) if (typeof e[key] === 'string') room[key] = e[key];
  if (typeof e.canonical_alias === 'string' && isValidRoomAlias(e.canonical_alias)) room.canonical_alias = e.canonical_alias;
  if (typeof e.avatar_url === 'string' && e.avatar_url.startsWith('mxc://')) room.avatar_url = e.avatar_url;
  return room;
}
