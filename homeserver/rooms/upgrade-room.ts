// POST /rooms/{roomId}/upgrade's behaviour (client-server-api modules/room_upgrades.md "Server
// behaviour"): a replacement room whose m.room.create names its `predecessor`, the old room's
// transferable state copied over, local aliases moved, a tombstone in the old room, and the old
// room's power levels tightened. The old and the new room are written in ONE transaction, so a
// refused step (the tombstone most often) leaves neither room changed.
import { randomBytes } from 'node:crypto';
import type { JsonObject, PDU, StateMap } from '../protocol/types.ts';
import { stateKey } from '../protocol/types.ts';
import { getRoomVersion, type RoomVersion } from '../protocol/room-versions.ts';
import { authRulesVersion, type AuthRulesVersion } from '../protocol/auth-rules-versions.ts';
import { isValidUserId } from '../protocol/identifiers.ts';
import { requiredPowerLevelForEvent, roomCreators, userPowerLevel, parsePowerLevel } from '../protocol/power-levels.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { roomsStore } from '../storage/rooms-store.ts';
import { eventsStore } from '../storage/events-store.ts';
import { accountsStore } from '../storage/accounts-store.ts';
import type { Queryable } from '../storage/sqlite.ts';
import type { RoomHead } from './room-heads.ts';
import type { RoomService, RoomWriter } from './room-service.ts';
import type { NewLocalEvent } from './append-event.ts';

/**
 * The state the spec recommends transferring (room_upgrades.md step 3), power levels apart: they
 * are sent first, raised, and restored at the end. Membership is not copied (a server cannot
 * speak for users of other servers); state outside the m.* namespace is not either, since clients
 * may trust its sender.
 */
const TRANSFERRED_STATE = [
  'm.room.join_rules',
  'm.room.history_visibility',
  'm.room.guest_access',
  'm.room.name',
  'm.room.topic',
  'm.room.avatar',
  'm.room.encryption',
  'm.room.server_acl',
] as const;

/**
 * Join rules under which nobody can join the new room unasked: the old room's members are invited.
 * Under `public` they join by following the tombstone; under `restricted` / `knock_restricted`
 * the allow list (usually a space) admits them as it admitted them to the old room.
 */
const INVITE_MEMBERS_UNDER = new Set(['invite', 'knock']);

/** What room_upgrades.md step 6 suggests: the greater of 50 and users_default + 1. */
const OLD_ROOM_LOCKED_LEVEL = 50;

/** A level that a user who was a creator (infinite power) of the old room keeps in a new room version without creators' infinite power. */
const FORMER_CREATOR_LEVEL = 100;

export interface UpgradeRequest {
  roomId: string;
  userId: string;
  newVersion: string;
  /** Only for versions with additional creators (v12); ignored otherwise, as the spec says. */
  additionalCreators?: string[];
}

export interface UpgradeResult {
  replacementRoom: string;
  /** Members of other servers to invite once the room exists: their server co-signs each invite. */
  remoteInvites: string[];
}

