// Membership changes a local user asks for: join, invite, leave, kick, ban, unban, forget.
// Whether each is allowed is decided by the auth rules in appendLocalEvent, not here; this module
// only builds the right m.room.member event (client-server-api "Room membership").
import type { JsonObject } from '../protocol/types.ts';
import { stateKey } from '../protocol/types.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { eventsStore } from '../storage/events-store.ts';
import { accountsStore } from '../storage/accounts-store.ts';
import type { RoomService } from './room-service.ts';
import type { LoadedEvent } from './event-reader.ts';
import type { RoomHead } from './room-heads.ts';
import type { Queryable } from '../storage/sqlite.ts';
import { userPowerLevel } from '../protocol/power-levels.ts';
import { authRulesVersion } from '../protocol/auth-rules-versions.ts';

export interface MembershipOptions {
  reason?: string;
  /** Extra content keys a client may set on its own join (spec: they are copied over). */
  extraContent?: JsonObject;
}

async function profileContent(svc: RoomService, userId: string): Promise<JsonObject> {
  const u = await accountsStore.getUser(svc.db.reader, userId);
  const c: JsonObject = {};
  if (u?.displayname) c.displayname = u.displayname;
  if (u?.avatar_url) c.avatar_url = u.avatar_url;
  return c;
}

export async function joinRoom(svc: RoomService, roomId: string, userId: string, opts: MembershipOptions = {}): Promise<LoadedEvent> {
  if (!(await svc.roomVersion(roomId))) throw new MatrixError(404, 'M_NOT_FOUND', `Room ${roomId} is not known to this server`);
  const content: JsonObject = { ...(opts.extraContent ?? {}), ...(await profileContent(svc, userId)), membership: 'join' };
  if (opts.reason) content.reason = opts.reason;
  return svc.write(async (w) => {
    const head = await w.head(roomId);
    const via = await restrictedJoinAuthoriser(svc, w.tx, head, userId);
    if (via === null) throw new MatrixError(403, 'M_FORBIDDEN', 'You are not allowed to join this room');
    if (via !== undefined) content.join_authorised_via_users_server = via;
    return w.append(roomId, { type: 'm.room.member', sender: userId, stateKey: userId, content });
  });
}

/**
 * Restricted rooms (v8+, client-server "Restricted rooms"): a join not preceded by an invite names
 * a joined local user who may invite. Undefined when no authoriser is needed, null when the join
 * is not allowed (no such user, or `userId` is in none of the rooms the join rule allows).
 */
export async function restrictedJoinAuthoriser(svc: RoomService, tx: Queryable, head: RoomHead, userId: string): Promise<string | null | undefined> {
  const current = head.state.get(stateKey('m.room.member', userId));
  const joinRuleId = head.state.get(stateKey('m.room.join_rules', ''));
  const joinRule = joinRuleId ? (await svc.reader.getEvent(tx, joinRuleId))?.pdu.content.join_rule : undefined;
  const currentMembership = current ? (await svc.reader.getEvent(tx, current))?.pdu.content.membership : undefined;
  if ((joinRule !== 'restricted' && joinRule !== 'knock_restricted') || currentMembership === 'invite' || currentMembership === 'join') return undefined;
  const authoriser = await findAuthorisingUser(svc, tx, head.state, head.roomId, head.version);
  if (!authoriser || !(await meetsRestrictedAllow(svc, tx, head.state, userId))) return null;
  return authoriser;
}

/** A joined local user with power to invite, as the restricted join rules require. */
async function findAuthorisingUser(
  svc: RoomService,
  tx: import('../storage/sqlite.ts').Queryable,
  state: Map<string, string>,
  roomId: string,
  version: string,
): Promise<string | undefined> {
  const authState = new Map();
  for (const k of [stateKey('m.room.create', ''), stateKey('m.room.power_levels', '')]) {
    const id = state.get(k);
    if (id) authState.set(k, (await svc.reader.getEvent(tx, id))!.pdu);
  }
  const plId = state.get(stateKey('m.room.power_levels', ''));
  const pl = plId ? (await svc.reader.getEvent(tx, plId))!.pdu.content : {};
  const inviteLevel = typeof pl.invite === 'number' ? pl.invite : 0;
  const rv = authRulesVersion(version)!;
  for (const m of await eventsStore.membersOfRoom(tx, roomId)) {
    if (m.membership !== 'join' || !m.user_id.endsWith(`:${svc.serverName}`)) continue;
    if (userPowerLevel(authState, m.user_id, rv) >= inviteLevel) return m.user_id;
  }
  return undefined;
}

