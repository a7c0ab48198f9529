// The authorisation rules of room versions 6..12 (content/rooms/v6.md .. v12.md, "Authorisation rules"),
// one branch per numbered rule. Rule ids in AuthError are the spec's numbers for the event's room
// version: v8 moved the membership rules down one place (new 4.2), v10 added 9.1/9.2, v12 added
// rule 2 and 10.4 and renumbered everything after rule 1.
//
// What the caller owns: signature and hash checks (rule 4.2 trusts `isSignedBy`, which defaults to
// "a signature from that server is present"), computing event ids (v12 rule 2 takes `createEventId`),
// and third-party invite signatures (`verifyThirdPartyInvite`; without it 3pid invites are rejected).

import { authEventKeysFor } from './auth-events-selection.ts';
import { KNOWN_ROOM_VERSIONS } from './auth-rules-versions.ts';
import type { AuthRulesVersion } from './auth-rules-versions.ts';
import { parsePowerLevel, powerLevelFor, requiredPowerLevelForEvent, roomCreators, userPowerLevel } from './power-levels.ts';
import { stateKey } from './types.ts';
import type { JsonObject, JsonValue, PDU, StateMap } from './types.ts';

/** An event failed the authorisation rules; `rule` is the spec's rule number for the room version, e.g. '4.3.3'. */
export class AuthError extends Error {
  readonly rule: string;
  constructor(rule: string, message: string) {
    super(`auth rule ${rule}: ${message}`);
    this.name = 'AuthError';
    this.rule = rule;
  }
}

/** One entry of an event's `auth_events`, resolved, with whether it was itself rejected. */
export interface AuthEventEntry {
  pdu: PDU;
  rejected?: boolean;
}

export interface CheckEventAuthOptions {
  /**
   * The event id of the m.room.create event in `authState`. Required in v12 (rule 2: the room id must
   * be this id with sigil `!`). In v6..v11 it makes rule 4.x.1 ("the only previous event is the
   * m.room.create") exact; without it that rule holds when there is one prev event and `authState`
   * has no m.room.member event yet.
   */
  createEventId?: string;
  /** The resolved `auth_events` of a received event; when given, rule 2 (v12: 3) checks the list itself. */
  authEvents?: readonly AuthEventEntry[];
  /** Rule 1.3's "recognised version"; defaults to room versions 1..12. */
  isRecognisedRoomVersion?: (roomVersion: string) => boolean;
  /**
   * Rule 4.2.1 (v8+): whether `event` carries a valid signature from `serverName`. The default only
   * checks that such a signature is present: the caller verifies signatures on receipt of a PDU.
   */
  isSignedBy?: (event: PDU, serverName: string) => boolean;
  /**
   * Rule 4.x.1.7: whether any signature in `signed` verifies with any of `publicKeys` (unpadded
   * base64 ed25519 keys from the m.room.third_party_invite event). Without it every 3pid invite is rejected.
   */
  verifyThirdPartyInvite?: (signed: JsonObject, publicKeys: string[]) => boolean;
}

/** Where each rule sits in the numbering of a room version. */
interface RuleNumbers {
  roomIdIsCreate: string | undefined;
  authEvents: string;
  federate: string;
  member: string;
  joinAuthorisedVia: string | undefined;
  join: string;
  invite: string;
  leave: string;
  ban: string;
  knock: string | undefined;
  unknownMembership: string;
  senderJoined: string;
  thirdPartyInvite: string;
  requiredLevel: string;
  stateKeyIsSender: string;
  powerLevels: string;
  plScalarTypes: string | undefined;
  plMapTypes: string | undefined;
  plUsers: string;
  plCreators: string | undefined;
  plNoPrevious: string;
  plScalars: string;
  plEventsOld: string;
  plEventsNew: string;
  plUsersOld: string;
  plUsersNew: string;
}

