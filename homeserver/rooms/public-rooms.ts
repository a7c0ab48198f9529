// The published room directory (client-server list_public_rooms.yaml, server-server
// public_rooms.yaml): one listing for both APIs. Rooms with the most joined members come first;
// `since` tokens are offsets into that order ("p<offset>").
import type { JsonObject } from '../protocol/types.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { eventsStore } from '../storage/events-store.ts';
import { roomsStore } from '../storage/rooms-store.ts';
import type { RoomService } from './room-service.ts';

export interface PublicRoomsQuery {
  /** At most this many rooms; undefined for all of them. */
  limit?: number;
  since?: string;
  /** filter.generic_search_term: a case-insensitive substring of the name, topic or canonical alias. */
  term?: string;
  /** filter.room_types: the room types to list, null standing for rooms without one. */
  roomTypes?: Array<string | null>;
}

/** The options of a POST /publicRooms body (the same in both APIs); M_BAD_JSON for a wrong shape. */
export function parsePublicRoomsBody(body: Record<string, unknown>): PublicRoomsQuery {
  const out: PublicRoomsQuery = {};
  if (body.limit !== undefined && body.limit !== null) {
    if (typeof body.limit !== 'number' || !Number.isInteger(body.limit) || body.limit < 0)
      throw new MatrixError(400, 'M_BAD_JSON', 'limit must be a non-negative integer');
    out.limit = body.limit;
  }
  if (body.since !== undefined && body.since !== null) {
    if (typeof body.since !== 'string') throw new MatrixError(400, 'M_BAD_JSON', 'since must be a string');
    out.since = body.since;
  }
  const filter = body.filter;
  if (filter !== undefined && filter !== null) {
    if (typeof filter !== 'object' || Array.isArray(filter)) throw new MatrixError(400, 'M_BAD_JSON', 'filter must be an object');
    const f = filter as Record<string, unknown>;
    if (typeof f.generic_search_term === 'string' && f.generic_search_term !== '') out.term = f.generic_search_term;
    if (f.room_types !== undefined && f.room_types !== null) {
      if (!Array.isArray(f.room_types) || !f.room_types.every((t) => t === null || typeof t === 'string')) {
        throw new MatrixError(400, 'M_BAD_JSON', 'filter.room_types must be a list of strings and nulls');
      }
      out.roomTypes = f.room_types as Array<string | null>;
    }
  }
  return out;
}

/** One page of the directory: public_rooms_response.yaml. */
export async function publicRoomsPage(rooms: RoomService, query: PublicRoomsQuery): Promise<JsonObject> {
  const start = query.since ? Number(/^p(\d+)$/.exec(query.since)?.[1] ?? NaN) : 0;
  if (Number.isNaN(start)) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid since token');
  const q = rooms.db.reader;
  const chunk: JsonObject[] = [];
  for (const { room_id } of await roomsStore.publicRooms(q)) {
    const state = await rooms.currentStateIds(room_id);
    const get = async (type: string) => {
      const id = state.get(`${type}\u0000`);
      return id ? (await rooms.reader.getEvent(q, id))?.pdu.content : undefined;
    };
    const name = (await get('m.room.name'))?.name as string | undefined;
    const topic = (await get('m.room.topic'))?.topic as string | undefined;
    const alias = (await get('m.room.canonical_alias'))?.alias as string | undefined;
    const avatar = (await get('m.room.avatar'))?.url as string | undefined;
    const joinRule = ((await get('m.room.join_rules'))?.join_rule as string | undefined) ?? 'invite';
    const hv = (await get('m.room.history_visibility'))?.history_visibility;
    const guest = (await get('m.room.guest_access'))?.guest_access;
    const roomType = (await get('m.room.create'))?.type;
    if (query.term) {
      const t = query.term.toLowerCase();
      if (![name, topic, alias].some((s) => typeof s === 'string' && s.toLowerCase().includes(t))) continue;
    }
    if (query.roomTypes && !query.roomTypes.includes(typeof roomType === 'string' ? roomType : null)) continue;
    const members = (await eventsStore.membersOfRoom(q, room_id)).filter((m) => m.membership === 'join').length;
    const entry: JsonObject = {
      room_id,
      num_joined_members: members,
      world_readable: hv === 'world_readable',
      guest_can_join: guest === 'can_join',
      join_rule: joinRule,
    };
    if (typeof name === 'string' && name) entry.name = name;
    if (typeof topic === 'string' && topic) entry.topic = topic;
    if (typeof alias === 'string' && alias) entry.canonical_alias = alias;
    if (typeof avatar === 'string' && avatar) entry.avatar_url = avatar;
    if (typeof roomType === 'string') entry.room_type = roomType;
    chunk.push(entry);
  }
  chunk.sort((a, b) => (b.num_joined_members as number) - (a.num_joined_members as number));
  const limit = query.limit === undefined ? chunk.length : query.limit;
  const page = chunk.slice(start, start + limit);
  const body: JsonObject = { chunk: page, total_room_count_estimate: chunk.length };
  if (start + limit < chunk.length) body.next_batch = `p${start + limit}`;
  if (start > 0) body.prev_batch = `p${Math.max(0, start - Math.max(limit, 1))}`;
  return body;
}