/** The join rule's `allow` list: membership of one of the listed rooms (client-server "Restricted rooms"). */
async function meetsRestrictedAllow(
  svc: RoomService,
  tx: import('../storage/sqlite.ts').Queryable,
  state: Map<string, string>,
  userId: string,
): Promise<boolean> {
  const id = state.get(stateKey('m.room.join_rules', ''));
  const allow = id ? (await svc.reader.getEvent(tx, id))?.pdu.content.allow : undefined;
  if (!Array.isArray(allow)) return false;
  for (const a of allow as JsonObject[]) {
    if (a && a.type === 'm.room_membership' && typeof a.room_id === 'string') {
      const m = await eventsStore.membershipOf(tx, a.room_id, userId);
      if (m?.membership === 'join') return true;
    }
  }
  return false;
}

export async function setMembership(
  svc: RoomService,
  roomId: string,
  sender: string,
  target: string,
  membership: 'invite' | 'leave' | 'ban' | 'knock',
  opts: MembershipOptions = {},
): Promise<LoadedEvent> {
  if (!(await svc.roomVersion(roomId))) throw new MatrixError(404, 'M_NOT_FOUND', `Room ${roomId} is not known to this server`);
  const content: JsonObject = { ...(opts.extraContent ?? {}), membership };
  if (opts.reason) content.reason = opts.reason;
  if (membership === 'invite' || membership === 'knock') Object.assign(content, await profileContent(svc, target));
  return svc.write(async (w) => {
    const head = await w.head(roomId);
    if (membership === 'invite') {
      const cur = head.state.get(stateKey('m.room.member', target));
      const curMembership = cur ? (await svc.reader.getEvent(w.tx, cur))?.pdu.content.membership : undefined;
      if (curMembership === 'join') throw new MatrixError(403, 'M_FORBIDDEN', `${target} is already in the room`);
      if (curMembership === 'ban') throw new MatrixError(403, 'M_FORBIDDEN', `${target} is banned from the room`);
    }
    return w.append(roomId, { type: 'm.room.member', sender, stateKey: target, content });
  });
}

/** POST /unban: sets a banned user's membership to leave; anything else is not an unban. */
export async function unban(svc: RoomService, roomId: string, sender: string, target: string, reason?: string): Promise<LoadedEvent> {
  const m = await eventsStore.membershipOf(svc.db.reader, roomId, target);
  if (m?.membership !== 'ban') throw new MatrixError(403, 'M_FORBIDDEN', `${target} is not banned`);
  return setMembership(svc, roomId, sender, target, 'leave', { reason });
}

/** POST /kick: only a user who is in the room (joined, invited or knocking) can be kicked. */
export async function kick(svc: RoomService, roomId: string, sender: string, target: string, reason?: string): Promise<LoadedEvent> {
  const m = await eventsStore.membershipOf(svc.db.reader, roomId, target);
  if (!m || (m.membership !== 'join' && m.membership !== 'invite' && m.membership !== 'knock')) {
    throw new MatrixError(403, 'M_FORBIDDEN', `${target} is not in the room`);
  }
  return setMembership(svc, roomId, sender, target, 'leave', { reason });
}

/** POST /forget: only allowed once the user has left (client-server "Leaving rooms"). */
export async function forgetRoom(svc: RoomService, roomId: string, userId: string): Promise<void> {
  const m = await eventsStore.membershipOf(svc.db.reader, roomId, userId);
  if (m && (m.membership === 'join' || m.membership === 'invite' || m.membership === 'knock')) {
    throw new MatrixError(400, 'M_UNKNOWN', 'You must leave the room before forgetting it');
  }
  if (!m) return;
  await svc.db.write((tx) => eventsStore.forget(tx, roomId, userId));
  svc.membershipEpoch++;
}
