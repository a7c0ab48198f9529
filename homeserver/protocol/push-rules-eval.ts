// Push rule evaluation (client-server-api/modules/push.md "Push Rules", "Conditions", "Actions").
// Pure: the caller gathers what the rules may ask about (member count, display name, power
// levels) into a PushContext, and stores the outcome.
import type { JsonObject, JsonValue } from './types.ts';
import { PUSH_RULE_KINDS, type PushRuleset } from './push-rules.ts';

/** What conditions may ask about beyond the event itself, from the point of view of one user. */
export interface PushContext {
  /** The user whose rules these are. */
  userId: string;
  /** The user's display name in the room, for the deprecated `contains_display_name`. */
  displayName: string | null;
  /** Joined members of the room, for `room_member_count`. */
  memberCount: number;
  /** The sender's power level (Infinity for a v12 room creator). */
  senderPowerLevel: number;
  /** Levels required per notification type (`notifications` in m.room.power_levels), defaults applied by `notificationLevel`. */
  notificationLevels: Record<string, number>;
}

export interface PushOutcome {
  kind: string;
  ruleId: string;
  /** The rule's actions with the historical `dont_notify` and `coalesce` stripped. */
  actions: Array<string | JsonObject>;
  notify: boolean;
  highlight: boolean;
}

/** The default for a `notifications` key missing from the power levels (m.room.power_levels: `room` defaults to 50). */
const DEFAULT_NOTIFICATION_LEVEL = 50;

/**
 * Outcomes of conditions that depend only on the event and the room, not on whose rules they are:
 * one per event, shared by the evaluations for each of its recipients, whose rulesets mostly hold
 * the same default rules (each user's its own copy).
 */
export type ConditionMemo = Map<string, boolean>;

/**
 * The first enabled rule that matches `event`, in the order override, content, room, sender,
 * underride (the ruleset's lists are already in priority order), or undefined when none does.
 */
export function evaluatePushRules(ruleset: PushRuleset, event: JsonObject, ctx: PushContext, memo?: ConditionMemo): PushOutcome | undefined {
  for (const kind of PUSH_RULE_KINDS) {
    for (const rule of ruleset[kind] ?? []) {
      if (rule.enabled !== true) continue;
      if (!ruleMatches(kind, rule, event, ctx, memo)) continue;
      const actions = normaliseActions(rule.actions);
      return { kind, ruleId: String(rule.rule_id), actions, notify: actions.includes('notify'), highlight: highlightOf(actions) };
    }
  }
  return undefined;
}

function ruleMatches(kind: string, rule: JsonObject, event: JsonObject, ctx: PushContext, memo: ConditionMemo | undefined): boolean {
  switch (kind) {
    // content rules: an implicit event_match on content.body with the rule's pattern.
    case 'content':
      return typeof rule.pattern === 'string' && memoised(contentCondition(rule as JsonObject & { pattern: string }), event, ctx, memo);
    // room and sender rules: the rule id is the room id or the sender.
    case 'room':
      return event.room_id === rule.rule_id;
    case 'sender':
      return event.sender === rule.rule_id;
    default: {
      const conditions = rule.conditions ?? [];
      if (!Array.isArray(conditions)) return false;
      return conditions.every((c) => isObject(c) && memoised(c, event, ctx, memo));
    }
  }
}

/** conditionMatches, answered from `memo` for the kinds that do not depend on the user. */
function memoised(c: JsonObject, event: JsonObject, ctx: PushContext, memo: ConditionMemo | undefined): boolean {
  const key = memo && memoKey(c);
  if (key === undefined) return conditionMatches(c, event, ctx);
  let matched = memo!.get(key);
  if (matched === undefined) memo!.set(key, (matched = conditionMatches(c, event, ctx)));
  return matched;
}

/** A condition's memo key, kept with the condition (rulesets are cached); undefined when it depends on the user. */
const memoKeys = new WeakMap<JsonObject, string | null>();

function memoKey(c: JsonObject): string | undefined {
  let key = memoKeys.get(c);
  if (key === undefined) {
    switch (c.kind) {
      // The member count, the sender's power and the notification levels are the same for every
      // recipient of one event.
      case 'event_match':
      case 'event_property_is':
      case 'event_property_contains':
      case 'room_member_count':
      case 'sender_notification_permission':
        key = JSON.stringify([c.kind, c.key, c.pattern, c.value, c.is]);
        break;
      default:
        key = null;
    }
    memoKeys.set(c, key);
  }
  return key ?? undefined;
}

/** Content rules' implicit condition, one object per rule so that its memo key is kept too. */
const contentConditions = new WeakMap<JsonObject, JsonObject>();

function contentCondition(rule: JsonObject & { pattern: string }): JsonObject {
  let c = contentConditions.get(rule);
  if (!c || c.pattern !== rule.pattern) contentConditions.set(rule, (c = { kind: 'event_match', key: 'content.body', pattern: rule.pattern }));
  return c;
}

