// Reading m.room.power_levels the way the authorisation rules do, with the spec's defaults
// (client-server m.room.power_levels schema: data/event-schemas/schema/m.room.power_levels.yaml)
// and the room creators' levels (rooms/v1..v11: creator 100 without a power levels event;
// rooms/v12.md: creators have infinite power always).

import type { AuthRulesVersion } from './auth-rules-versions.ts';
import { stateKey } from './types.ts';
import type { JsonObject, JsonValue, PDU, StateMap } from './types.ts';

export const DEFAULT_USERS_DEFAULT = 0;
export const DEFAULT_EVENTS_DEFAULT = 0;
export const DEFAULT_STATE_DEFAULT = 50;
export const DEFAULT_INVITE = 0;
export const DEFAULT_KICK = 50;
export const DEFAULT_BAN = 50;
export const DEFAULT_REDACT = 50;
export const DEFAULT_NOTIFICATIONS_ROOM = 50;
/** Room versions 1..11: the creator's level when the room has no m.room.power_levels event. */
export const CREATOR_LEVEL_WITHOUT_POWER_LEVELS = 100;

export type PowerAction = 'invite' | 'kick' | 'ban' | 'redact';

const STRINGY_INTEGER = /^\s*[+-]?[0-9]+\s*$/;

/**
 * A power level value as an integer, or undefined when it is not one.
 * With `allowStrings` (room versions before 10) a string holding a base-10 integer is accepted too:
 * optional sign, leading zeros, surrounding whitespace (rooms/fragments/v1-stringy-power-levels.md).
 * Values outside the Canonical JSON integer range are not integers.
 */
export function parsePowerLevel(value: JsonValue | undefined, allowStrings: boolean): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
  if (allowStrings && typeof value === 'string' && STRINGY_INTEGER.test(value)) {
    const n = Number(value.trim());
    return Number.isSafeInteger(n) ? n : undefined;
  }
  return undefined;
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The content of the m.room.power_levels event in `state`, or undefined when the room has none. */
export function powerLevelsContent(state: StateMap): JsonObject | undefined {
  return state.get(stateKey('m.room.power_levels', ''))?.content;
}

function createEvent(state: StateMap): PDU | undefined {
  return state.get(stateKey('m.room.create', ''));
}

/**
 * The room creators: in v12 the create event's `sender` plus `content.additional_creators`;
 * before v12 the single creator (`content.creator` up to v10, the create `sender` from v11).
 */
export function roomCreators(state: StateMap, version: AuthRulesVersion): Set<string> {
  const create = createEvent(state);
  const creators = new Set<string>();
  if (!create) return creators;
  if (version.creatorsHaveInfinitePower) {
    creators.add(create.sender);
    const extra = create.content.additional_creators;
    if (Array.isArray(extra)) for (const id of extra) if (typeof id === 'string') creators.add(id);
    return creators;
  }
  const creator = version.creatorFromSender ? create.sender : create.content.creator;
  if (typeof creator === 'string') creators.add(creator);
  return creators;
}

/** A user's power level: Infinity for a v12 room creator, else `users`, `users_default`, or the no-event defaults. */
export function userPowerLevel(state: StateMap, userId: string, version: AuthRulesVersion): number {
  if (version.creatorsHaveInfinitePower && roomCreators(state, version).has(userId)) return Infinity;
  const content = powerLevelsContent(state);
  if (!content) {
    // Rooms v1..v11: "the room's creator has a power level of 100, and all other users have 0".
    if (!version.creatorsHaveInfinitePower && roomCreators(state, version).has(userId)) {
      return CREATOR_LEVEL_WITHOUT_POWER_LEVELS;
    }
    return DEFAULT_USERS_DEFAULT;
  }
  const users = content.users;
  if (isObject(users) && Object.hasOwn(users, userId)) {
    const level = parsePowerLevel(users[userId], true);
    if (level !== undefined) return level;
  }
  return parsePowerLevel(content.users_default, true) ?? DEFAULT_USERS_DEFAULT;
}

/** The level needed to send an event of `type`: `events[type]`, else `state_default` / `events_default`. */
export function requiredPowerLevelForEvent(state: StateMap, type: string, isState: boolean): number {
  const content = powerLevelsContent(state) ?? {};
  const events = content.events;
  if (isObject(events) && Object.hasOwn(events, type)) {
    const level = parsePowerLevel(events[type], true);
    if (level !== undefined) return level;
  }
  return isState
    ? (parsePowerLevel(content.state_default, true) ?? DEFAULT_STATE_DEFAULT)
    : (parsePowerLevel(content.events_default, true) ?? DEFAULT_EVENTS_DEFAULT);
}

const ACTION_DEFAULTS: Record<PowerAction, number> = {
  invite: DEFAULT_INVITE,
  kick: DEFAULT_KICK,
  ban: DEFAULT_BAN,
  redact: DEFAULT_REDACT,
};

/** The *invite*, *kick*, *ban* or *redact* level (defaults 0, 50, 50, 50). */
export function powerLevelFor(action: PowerAction, state: StateMap): number {
  const content = powerLevelsContent(state) ?? {};
  return parsePowerLevel(content[action], true) ?? ACTION_DEFAULTS[action];
}

/** The level needed to trigger an `@room` notification: `notifications.room`, default 50. */
export function notificationsRoomLevel(state: StateMap): number {
  const notifications = powerLevelsContent(state)?.notifications;
  if (isObject(notifications)) {
    const level = parsePowerLevel(notifications.room, true);
    if (level !== undefined) return level;
  }
  return DEFAULT_NOTIFICATIONS_ROOM;
}

export interface DefaultPowerLevelsOptions {
  /** createRoom `preset`; the private presets let every member invite (invite level 0). */
  preset?: 'private_chat' | 'trusted_private_chat' | 'public_chat';
  /** For `trusted_private_chat` before v12: the invitees get the creator's level (v12 lists them in `additional_creators` instead). */
  invitees?: readonly string[];
}

/**
 * The m.room.power_levels content createRoom sends before applying `power_level_content_override`
 * (client-server createRoom, step 3). Before v12 the creator is listed with 100; from v12 the creators
 * are never listed (rule 10.4 would reject it) and m.room.tombstone needs more than `state_default`.
 */
export function defaultPowerLevelsContent(
  creators: string | readonly string[],
  version: AuthRulesVersion,
  options: DefaultPowerLevelsOptions = {},
): JsonObject {
  const creatorList = typeof creators === 'string' ? [creators] : creators;
  const users: JsonObject = {};
  if (!version.creatorsHaveInfinitePower) {
    for (const creator of creatorList) users[creator] = CREATOR_LEVEL_WITHOUT_POWER_LEVELS;
    if (options.preset === 'trusted_private_chat') {
      for (const invitee of options.invitees ?? []) users[invitee] = CREATOR_LEVEL_WITHOUT_POWER_LEVELS;
    }
  }
  const privatePreset = options.preset === 'private_chat' || options.preset === 'trusted_private_chat';
  return {
    users,
    users_default: 0,
    events: {
      'm.room.name': 50,
      'm.room.power_levels': 100,
      'm.room.history_visibility': 100,
      'm.room.canonical_alias': 50,
      'm.room.avatar': 50,
      'm.room.tombstone': version.creatorsHaveInfinitePower ? 150 : 100,
      'm.room.server_acl': 100,
      'm.room.encryption': 100,
    },
    events_default: 0,
    state_default: 50,
    ban: 50,
    kick: 50,
    redact: 50,
    invite: privatePreset ? 0 : 50,
  };
}
