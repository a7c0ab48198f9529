// What another server may read of a room: the room's server ACL (m.room.server_acl), whether the
// server takes part in the room, and history visibility applied to the server's users
// (client-server-api modules/history_visibility.md, as the federation routes that serve room data
// must: /event, /state, /state_ids, /event_auth, /backfill, /get_missing_events).
import type { JsonObject } from '../protocol/types.ts';
import { stateKey } from '../protocol/types.ts';
import { globMatches } from '../protocol/push-rules-eval.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { federationRoomsStore } from '../storage/federation-rooms-store.ts';
import { roomsStore } from '../storage/rooms-store.ts';
import type { Queryable } from '../storage/sqlite.ts';
import type { EventReader, LoadedEvent, StateIds } from './event-reader.ts';
import { serverOfUser } from './servers-in-room.ts';

/** A server name without its port: "evil.com:8448" -> "evil.com", "[::1]:80" -> "[::1]". */
export function hostOf(serverName: string): string {
  if (serverName.startsWith('[')) {
    const end = serverName.indexOf(']');
    return end < 0 ? serverName : serverName.slice(0, end + 1);
  }
  const colon = serverName.lastIndexOf(':');
  return colon < 0 ? serverName : serverName.slice(0, colon);
}

function isIpLiteral(host: string): boolean {
  return host.startsWith('[') || /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
}

/**
 * m.room.server_acl's order (event-schemas m.room.server_acl): no event: allow; an IP literal when
 * allow_ip_literals is false: deny; a `deny` glob matches: deny; an `allow` glob matches: allow;
 * else deny. Globs are case-insensitive and see the name without its port. `content` undefined
 * means the room has no ACL event.
 */
export function aclAllows(content: JsonObject | undefined, serverName: string): boolean {
  if (content === undefined) return true;
  const host = hostOf(serverName);
  if (content.allow_ip_literals === false && isIpLiteral(host)) return false;
  const globs = (v: unknown) => (Array.isArray(v) ? v.filter((g): g is string => typeof g === 'string') : []);
  if (globs(content.deny).some((g) => globMatches(g, host, false))) return false;
  return globs(content.allow).some((g) => globMatches(g, host, false));
}

/** The room's current m.room.server_acl content, if it has one. */
async function currentAcl(reader: EventReader, q: Queryable, roomId: string): Promise<JsonObject | undefined> {
  const id = await federationRoomsStore.currentStateEventId(q, roomId, 'm.room.server_acl', '');
  return id ? (await reader.getEvent(q, id))?.pdu.content : undefined;
}

/** Whether the room's current ACL lets `serverName` take part (true for a room without one, or one we do not know). */
export async function roomAclAllows(reader: EventReader, q: Queryable, roomId: string, serverName: string): Promise<boolean> {
  return aclAllows(await currentAcl(reader, q, roomId), serverName);
}

/** Throws 403 M_FORBIDDEN when the room's current ACL denies `serverName` (server-server-api "Server Access Control Lists"). */
export async function assertAclAllows(reader: EventReader, q: Queryable, roomId: string, serverName: string): Promise<void> {
  if (!(await roomAclAllows(reader, q, roomId, serverName))) {
    throw new MatrixError(403, 'M_FORBIDDEN', `Server ${serverName} is denied by the room's server ACL`);
  }
}

/** Whether `serverName` has a joined member in the room's current state. */
export async function isServerInRoom(reader: EventReader, q: Queryable, roomId: string, serverName: string): Promise<boolean> {
  for (const id of await federationRoomsStore.currentMemberEventIdsOfServer(q, roomId, serverName)) {
    if ((await reader.getEvent(q, id))?.pdu.content.membership === 'join') return true;
  }
  return false;
}

const KNOWN = new Set(['world_readable', 'shared', 'invited', 'joined']);

/** "if the value is not understood, the visibility is assumed to be shared". */
function normalise(v: unknown): string {
  return typeof v === 'string' && KNOWN.has(v) ? v : 'shared';
}

/**
 * Decides, event by event, what one server may read of one request's events. Caches the server's
 * join positions per room, so a page of backfill costs one scan per room.
 */
export class ServerView {
  private readonly reader: EventReader;
  private readonly q: Queryable;
  readonly serverName: string;
  private readonly joins = new Map<string, number[]>();
  private readonly inRoom = new Map<string, boolean>();

  constructor(reader: EventReader, q: Queryable, serverName: string) {
    this.reader = reader;
    this.q = q;
    this.serverName = serverName;
  }

