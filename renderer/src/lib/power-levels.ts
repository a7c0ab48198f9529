// Reading and changing a room's m.room.power_levels, as the auth rules judge it, so the
// screens offer only what the server would accept (rooms/v1.md "Authorization rules",
// client-server-api "m.room.power_levels"). Pure: content in, content or answers out.

export interface PowerLevelsContent {
  users?: Record<string, number>;
  users_default?: number;
  events?: Record<string, number>;
  events_default?: number;
  state_default?: number;
  ban?: number;
  kick?: number;
  invite?: number;
  redact?: number;
  notifications?: Record<string, number>;
  [key: string]: unknown;
}

/** The spec's defaults when a key is absent (client-server-api "m.room.power_levels"). */
const DEFAULTS = { users_default: 0, events_default: 0, state_default: 50, ban: 50, kick: 50, invite: 0, redact: 50 } as const;

/** Element's names for the usual levels; any other number is shown as itself. */
export const ROLES = [
  { level: 100, name: 'Admin' },
  { level: 50, name: 'Moderator' },
  { level: 0, name: 'Default' },
] as const;

/**
 * Room versions 1-9 accept each level as a string: base 10, an optional sign, leading zeroes and
 * surrounding whitespace (rooms/v1.md "m.room.power_levels events accept values as strings").
 */
const STRINGY_LEVEL = /^\s*[+-]?\d+\s*$/;

function num(value: unknown, fallback: number): number {
  if (typeof value === 'number') return Number.isInteger(value) ? value : fallback;
  if (typeof value === 'string' && STRINGY_LEVEL.test(value)) return Number.parseInt(value.trim(), 10);
  return fallback;
}

/**
 * A user's level. `creators` are room v12's creators, whose power is infinite and who are not
 * listed in `users` (rooms/v12.md "Authorization rules", 4.3.1).
 */
export function levelOf(content: PowerLevelsContent | undefined, userId: string, creators: ReadonlySet<string> = new Set()): number {
  if (creators.has(userId)) return Infinity;
  const users = content?.users ?? {};
  return num(Object.hasOwn(users, userId) ? users[userId] : undefined, num(content?.users_default, DEFAULTS.users_default));
}

/** "Admin", "Moderator", "" for the default level, else "Level 20"; creators are "Owner". */
export function roleName(level: number, usersDefault = 0): string {
  if (level === Infinity) return 'Owner';
  if (level >= 100) return 'Admin';
  if (level >= 50) return 'Moderator';
  if (level <= usersDefault) return '';
  return `Level ${level}`;
}

/** The level the room's settings keys need; the names the room settings screen shows. */
export type SettingKey = 'users_default' | 'events_default' | 'invite' | 'kick' | 'ban' | 'redact' | 'state_default';

export function settingLevel(content: PowerLevelsContent | undefined, key: SettingKey): number {
  return num(content?.[key], DEFAULTS[key]);
}

/** The level needed to send a state event of `type` (events[type], else state_default). */
export function stateEventLevel(content: PowerLevelsContent | undefined, type: string): number {
  const events = content?.events ?? {};
  return num(Object.hasOwn(events, type) ? events[type] : undefined, settingLevel(content, 'state_default'));
}

export interface MemberActions {
  kick: boolean;
  ban: boolean;
  /** May change this member's level at all (to at most `maxLevel`). */
  changeLevel: boolean;
  maxLevel: number;
}

/**
 * What `me` may do to `target` (rooms/v1.md auth rules: kick and ban need the kick/ban level
 * and a level above the target's; changing a level needs the power_levels event's level, a level
 * above the target's current one (unless it is yourself), and no new level above your own).
 */
export function memberActions(content: PowerLevelsContent | undefined, me: string, target: string, creators: ReadonlySet<string> = new Set()): MemberActions {
  const mine = levelOf(content, me, creators);
  const theirs = levelOf(content, target, creators);
  const self = me === target;
  const above = mine > theirs;
  const canEditLevels = mine >= stateEventLevel(content, 'm.room.power_levels');
  return {
    kick: !self && above && mine >= settingLevel(content, 'kick'),
    ban: !self && above && mine >= settingLevel(content, 'ban'),
    changeLevel: canEditLevels && theirs !== Infinity && (self || above),
    maxLevel: mine === Infinity ? 100 : mine,
  };
}

/** A copy of `content` with `userId` at `level`; the default level removes the entry, as Element does. */
export function withUserLevel(content: PowerLevelsContent | undefined, userId: string, level: number): PowerLevelsContent {
  const users = { ...(content?.users ?? {}) };
  if (level === settingLevel(content, 'users_default')) delete users[userId];
  else users[userId] = level;
  return { ...(content ?? {}), users };
}

/** A copy of `content` with some of its settings keys changed. */
export function withSettingLevels(content: PowerLevelsContent | undefined, changes: Partial<Record<SettingKey, number>>): PowerLevelsContent {
  return { ...(content ?? {}), ...changes };
}
