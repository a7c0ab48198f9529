// A room's summary (client-server definitions/room_summary.yaml) with its m.space.child links, as
// /hierarchy (both APIs) and /room_summary answer it, and who may see it: a rule written once for
// a user (space_hierarchy.yaml "rooms": the rooms the server should return) and once for a server
// (server-server space_hierarchy.yaml: the children "the requesting server could feasibly peek/join").
import type { JsonObject } from '../protocol/types.ts';
import { stateKey } from '../protocol/types.ts';
import { eventsStore } from '../storage/events-store.ts';
import type { Queryable } from '../storage/sqlite.ts';
import type { RoomService } from './room-service.ts';
import { serverOfUser } from './servers-in-room.ts';

/** An m.space.child event as stripped state with its origin_server_ts (space_hierarchy.yaml "children_state"). */
export interface ChildLink {
  type: 'm.space.child';
  state_key: string;
  sender: string;
  content: JsonObject;
  origin_server_ts: number;
}

/** room_summary.yaml, plus the space's links: what a hierarchy page lists for one room. */
export interface RoomSummary {
  room_id: string;
  num_joined_members: number;
  world_readable: boolean;
  guest_can_join: boolean;
  join_rule?: string;
  name?: string;
  topic?: string;
  canonical_alias?: string;
  avatar_url?: string;
  room_type?: string;
  allowed_room_ids?: string[];
  encryption?: string;
  room_version?: string;
  children_state: ChildLink[];
}

/** The summary of a room from its current state here, or undefined for a room we do not know. */
export async function localRoomSummary(rooms: RoomService, roomId: string): Promise<RoomSummary | undefined> {
  const q = rooms.db.reader;
  const version = await rooms.roomVersion(roomId, q);
  if (!version) return undefined;
  const state = await rooms.currentStateIds(roomId, q);
  const content = async (type: string): Promise<JsonObject | undefined> => {
    const id = state.get(stateKey(type, ''));
    return id ? (await rooms.reader.getEvent(q, id))?.pdu.content : undefined;
  };
  const joinRules = await content('m.room.join_rules');
  const joinRule = typeof joinRules?.join_rule === 'string' ? joinRules.join_rule : 'invite';
  const members = (await eventsStore.membersOfRoom(q, roomId)).filter((m) => m.membership === 'join').length;
  const out: RoomSummary = {
    room_id: roomId,
    num_joined_members: members,
    world_readable: (await content('m.room.history_visibility'))?.history_visibility === 'world_readable',
    guest_can_join: (await content('m.room.guest_access'))?.guest_access === 'can_join',
    join_rule: joinRule,
    room_version: version,
    children_state: [],
  };
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const name = text((await content('m.room.name'))?.name);
  const topic = text((await content('m.room.topic'))?.topic);
  const alias = text((await content('m.room.canonical_alias'))?.alias);
  const avatar = text((await content('m.room.avatar'))?.url);
  const roomType = text((await content('m.room.create'))?.type);
  if (name) out.name = name;
  if (topic) out.topic = topic;
  if (alias) out.canonical_alias = alias;
  if (avatar) out.avatar_url = avatar;
  if (roomType) out.room_type = roomType;
  // room_summary.yaml's enum holds one algorithm; another would make the answer invalid.
  if ((await content('m.room.encryption'))?.algorithm === 'm.megolm.v1.aes-sha2') out.encryption = 'm.megolm.v1.aes-sha2';
  const allowed = allowedRoomIds(joinRules);
  if (allowed.length > 0) out.allowed_room_ids = allowed;
  for (const [key, id] of state) {
    if (!key.startsWith('m.space.child\u0000')) continue;
    const e = await rooms.reader.getEvent(q, id);
    if (!e || e.pdu.state_key === undefined || !isLiveLink(e.pdu.content)) continue;
    out.children_state.push({
      type: 'm.space.child',
      state_key: e.pdu.state_key,
      sender: e.pdu.sender,
      content: e.pdu.content,
      origin_server_ts: e.pdu.origin_server_ts,
    });
  }
  return out;
}

/** The rooms a restricted join rule names (client-server "Restricted rooms": `m.room_membership` entries). */
function allowedRoomIds(joinRules: JsonObject | undefined): string[] {
  if (joinRules?.join_rule !== 'restricted' && joinRules?.join_rule !== 'knock_restricted') return [];
  const allow = Array.isArray(joinRules.allow) ? joinRules.allow : [];
  const out: string[] = [];
  for (const a of allow) {
    if (a && typeof a === 'object' && !Array.isArray(a) && a.type === 'm.room_membership' && typeof a.room_id === 'string') out.push(a.room_id);
  }
  return out;
}

/** spaces.md: a child without a `via` list (redacted, cleared) is no longer part of the space. */
export function isLiveLink(content: JsonObject): boolean {
  return Array.isArray(content.via) && content.via.length > 0 && content.via.every((v) => typeof v === 'string');
}