  async isInRoom(roomId: string): Promise<boolean> {
    let v = this.inRoom.get(roomId);
    if (v === undefined) {
      v = await isServerInRoom(this.reader, this.q, roomId, this.serverName);
      this.inRoom.set(roomId, v);
    }
    return v;
  }

  /** The history_visibility in force at `e` (the state before it). */
  async visibilityAt(e: LoadedEvent): Promise<string> {
    const state = await this.reader.stateOfGroup(this.q, e.stateGroup);
    return this.contentOf(state, 'm.room.history_visibility', '').then((c) => normalise(c?.history_visibility));
  }

  /**
   * modules/history_visibility.md "Server behaviour", for the users of this server at the state
   * before `e`: world_readable: allow; one of them joined: allow; shared and one of them joined
   * at any point after `e`: allow; invited and one of them invited: allow; else deny. An
   * m.room.history_visibility event is visible if the value before or after it allows it, and
   * the server's own users' member events if the membership before or after them does.
   * An outlier, whose state we do not know, is readable by servers in the room only.
   */
  async canSee(e: LoadedEvent): Promise<boolean> {
    if (e.outlier === 'outlier') return this.isInRoom(e.roomId);
    const state = await this.reader.stateOfGroup(this.q, e.stateGroup);
    const hvBefore = normalise((await this.contentOf(state, 'm.room.history_visibility', ''))?.history_visibility);
    const before = await this.membershipsAt(state);
    const checks: Array<{ hv: string; memberships: string[] }> = [{ hv: hvBefore, memberships: before }];
    if (e.pdu.type === 'm.room.history_visibility' && e.pdu.state_key === '') {
      checks.push({ hv: normalise(e.pdu.content.history_visibility), memberships: before });
    }
    if (e.pdu.type === 'm.room.member' && e.pdu.state_key !== undefined && serverOfUser(e.pdu.state_key) === this.serverName) {
      checks.push({ hv: hvBefore, memberships: [...before, String(e.pdu.content.membership)] });
    }
    for (const { hv, memberships } of checks) {
      if (hv === 'world_readable' || memberships.includes('join')) return true;
      if (hv === 'invited' && memberships.includes('invite')) return true;
      if (hv === 'shared' && (await this.joinedAfter(e))) return true;
    }
    return false;
  }

  async filter(events: LoadedEvent[]): Promise<LoadedEvent[]> {
    const out: LoadedEvent[] = [];
    for (const e of events) if (await this.canSee(e)) out.push(e);
    return out;
  }

  /**
   * The gate of the room-scoped routes: 404 M_NOT_FOUND for a room we do not know, 403 M_FORBIDDEN
   * when the ACL denies the server, or when it has no joined member and not every event in `at`
   * is world_readable (an empty `at` then always refuses).
   */
  async assertMayRead(roomId: string, at: LoadedEvent[] = []): Promise<void> {
    if (!(await roomsStore.getRoom(this.q, roomId))) throw new MatrixError(404, 'M_NOT_FOUND', `Unknown room ${roomId}`);
    await assertAclAllows(this.reader, this.q, roomId, this.serverName);
    if (await this.isInRoom(roomId)) return;
    if (at.length > 0) {
      let all = true;
      for (const e of at) if (e.outlier === 'outlier' || (await this.visibilityAt(e)) !== 'world_readable') all = false;
      if (all) return;
    }
    throw new MatrixError(403, 'M_FORBIDDEN', `Server ${this.serverName} is not in room ${roomId}`);
  }

  private async joinedAfter(e: LoadedEvent): Promise<boolean> {
    let list = this.joins.get(e.roomId);
    if (!list) {
      list = await federationRoomsStore.serverJoinPositions(this.q, e.roomId, this.serverName);
      this.joins.set(e.roomId, list);
    }
    return list.some((pos) => pos > e.streamOrdering);
  }

  /** Memberships of this server's users in `state`. */
  private async membershipsAt(state: StateIds): Promise<string[]> {
    const out: string[] = [];
    const prefix = stateKey('m.room.member', '');
    for (const [key, id] of state) {
      if (!key.startsWith(prefix) || serverOfUser(key.slice(prefix.length)) !== this.serverName) continue;
      const m = (await this.reader.getEvent(this.q, id))?.pdu.content.membership;
      if (typeof m === 'string') out.push(m);
    }
    return out;
  }

  private async contentOf(state: StateIds, type: string, key: string): Promise<JsonObject | undefined> {
    const id = state.get(stateKey(type, key));
    return id ? (await this.reader.getEvent(this.q, id))?.pdu.content : undefined;
  }
}