export async function upgradeRoom(svc: RoomService, req: UpgradeRequest): Promise<UpgradeResult> {
  const version = getRoomVersion(req.newVersion);
  if (!version) throw new MatrixError(400, 'M_UNSUPPORTED_ROOM_VERSION', `Room version '${req.newVersion}' is not supported by this server`);
  const extraCreators = version.additionalCreators ? [...new Set(req.additionalCreators ?? [])].filter((u) => u !== req.userId) : [];
  for (const u of extraCreators) if (!isValidUserId(u)) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid user id in additional_creators: ${u}`);
  const oldVersion = await svc.roomVersion(req.roomId);
  if (!oldVersion) throw new MatrixError(404, 'M_NOT_FOUND', `Unknown room ${req.roomId}`);

  return svc.write(async (w) => {
    const oldHead = await w.head(req.roomId);
    const oldState = await loadState(svc, w.tx, oldHead);
    const oldRules = authRulesVersion(oldHead.version)!;
    // Step 1: the power to send the tombstone, checked before anything is built (the tombstone's
    // own auth check at the end would refuse it too, but only after the new room was made).
    const member = oldState.get(stateKey('m.room.member', req.userId));
    if (member?.content.membership !== 'join') throw new MatrixError(403, 'M_FORBIDDEN', 'You are not in this room');
    if (userPowerLevel(oldState, req.userId, oldRules) < requiredPowerLevelForEvent(oldState, 'm.room.tombstone', true)) {
      throw new MatrixError(403, 'M_FORBIDDEN', 'You may not upgrade this room: your power level is below the level of m.room.tombstone');
    }
    const oldCreate = oldState.get(stateKey('m.room.create', ''))!;

    // Step 2: the replacement room, with `predecessor` and the old room's `type`.
    const createContent: JsonObject = { room_version: req.newVersion, predecessor: { room_id: req.roomId, event_id: latestEventId(oldHead) } };
    if (typeof oldCreate.content.type === 'string') createContent.type = oldCreate.content.type;
    if (!version.creatorFromSender) createContent.creator = req.userId;
    if (extraCreators.length > 0) createContent.additional_creators = extraCreators;
    const provisionalId = `!${randomBytes(12).toString('base64url')}:${svc.serverName}`;
    const head: RoomHead = { roomId: provisionalId, version: req.newVersion, state: new Map(), stateGroup: null, chainLength: 0, extremities: [], maxDepth: 0 };
    const send = (type: string, key: string, content: JsonObject) => w.appendToNewHead(head, { type, sender: req.userId, stateKey: key, content });
    await send('m.room.create', '', createContent);
    const room = (await roomsStore.getRoom(w.tx, req.roomId))!;
    await roomsStore.insertRoom(w.tx, head.roomId, req.newVersion, req.userId, room.is_public === 1);
    await send('m.room.member', req.userId, { ...(await profile(w.tx, req.userId)), membership: 'join' });

    // Step 3: the state, under power levels that let the upgrader send it all, restored after.
    const newCreators = new Set(version.creatorsHaveInfinitePower ? [req.userId, ...extraCreators] : []);
    const restored = powerLevelsForNewRoom(oldState, oldRules, newCreators, version);
    const copied: Array<[string, JsonObject]> = [];
    for (const type of TRANSFERRED_STATE) {
      const e = oldState.get(stateKey(type, ''));
      if (e && Object.keys(e.content).length > 0) copied.push([type, e.content]);
    }
    const raised = raisedFor(restored, req.userId, newCreators, [...copied.map(([t]) => t), 'm.room.power_levels', 'm.room.canonical_alias', 'm.room.member']);
    await send('m.room.power_levels', '', raised);
    for (const [type, content] of copied) await send(type, '', content);

    // Step 4: local aliases move, and the canonical alias follows them.
    await roomsStore.moveAliases(w.tx, req.roomId, head.roomId);
    const canonical = oldState.get(stateKey('m.room.canonical_alias', ''));
    if (canonical && Object.keys(canonical.content).length > 0) await send('m.room.canonical_alias', '', canonical.content);
    if (room.is_public === 1) await roomsStore.setPublic(w.tx, req.roomId, false);

    // Members: bans carry over (or the upgrade would lift them); in a room nobody may join
    // unasked, the old room's members are invited (local ones here, others by the caller).
    const remoteInvites: string[] = [];
    const joinRule = oldState.get(stateKey('m.room.join_rules', ''))?.content.join_rule ?? 'invite';
    for (const m of await eventsStore.membersOfRoom(w.tx, req.roomId)) {
      if (m.user_id === req.userId) continue;
      if (m.membership === 'ban') await send('m.room.member', m.user_id, { membership: 'ban' });
      else if ((m.membership === 'join' || m.membership === 'invite') && INVITE_MEMBERS_UNDER.has(String(joinRule))) {
        if (!m.user_id.endsWith(`:${svc.serverName}`)) remoteInvites.push(m.user_id);
        else await send('m.room.member', m.user_id, { ...(await profile(w.tx, m.user_id)), membership: 'invite' });
      }
    }
    if (JSON.stringify(raised) !== JSON.stringify(restored)) await send('m.room.power_levels', '', restored);

    // Step 5: the tombstone; step 6: the old room closed to new messages and invites if we may.
    await w.append(req.roomId, {
      type: 'm.room.tombstone',
      sender: req.userId,
      stateKey: '',
      content: { body: 'This room has been replaced', replacement_room: head.roomId },
    });
    await lockOldRoom(w, req, oldState);
    // The moved aliases no longer lead to the old room: it stops naming them (as Synapse does).
    if (canonical && Object.keys(canonical.content).length > 0)
      await sendIfAllowed(w, req.roomId, { type: 'm.room.canonical_alias', sender: req.userId, stateKey: '', content: {} });
    return { replacementRoom: head.roomId, remoteInvites };
  });
}

async function loadState(svc: RoomService, q: Queryable, head: RoomHead): Promise<StateMap> {
  const out: StateMap = new Map();
  for (const [key, id] of head.state) {
    const e = await svc.reader.getEvent(q, id);
    if (e) out.set(key, e.pdu);
  }
  return out;
}

/** The old room's newest event: predecessor.event_id, "the last known event in the old room". */
function latestEventId(head: RoomHead): string {
  return head.extremities[head.extremities.length - 1]!;
}

async function profile(q: Queryable, userId: string): Promise<JsonObject> {
  const u = await accountsStore.getUser(q, userId);
  const c: JsonObject = {};
  if (u?.displayname) c.displayname = u.displayname;
  if (u?.avatar_url) c.avatar_url = u.avatar_url;
  return c;
}

/**
 * The old room's power levels as the new room version allows them. Into v12 (rooms/v12.md): the
 * new room's creators may not be listed in `users`, and `m.room.tombstone` must stay above
 * `state_default`. Out of v12 into an older version: the old room's creators had infinite power
 * and were never listed; they are given FORMER_CREATOR_LEVEL, or nobody would administer the room.
 */
function powerLevelsForNewRoom(oldState: StateMap, oldRules: AuthRulesVersion, newCreators: Set<string>, version: RoomVersion): JsonObject {
  const oldEvent = oldState.get(stateKey('m.room.power_levels', ''));
  const content: JsonObject = structuredClone(oldEvent?.content ?? {});
  const users: JsonObject = { ...((content.users as JsonObject | undefined) ?? {}) };
  // Creators whose power came from being creators, not from `users`: v12's (infinite), and any
  // room's without power levels (auth rules: "the room's creator has a power level of 100").
  const implicit = oldRules.creatorsHaveInfinitePower || !oldEvent;
  if (implicit && !version.creatorsHaveInfinitePower)
    for (const c of roomCreators(oldState, oldRules)) users[c] = Math.max(FORMER_CREATOR_LEVEL, levelIn(users[c]));
  for (const c of newCreators) delete users[c];
  content.users = users;
  if (!version.integerPowerLevels) return content;
  // Rooms v10+ require integer levels; an older room may hold strings ("50"), which are converted.
  return integerLevels(content);
}

function levelIn(v: JsonObject[string] | undefined): number {
  return parsePowerLevel(v, true) ?? 0;
}

function integerLevels(content: JsonObject): JsonObject {
  const out: JsonObject = { ...content };
  for (const [k, v] of Object.entries(out)) {
    if (typeof v === 'string') out[k] = levelIn(v);
    else if ((k === 'users' || k === 'events' || k === 'notifications') && v && typeof v === 'object' && !Array.isArray(v)) {
      const inner: JsonObject = {};
      for (const [ik, iv] of Object.entries(v as JsonObject)) inner[ik] = typeof iv === 'string' ? levelIn(iv) : iv;
      out[k] = inner;
    }
  }
  return out;
}

/** `content` with the upgrader raised to the highest level any of `types` (or a ban) needs; unchanged for a creator of infinite power. */
function raisedFor(content: JsonObject, userId: string, creators: Set<string>, types: string[]): JsonObject {
  if (creators.has(userId)) return content;
  const state: StateMap = new Map([[stateKey('m.room.power_levels', ''), { content } as unknown as PDU]]);
  let needed = Math.max(levelIn(content.ban ?? 50), levelIn(content.invite ?? 0));
  for (const t of types) needed = Math.max(needed, requiredPowerLevelForEvent(state, t, true));
  const users = (content.users as JsonObject | undefined) ?? {};
  if (levelIn(users[userId] ?? content.users_default) >= needed) return content;
  return { ...content, users: { ...users, [userId]: needed } };
}

/**
 * room_upgrades.md step 6, "if possible": events_default and invite raised to the greater of 50
 * and users_default + 1. A user who may tombstone but not change these levels leaves them as they are.
 */
async function lockOldRoom(w: RoomWriter, req: UpgradeRequest, oldState: StateMap): Promise<void> {
  const old = oldState.get(stateKey('m.room.power_levels', ''))?.content ?? {};
  const locked = Math.max(OLD_ROOM_LOCKED_LEVEL, levelIn(old.users_default) + 1);
  if (levelIn(old.events_default) >= locked && levelIn(old.invite) >= locked) return;
  await sendIfAllowed(w, req.roomId, {
    type: 'm.room.power_levels',
    sender: req.userId,
    stateKey: '',
    content: { ...old, events_default: Math.max(locked, levelIn(old.events_default)), invite: Math.max(locked, levelIn(old.invite)) },
  });
}

/** Sends an event the upgrader may lack the power for; a refused event is never stored, so the transaction goes on. */
async function sendIfAllowed(w: RoomWriter, roomId: string, ev: NewLocalEvent): Promise<void> {
  try {
    await w.append(roomId, ev);
  } catch (err) {
    if (!(err instanceof MatrixError && err.errcode === 'M_FORBIDDEN')) throw err;
  }
}