/** Join rules under which anyone may ask to join: knocking (v7+) and public. */
const OPEN_JOIN_RULES = new Set(['public', 'knock', 'knock_restricted']);

/**
 * space_hierarchy.yaml: the user is joined or invited; or the room is public, knockable or
 * world_readable; or it is restricted and the user is joined to one of the allowed rooms.
 * Works on a remote room's summary as well, with what this server knows of the user.
 */
export async function userMaySeeRoom(q: Queryable, summary: RoomSummary, userId: string): Promise<boolean> {
  if (summary.world_readable || OPEN_JOIN_RULES.has(summary.join_rule ?? '')) return true;
  const m = await eventsStore.membershipOf(q, summary.room_id, userId);
  if (m?.membership === 'join' || m?.membership === 'invite') return true;
  if (summary.join_rule === 'restricted') {
    for (const allowed of summary.allowed_room_ids ?? []) if ((await eventsStore.membershipOf(q, allowed, userId))?.membership === 'join') return true;
  }
  return false;
}

/**
 * server-server space_hierarchy.yaml, what another server "could feasibly peek/join": a room
 * anyone may join, knock on or read, one its users are in or invited to, or a restricted room
 * whose allowed rooms hold one of its users (the requesting server filters per user).
 */
export async function serverMaySeeRoom(q: Queryable, summary: RoomSummary, serverName: string): Promise<boolean> {
  if (summary.world_readable || OPEN_JOIN_RULES.has(summary.join_rule ?? '')) return true;
  const hasMember = async (roomId: string, memberships: string[]) =>
    (await eventsStore.membersOfRoom(q, roomId)).some((m) => memberships.includes(m.membership) && serverOfUser(m.user_id) === serverName);
  if (await hasMember(summary.room_id, ['join', 'invite'])) return true;
  if (summary.join_rule === 'restricted') for (const allowed of summary.allowed_room_ids ?? []) if (await hasMember(allowed, ['join'])) return true;
  return false;
}

/**
 * spaces.md "Ordering of children within a space": children with a valid `order` (a string of at
 * most 50 characters between \x20 and \x7E) first, by code point; then by origin_server_ts; ties
 * by room id.
 */
export function orderChildren(links: ChildLink[]): ChildLink[] {
  const order = (l: ChildLink) => {
    const o = l.content.order;
    return typeof o === 'string' && o.length <= 50 && /^[\x20-\x7E]*$/.test(o) ? o : undefined;
  };
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...links].sort((a, b) => {
    const oa = order(a);
    const ob = order(b);
    if (oa !== undefined && ob !== undefined && oa !== ob) return cmp(oa, ob);
    if (oa !== undefined && ob === undefined) return -1;
    if (oa === undefined && ob !== undefined) return 1;
    return a.origin_server_ts - b.origin_server_ts || cmp(a.state_key, b.state_key);
  });
}

/**
 * A summary another server sent, keeping only the fields of room_summary.yaml with the right
 * types: what reaches our clients must be what the spec describes, whatever a peer sends.
 */
export function summaryFromRemote(value: unknown): RoomSummary | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.room_id !== 'string' || !v.room_id.startsWith('!')) return undefined;
  const count = typeof v.num_joined_members === 'number' && Number.isSafeInteger(v.num_joined_members) && v.num_joined_members >= 0 ? v.num_joined_members : 0;
  const out: RoomSummary = {
    room_id: v.room_id,
    num_joined_members: count,
    world_readable: v.world_readable === true,
    guest_can_join: v.guest_can_join === true,
    children_state: [],
  };
  for (const key of ['join_rule', 'name', 'topic', 'canonical_alias', 'avatar_url', 'room_type', 'room_version'] as const) {
    const s = v[key];
    if (typeof s === 'string' && s !== '') out[key] = s;
  }
  if (out.canonical_alias !== undefined && !out.canonical_alias.startsWith('#')) delete out.canonical_alias;
  if (v.encryption === 'm.megolm.v1.aes-sha2') out.encryption = v.encryption;
  if (Array.isArray(v.allowed_room_ids)) {
    const ids = v.allowed_room_ids.filter((x): x is string => typeof x === 'string' && x.startsWith('!'));
    if (ids.length > 0) out.allowed_room_ids = ids;
  }
  if (Array.isArray(v.children_state)) {
    for (const c of v.children_state) {
      if (!c || typeof c !== 'object') continue;
      const e = c as Record<string, unknown>;
      if (e.type !== 'm.space.child' || typeof e.state_key !== 'string' || !e.state_key.startsWith('!') || typeof e.sender !== 'string') continue;
      if (!e.content || typeof e.content !== 'object' || Array.isArray(e.content) || !isLiveLink(e.content as JsonObject)) continue;
      const ts = typeof e.origin_server_ts === 'number' && Number.isSafeInteger(e.origin_server_ts) ? e.origin_server_ts : 0;
      out.children_state.push({ type: 'm.space.child', state_key: e.state_key, sender: e.sender, content: e.content as JsonObject, origin_server_ts: ts });
    }
  }
  return out;
}