/** One condition; an unrecognised one matches nothing ("Conditions": effectively disabling its rule). */
export function conditionMatches(c: JsonObject, event: JsonObject, ctx: PushContext): boolean {
  switch (c.kind) {
    case 'event_match': {
      if (typeof c.key !== 'string' || typeof c.pattern !== 'string') return false;
      const found = lookup(event, c.key);
      // Absent or not a string: no match, even for the pattern '*'.
      if (!found.present || typeof found.value !== 'string') return false;
      return globMatches(c.pattern, found.value, c.key === 'content.body');
    }
    case 'event_property_is': {
      if (typeof c.key !== 'string' || !isScalar(c.value)) return false;
      const found = lookup(event, c.key);
      return found.present && isScalar(found.value) && found.value === c.value;
    }
    case 'event_property_contains': {
      if (typeof c.key !== 'string' || !isScalar(c.value)) return false;
      const found = lookup(event, c.key);
      // Array values that are not scalars are ignored; compound values never equal a scalar.
      return found.present && Array.isArray(found.value) && found.value.some((v) => isScalar(v) && v === c.value);
    }
    case 'contains_display_name': {
      const body = (event.content as JsonObject | undefined)?.body;
      if (!ctx.displayName || typeof body !== 'string') return false;
      return wordMatch(escapeRegExp(ctx.displayName), body);
    }
    case 'room_member_count': {
      if (typeof c.is !== 'string') return false;
      return memberCountMatches(c.is, ctx.memberCount);
    }
    case 'sender_notification_permission': {
      if (typeof c.key !== 'string') return false;
      return ctx.senderPowerLevel >= notificationLevel(ctx.notificationLevels, c.key);
    }
    default:
      return false;
  }
}

export function notificationLevel(levels: Record<string, number>, key: string): number {
  return Object.hasOwn(levels, key) ? levels[key]! : DEFAULT_NOTIFICATION_LEVEL;
}

/** `is`: a decimal integer optionally prefixed by ==, <, >, >= or <=; no prefix means ==. */
export function memberCountMatches(is: string, count: number): boolean {
  const m = /^(==|<=|>=|<|>)?([0-9]+)$/.exec(is);
  if (!m) return false;
  const n = Number(m[2]);
  switch (m[1]) {
    case '<':
      return count < n;
    case '>':
      return count > n;
    case '<=':
      return count <= n;
    case '>=':
      return count >= n;
    default:
      return count === n;
  }
}

/**
 * A dot-separated property path (appendices "Dot-separated property paths") split into names:
 * `\.` is a literal dot and `\\` a literal backslash; any other `\x` stays a backslash and `x`.
 */
export function splitPath(key: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < key.length; i++) {
    const ch = key[i]!;
    if (ch === '\\' && (key[i + 1] === '.' || key[i + 1] === '\\')) {
      cur += key[++i];
    } else if (ch === '.') {
      parts.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  parts.push(cur);
  return parts;
}

/** The value at a dotted path, telling an absent property apart from one that is null. */
export function lookup(event: JsonObject, key: string): { present: boolean; value?: JsonValue } {
  let cur: JsonValue = event;
  let path = pathCache.get(key);
  if (!path) {
    path = splitPath(key);
    if (pathCache.size >= GLOB_CACHE_MAX) pathCache.clear();
    pathCache.set(key, path);
  }
  for (const name of path) {
    if (!isObject(cur) || !Object.hasOwn(cur, name)) return { present: false };
    cur = cur[name]!;
  }
  return { present: true, value: cur };
}

/** Rules name the same few paths over and over. */
const pathCache = new Map<string, string[]>();

const WORD_CHAR = 'A-Za-z0-9_';
const globCache = new Map<string, RegExp>();
const GLOB_CACHE_MAX = 2_000;

/**
 * Glob matching (appendices "Glob-style matching": `*` any run, `?` exactly one character),
 * case-insensitive. The whole value must match, except for `content.body`, where any substring
 * that starts and ends at a word boundary may ("Conditions", event_match).
 */
export function globMatches(pattern: string, value: string, wordBoundary: boolean): boolean {
  const cacheKey = `${wordBoundary ? 'w' : 'v'}${pattern}`;
  let re = globCache.get(cacheKey);
  if (!re) {
    const body = [...pattern].map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : escapeRegExp(ch))).join('');
    re = wordBoundary ? wordRegExp(body) : new RegExp(`^${body}$`, 'isu');
    if (globCache.size >= GLOB_CACHE_MAX) globCache.clear();
    globCache.set(cacheKey, re);
  }
  return re.test(value);
}

/** A word boundary is the start or end of the value, or a character outside [A-Za-z0-9_]. */
function wordRegExp(body: string): RegExp {
  return new RegExp(`(?:^|(?<=[^${WORD_CHAR}]))(?:${body})(?:$|(?=[^${WORD_CHAR}]))`, 'isu');
}

/** Display names matched as words: compiled once per name, as globCache does for patterns. */
const wordCache = new Map<string, RegExp>();

function wordMatch(body: string, value: string): boolean {
  let re = wordCache.get(body);
  if (!re) {
    re = wordRegExp(body);
    if (wordCache.size >= GLOB_CACHE_MAX) wordCache.clear();
    wordCache.set(body, re);
  }
  return re.test(value);
}

/** "Historical Actions": dont_notify and coalesce are ignored, by stripping them. */
export function normaliseActions(actions: JsonValue | undefined): Array<string | JsonObject> {
  if (!Array.isArray(actions)) return [];
  return actions.filter((a): a is string | JsonObject => (typeof a === 'string' && a !== 'dont_notify' && a !== 'coalesce') || isObject(a));
}

/** The highlight tweak: true when set without a value or with `true`; false when absent. */
export function highlightOf(actions: ReadonlyArray<string | JsonObject>): boolean {
  for (const a of actions) {
    if (typeof a === 'object' && a.set_tweak === 'highlight') return a.value === undefined || a.value === true;
  }
  return false;
}

function isScalar(v: JsonValue | undefined): v is string | number | boolean | null {
  return v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isSafeInteger(v));
}

function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function escapeRegExp(s: string): string {
  // Only the characters the `u` flag allows escaping outside a class.
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