function ruleNumbers(v: AuthRulesVersion): RuleNumbers {
  const shift = v.roomIdFromCreateEvent ? 1 : 0; // v12 inserts rule 2
  const top = (n: number): string => String(n + shift);
  const member = top(4);
  let m = 2;
  const joinAuthorisedVia = v.restrictedJoinRule ? `${member}.${m++}` : undefined;
  const join = `${member}.${m++}`;
  const invite = `${member}.${m++}`;
  const leave = `${member}.${m++}`;
  const ban = `${member}.${m++}`;
  const knock = v.knockJoinRule ? `${member}.${m++}` : undefined;
  const unknownMembership = `${member}.${m}`;
  const pl = top(9);
  let p = 1;
  const plScalarTypes = v.integerPowerLevels ? `${pl}.${p++}` : undefined;
  const plMapTypes = v.integerPowerLevels ? `${pl}.${p++}` : undefined;
  const plUsers = `${pl}.${p++}`;
  const plCreators = v.creatorsHaveInfinitePower ? `${pl}.${p++}` : undefined;
  return {
    roomIdIsCreate: v.roomIdFromCreateEvent ? '2' : undefined,
    authEvents: top(2),
    federate: top(3),
    member,
    joinAuthorisedVia,
    join,
    invite,
    leave,
    ban,
    knock,
    unknownMembership,
    senderJoined: top(5),
    thirdPartyInvite: top(6),
    requiredLevel: top(7),
    stateKeyIsSender: top(8),
    powerLevels: pl,
    plScalarTypes,
    plMapTypes,
    plUsers,
    plCreators,
    plNoPrevious: `${pl}.${p++}`,
    plScalars: `${pl}.${p++}`,
    plEventsOld: `${pl}.${p++}`,
    plEventsNew: `${pl}.${p++}`,
    plUsersOld: `${pl}.${p++}`,
    plUsersNew: `${pl}.${p}`,
  };
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const SERVER_NAME = /^(?:\[[0-9A-Fa-f:.]{2,45}\]|[0-9A-Za-z.-]{1,255})(?::[0-9]{1,5})?$/;

/** The part after the first `:` of a user or room id (its server name), or undefined. */
function domainOf(id: string): string | undefined {
  const colon = id.indexOf(':');
  return colon < 0 ? undefined : id.slice(colon + 1);
}

/**
 * A user id as accepted in events: `@`, a localpart of any code points but `:` and NUL (historical
 * user ids, appendices.md), `:`, a server name; at most 255 bytes. Kept here so this module stays
 * self-contained; identifiers.ts may take its place once it settles.
 */
function isValidUserId(id: unknown): id is string {
  if (typeof id !== 'string' || !id.startsWith('@')) return false;
  const colon = id.indexOf(':');
  if (colon < 0 || id.slice(1, colon).includes('\u0000')) return false;
  if (!SERVER_NAME.test(id.slice(colon + 1))) return false;
  return new TextEncoder().encode(id).length <= 255;
}

function membershipOf(state: StateMap, userId: string): JsonValue | undefined {
  return state.get(stateKey('m.room.member', userId))?.content.membership;
}

/**
 * The room's join rule. A room without m.room.join_rules is treated as `invite`, as Synapse and
 * Dendrite do; the spec does not say.
 */
function joinRuleOf(state: StateMap): JsonValue | undefined {
  const joinRules = state.get(stateKey('m.room.join_rules', ''));
  return joinRules ? joinRules.content.join_rule : 'invite';
}

const CREATE_KEY = stateKey('m.room.create', '');
const POWER_LEVELS_KEY = stateKey('m.room.power_levels', '');

/**
 * Apply the authorisation rules of `version` to `event` against `authState` (the state its auth events
 * describe: for a received event the events named in `auth_events`, for a local one the relevant
 * entries of the current state; in v12 the caller adds the m.room.create event). Returns when the
 * event is allowed and throws AuthError when it is rejected.
 */
export function checkEventAuth(event: PDU, authState: StateMap, version: AuthRulesVersion, opts: CheckEventAuthOptions = {}): void {
  // Rule 1: m.room.create.
  if (event.type === 'm.room.create') return checkCreate(event, version, opts);

  const n = ruleNumbers(version);
  const create = authState.get(CREATE_KEY);

  // v12 rule 2: the room id is the id of an accepted m.room.create event with sigil `!`.
  if (n.roomIdIsCreate !== undefined) {
    if (!create) throw new AuthError(n.roomIdIsCreate, 'no m.room.create event is known for this room');
    if (opts.createEventId === undefined) {
      throw new TypeError('checkEventAuth: room version 12 needs opts.createEventId to check rule 2');
    }
    if (event.room_id !== `!${opts.createEventId.slice(1)}`) {
      throw new AuthError(n.roomIdIsCreate, `room_id ${String(event.room_id)} is not the m.room.create event id`);
    }
  }

  // Rule 2 (v12: 3): the auth_events list itself.
  if (opts.authEvents) checkAuthEventsList(event, opts.authEvents, version);
  if (!version.roomIdFromCreateEvent && !create) {
    throw new AuthError(`${n.authEvents}.4`, 'there is no m.room.create event among the auth events');
  }

  // Rule 3 (v12: 4): m.federate.
  if (create && create.content['m.federate'] === false && domainOf(event.sender) !== domainOf(create.sender)) {
    throw new AuthError(n.federate, `the room does not federate and ${event.sender} is not on the creator's server`);
  }

  // Rule 4 (v12: 5): m.room.member.
  if (event.type === 'm.room.member') return checkMember(event, authState, version, n, opts);

  // Rule 5 (v12: 6).
  if (membershipOf(authState, event.sender) !== 'join') {
    throw new AuthError(n.senderJoined, `${event.sender} is not joined to the room`);
  }
  const senderLevel = userPowerLevel(authState, event.sender, version);

  // Rule 6 (v12: 7): m.room.third_party_invite.
  if (event.type === 'm.room.third_party_invite') {
    if (senderLevel >= powerLevelFor('invite', authState)) return;
    throw new AuthError(`${n.thirdPartyInvite}.1`, `${event.sender} is below the invite level`);
  }

  // Rule 7 (v12: 8): the event type's required power level. m.room.redaction is no exception: the
  // redact level is for handling redactions, not for the auth rules.
  const required = requiredPowerLevelForEvent(authState, event.type, event.state_key !== undefined);
  if (required > senderLevel) {
    throw new AuthError(n.requiredLevel, `${event.type} needs power level ${required}, ${event.sender} has ${senderLevel}`);
  }

  // Rule 8 (v12: 9).
  if (typeof event.state_key === 'string' && event.state_key.startsWith('@') && event.state_key !== event.sender) {
    throw new AuthError(n.stateKeyIsSender, `state_key ${event.state_key} is a user id other than the sender`);
  }

  // Rule 9 (v12: 10): m.room.power_levels. Since v6 m.room.aliases has no rule of its own (v6.md).
  if (event.type === 'm.room.power_levels') checkPowerLevels(event, authState, version, n, senderLevel);

  // Rule 10 (v12: 11): allow.
}

/** Rule 1: an m.room.create event. */
function checkCreate(event: PDU, version: AuthRulesVersion, opts: CheckEventAuthOptions): void {
  if (event.prev_events.length > 0) throw new AuthError('1.1', 'm.room.create has prev_events');
  if (version.roomIdFromCreateEvent) {
    if (Object.hasOwn(event, 'room_id')) throw new AuthError('1.2', 'm.room.create has a room_id');
  } else if (typeof event.room_id !== 'string' || domainOf(event.room_id) !== domainOf(event.sender)) {
    throw new AuthError('1.2', `the domain of room_id ${String(event.room_id)} is not the sender's`);
  }
  if (Object.hasOwn(event.content, 'room_version')) {
    const roomVersion = event.content.room_version;
    const recognised = opts.isRecognisedRoomVersion ?? ((id: string) => KNOWN_ROOM_VERSIONS.includes(id));
    if (typeof roomVersion !== 'string' || !recognised(roomVersion)) {
      throw new AuthError('1.3', `room_version ${JSON.stringify(roomVersion)} is not recognised`);
    }
  }
  if (version.creatorsHaveInfinitePower) {
    if (Object.hasOwn(event.content, 'additional_creators')) {
      const extra = event.content.additional_creators;
      if (!Array.isArray(extra) || !extra.every((id) => isValidUserId(id))) {
        throw new AuthError('1.4', 'additional_creators is not an array of valid user ids');
      }
    }
  } else if (!version.creatorFromSender && !Object.hasOwn(event.content, 'creator')) {
    throw new AuthError('1.4', 'm.room.create content has no creator');
  }
  // 1.5 (v11: 1.4): allow.
}

/** Rule 2 (v12: 3): the event's `auth_events`, as resolved by the caller. */
export function checkAuthEventsList(event: PDU, authEvents: readonly AuthEventEntry[], version: AuthRulesVersion): void {
  const r = ruleNumbers(version).authEvents;
  const seen = new Set<string>();
  for (const { pdu } of authEvents) {
    const key = JSON.stringify([pdu.type, pdu.state_key ?? null]);
    if (seen.has(key)) throw new AuthError(`${r}.1`, `auth_events has two ${pdu.type} events for one state_key`);
    seen.add(key);
  }
  const selected = authEventKeysFor(event, version);
  for (const { pdu } of authEvents) {
    if (!selected.some(([type, key]) => type === pdu.type && key === pdu.state_key)) {
      throw new AuthError(`${r}.2`, `auth_events holds ${pdu.type} (${String(pdu.state_key)}), which is not selected for this event`);
    }
  }
  for (const { pdu, rejected } of authEvents) {
    if (rejected) throw new AuthError(`${r}.3`, `auth event ${pdu.type} (${String(pdu.state_key)}) was rejected`);
  }
  if (!version.roomIdFromCreateEvent && !authEvents.some(({ pdu }) => pdu.type === 'm.room.create')) {
    throw new AuthError(`${r}.4`, 'there is no m.room.create event among the auth events');
  }
  for (const { pdu } of authEvents) {
    if (pdu.room_id !== event.room_id) {
      throw new AuthError(`${r}.5`, `auth event ${pdu.type} is in room ${String(pdu.room_id)}`);
    }
  }
}

/** Rule 4 (v12: 5): m.room.member. Returns when allowed. */
function checkMember(event: PDU, authState: StateMap, version: AuthRulesVersion, n: RuleNumbers, opts: CheckEventAuthOptions): void {
  const target = event.state_key;
  const membership = event.content.membership;
  if (typeof target !== 'string' || !Object.hasOwn(event.content, 'membership')) {
    throw new AuthError(`${n.member}.1`, 'm.room.member needs a state_key and content.membership');
  }

  // 4.2 (v8+): join_authorised_via_users_server must be signed by that user's server.
  const via = event.content.join_authorised_via_users_server;
  if (n.joinAuthorisedVia !== undefined && Object.hasOwn(event.content, 'join_authorised_via_users_server')) {
    const server = typeof via === 'string' ? domainOf(via) : undefined;
    const signed = server !== undefined && (opts.isSignedBy ? opts.isSignedBy(event, server) : Object.keys(event.signatures?.[server] ?? {}).length > 0);
    if (!signed) {
      throw new AuthError(`${n.joinAuthorisedVia}.1`, `not signed by the server of join_authorised_via_users_server ${String(via)}`);
    }
  }

  const sender = event.sender;
  const senderMembership = membershipOf(authState, sender);
  const targetMembership = membershipOf(authState, target);
  const senderLevel = (): number => userPowerLevel(authState, sender, version);
  const targetLevel = (): number => userPowerLevel(authState, target, version);

  if (membership === 'join') {
    const r = n.join;
    const create = authState.get(CREATE_KEY);
    const creator = version.creatorFromSender ? create?.sender : create?.content.creator;
    const onlyPrevIsCreate =
      event.prev_events.length === 1 &&
      (opts.createEventId !== undefined
        ? event.prev_events[0] === opts.createEventId
        : ![...authState.keys()].some((key) => key.startsWith('m.room.member\u0000')));
    if (onlyPrevIsCreate && create && target === creator) return; // .1
    if (sender !== target) throw new AuthError(`${r}.2`, `${sender} cannot make ${target} join`);
    if (senderMembership === 'ban') throw new AuthError(`${r}.3`, `${sender} is banned`);
    const joinRule = joinRuleOf(authState);
    // .4: invite (and knock, v7+): only the invited or joined. Failing that, no later branch matches.
    if (joinRule === 'invite' || (version.knockJoinRule && joinRule === 'knock')) {
      if (senderMembership === 'invite' || senderMembership === 'join') return;
    } else if ((version.restrictedJoinRule && joinRule === 'restricted') || (version.knockRestrictedJoinRule && joinRule === 'knock_restricted')) {
      // .5 (v8+): restricted (and knock_restricted, v10+).
      if (senderMembership === 'invite' || senderMembership === 'join') return; // .5.1
      if (typeof via !== 'string' || membershipOf(authState, via) !== 'join' || userPowerLevel(authState, via, version) < powerLevelFor('invite', authState)) {
        throw new AuthError(`${r}.5.2`, `join_authorised_via_users_server ${String(via)} is not a joined user able to invite`);
      }
      return; // .5.3
    } else if (joinRule === 'public') {
      return; // .5 (v8+: .6)
    }
    const otherwise = version.restrictedJoinRule ? '7' : '6';
    throw new AuthError(`${r}.${otherwise}`, `join rule ${JSON.stringify(joinRule)} does not let ${sender} (${String(senderMembership)}) join`);
  }

  if (membership === 'invite') {
    const r = n.invite;
    if (Object.hasOwn(event.content, 'third_party_invite')) {
      checkThirdPartyInvite(event, target, targetMembership, authState, `${r}.1`, opts);
      return;
    }
    if (senderMembership !== 'join') throw new AuthError(`${r}.2`, `${sender} is not joined`);
    if (targetMembership === 'join' || targetMembership === 'ban') {
      throw new AuthError(`${r}.3`, `${target} is already ${targetMembership}`);
    }
    if (senderLevel() >= powerLevelFor('invite', authState)) return; // .4
    throw new AuthError(`${r}.5`, `${sender} is below the invite level`);
  }

  if (membership === 'leave') {
    const r = n.leave;
    if (sender === target) {
      const mayLeave = senderMembership === 'invite' || senderMembership === 'join' || (version.knockJoinRule && senderMembership === 'knock');
      if (mayLeave) return;
      throw new AuthError(`${r}.1`, `${sender} cannot leave from membership ${String(senderMembership)}`);
    }
    if (senderMembership !== 'join') throw new AuthError(`${r}.2`, `${sender} is not joined`);
    if (targetMembership === 'ban' && senderLevel() < powerLevelFor('ban', authState)) {
      throw new AuthError(`${r}.3`, `${sender} is below the ban level and cannot unban ${target}`);
    }
    if (senderLevel() >= powerLevelFor('kick', authState) && targetLevel() < senderLevel()) return; // .4
    throw new AuthError(`${r}.5`, `${sender} cannot kick ${target}`);
  }

  if (membership === 'ban') {
    const r = n.ban;
    if (senderMembership !== 'join') throw new AuthError(`${r}.1`, `${sender} is not joined`);
    if (senderLevel() >= powerLevelFor('ban', authState) && targetLevel() < senderLevel()) return; // .2
    throw new AuthError(`${r}.3`, `${sender} cannot ban ${target}`);
  }

  if (membership === 'knock' && n.knock !== undefined) {
    const r = n.knock;
    const joinRule = joinRuleOf(authState);
    if (joinRule !== 'knock' && !(version.knockRestrictedJoinRule && joinRule === 'knock_restricted')) {
      throw new AuthError(`${r}.1`, `join rule ${JSON.stringify(joinRule)} does not allow knocking`);
    }
    if (sender !== target) throw new AuthError(`${r}.2`, `${sender} cannot knock for ${target}`);
    if (senderMembership !== 'ban' && senderMembership !== 'invite' && senderMembership !== 'join') return; // .3
    throw new AuthError(`${r}.4`, `${sender} cannot knock while ${String(senderMembership)}`);
  }

  throw new AuthError(n.unknownMembership, `unknown membership ${JSON.stringify(membership)}`);
}

/** Rule 4.x.1 (invite with `content.third_party_invite`); `r` is e.g. '4.4.1'. Returns when allowed. */
function checkThirdPartyInvite(
  event: PDU,
  target: string,
  targetMembership: JsonValue | undefined,
  authState: StateMap,
  r: string,
  opts: CheckEventAuthOptions,
): void {
  if (targetMembership === 'ban') throw new AuthError(`${r}.1`, `${target} is banned`);
  const invite = event.content.third_party_invite;
  const signed = isObject(invite) ? invite.signed : undefined;
  if (!isObject(signed)) throw new AuthError(`${r}.2`, 'third_party_invite has no signed object');
  const { mxid, token } = signed;
  if (typeof mxid !== 'string' || typeof token !== 'string') {
    throw new AuthError(`${r}.3`, 'third_party_invite.signed needs mxid and token');
  }
  if (mxid !== target) throw new AuthError(`${r}.4`, `signed mxid ${mxid} is not the state_key ${target}`);
  const invitation = authState.get(stateKey('m.room.third_party_invite', token));
  if (!invitation) throw new AuthError(`${r}.5`, `no m.room.third_party_invite with token ${token}`);
  if (invitation.sender !== event.sender) {
    throw new AuthError(`${r}.6`, 'the sender did not send the m.room.third_party_invite');
  }
  const publicKeys: string[] = [];
  if (typeof invitation.content.public_key === 'string') publicKeys.push(invitation.content.public_key);
  const more = invitation.content.public_keys;
  if (Array.isArray(more)) {
    for (const entry of more) if (isObject(entry) && typeof entry.public_key === 'string') publicKeys.push(entry.public_key);
  }
  if (opts.verifyThirdPartyInvite?.(signed, publicKeys)) return; // .7
  throw new AuthError(`${r}.8`, 'no signature in third_party_invite.signed matches a public key of the invitation');
}

const POWER_LEVEL_SCALARS = ['users_default', 'events_default', 'state_default', 'ban', 'redact', 'kick', 'invite'];

interface LevelChange {
  key: string;
  /** The current value; undefined when the entry is being added. */
  old: number | undefined;
  /** The new value; undefined when the entry is being removed. */
  new: number | undefined;
}

/**
 * Entries added, changed or removed between two maps of levels. An entry whose value is not an
 * integer counts as absent; values are compared as integers, so "50" and 50 are unchanged (pre-v10).
 */
function levelChanges(before: JsonValue | undefined, after: JsonValue | undefined): LevelChange[] {
  const oldMap = isObject(before) ? before : {};
  const newMap = isObject(after) ? after : {};
  const changes: LevelChange[] = [];
  for (const key of new Set([...Object.keys(oldMap), ...Object.keys(newMap)])) {
    const old = Object.hasOwn(oldMap, key) ? parsePowerLevel(oldMap[key], true) : undefined;
    const now = Object.hasOwn(newMap, key) ? parsePowerLevel(newMap[key], true) : undefined;
    if (old !== now) changes.push({ key, old, new: now });
  }
  return changes;
}

/** Rule 9 (v12: 10): m.room.power_levels. Returns when allowed. */
function checkPowerLevels(event: PDU, authState: StateMap, version: AuthRulesVersion, n: RuleNumbers, senderLevel: number): void {
  const content = event.content;
  const isInteger = (value: JsonValue | undefined): boolean => parsePowerLevel(value, !version.integerPowerLevels) !== undefined;

  if (n.plScalarTypes !== undefined) {
    for (const key of POWER_LEVEL_SCALARS) {
      if (Object.hasOwn(content, key) && !isInteger(content[key])) {
        throw new AuthError(n.plScalarTypes, `${key} is not an integer`);
      }
    }
  }
  if (n.plMapTypes !== undefined) {
    for (const key of ['events', 'notifications']) {
      if (!Object.hasOwn(content, key)) continue;
      const map = content[key];
      if (!isObject(map) || !Object.values(map).every(isInteger)) {
        throw new AuthError(n.plMapTypes, `${key} is not an object of integers`);
      }
    }
  }
  // A power levels event without `users` is accepted, as Synapse does.
  if (Object.hasOwn(content, 'users')) {
    const users = content.users;
    if (!isObject(users)) throw new AuthError(n.plUsers, 'users is not an object');
    for (const [userId, level] of Object.entries(users)) {
      if (!isValidUserId(userId)) throw new AuthError(n.plUsers, `users has key ${JSON.stringify(userId)}, not a user id`);
      if (!isInteger(level)) throw new AuthError(n.plUsers, `users[${userId}] is not an integer`);
    }
  }
  if (n.plCreators !== undefined && isObject(content.users)) {
    for (const creator of roomCreators(authState, version)) {
      if (Object.hasOwn(content.users, creator)) {
        throw new AuthError(n.plCreators, `room creator ${creator} cannot be listed in users`);
      }
    }
  }

  const previous = authState.get(POWER_LEVELS_KEY);
  if (!previous) return; // no previous m.room.power_levels: allow
  const before = previous.content;

  for (const change of levelChanges(pick(before, POWER_LEVEL_SCALARS), pick(content, POWER_LEVEL_SCALARS))) {
    if (change.old !== undefined && change.old > senderLevel) {
      throw new AuthError(`${n.plScalars}.1`, `${change.key} is now ${change.old}, above the sender's ${senderLevel}`);
    }
    if (change.new !== undefined && change.new > senderLevel) {
      throw new AuthError(`${n.plScalars}.2`, `${change.key} would be ${change.new}, above the sender's ${senderLevel}`);
    }
  }
  const mapChanges = [
    ...levelChanges(before.events, content.events).map((c) => ({ ...c, key: `events.${c.key}` })),
    ...levelChanges(before.notifications, content.notifications).map((c) => ({ ...c, key: `notifications.${c.key}` })),
  ];
  for (const change of mapChanges) {
    if (change.old !== undefined && change.old > senderLevel) {
      throw new AuthError(`${n.plEventsOld}.1`, `${change.key} is now ${change.old}, above the sender's ${senderLevel}`);
    }
  }
  for (const change of mapChanges) {
    if (change.new !== undefined && change.new > senderLevel) {
      throw new AuthError(`${n.plEventsNew}.1`, `${change.key} would be ${change.new}, above the sender's ${senderLevel}`);
    }
  }
  const userChanges = levelChanges(before.users, content.users);
  for (const change of userChanges) {
    if (change.key !== event.sender && change.old !== undefined && change.old >= senderLevel) {
      throw new AuthError(`${n.plUsersOld}.1`, `${change.key} is at ${change.old}, not below the sender's ${senderLevel}`);
    }
  }
  for (const change of userChanges) {
    if (change.new !== undefined && change.new > senderLevel) {
      throw new AuthError(`${n.plUsersNew}.1`, `${change.key} would be ${change.new}, above the sender's ${senderLevel}`);
    }
  }
  // Otherwise, allow.
}

function pick(content: JsonObject, keys: readonly string[]): JsonObject {
  const out: JsonObject = {};
  for (const key of keys) if (Object.hasOwn(content, key)) out[key] = content[key];
  return out;
}
