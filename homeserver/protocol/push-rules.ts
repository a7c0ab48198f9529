// The server-default push rules (client-server-api/modules/push.md "Predefined Rules", as of
// v1.17: the legacy body-matching rules are gone). Pure data: the user id fills the rules that
// name "[the user's Matrix ID]". A user's own rules and changes to these are merged in by
// `effectiveRuleset`; evaluation is in push-rules-eval.ts.
import type { JsonObject } from './types.ts';

export type PushRuleKind = 'override' | 'content' | 'room' | 'sender' | 'underride';
export const PUSH_RULE_KINDS: readonly PushRuleKind[] = ['override', 'content', 'room', 'sender', 'underride'];

export type PushRuleset = Record<PushRuleKind, JsonObject[]>;

const SOUND_DEFAULT = { set_tweak: 'sound', value: 'default' };
const HIGHLIGHT = { set_tweak: 'highlight' };

function rule(ruleId: string, conditions: JsonObject[], actions: Array<string | JsonObject>, enabled = true): JsonObject {
  return { rule_id: ruleId, default: true, enabled, conditions, actions };
}

const match = (key: string, pattern: string): JsonObject => ({ kind: 'event_match', key, pattern });

/** The default ruleset for `userId`, rules in the spec's order (which is their priority). */
export function defaultPushRules(userId: string): PushRuleset {
  return {
    override: [
      rule('.m.rule.master', [], [], false),
      rule('.m.rule.suppress_notices', [match('content.msgtype', 'm.notice')], []),
      rule(
        '.m.rule.invite_for_me',
        [match('type', 'm.room.member'), match('content.membership', 'invite'), match('state_key', userId)],
        ['notify', SOUND_DEFAULT],
      ),
      rule('.m.rule.member_event', [match('type', 'm.room.member')], []),
      rule(
        '.m.rule.is_user_mention',
        [{ kind: 'event_property_contains', key: 'content.m\\.mentions.user_ids', value: userId }],
        ['notify', SOUND_DEFAULT, HIGHLIGHT],
      ),
      rule(
        '.m.rule.is_room_mention',
        [
          { kind: 'event_property_is', key: 'content.m\\.mentions.room', value: true },
          { kind: 'sender_notification_permission', key: 'room' },
        ],
        ['notify', HIGHLIGHT],
      ),
      rule('.m.rule.tombstone', [match('type', 'm.room.tombstone'), match('state_key', '')], ['notify', HIGHLIGHT]),
      rule('.m.rule.reaction', [match('type', 'm.reaction')], []),
      rule('.m.rule.room.server_acl', [match('type', 'm.room.server_acl'), match('state_key', '')], []),
      rule('.m.rule.suppress_edits', [{ kind: 'event_property_is', key: 'content.m\\.relates_to.rel_type', value: 'm.replace' }], []),
    ],
    content: [],
    room: [],
    sender: [],
    underride: [
      rule('.m.rule.call', [match('type', 'm.call.invite')], ['notify', { set_tweak: 'sound', value: 'ring' }]),
      rule('.m.rule.encrypted_room_one_to_one', [{ kind: 'room_member_count', is: '2' }, match('type', 'm.room.encrypted')], ['notify', SOUND_DEFAULT]),
      rule('.m.rule.room_one_to_one', [{ kind: 'room_member_count', is: '2' }, match('type', 'm.room.message')], ['notify', SOUND_DEFAULT]),
      rule('.m.rule.message', [match('type', 'm.room.message')], ['notify']),
      rule('.m.rule.encrypted', [match('type', 'm.room.encrypted')], ['notify']),
    ],
  };
}

/** Server-default rule ids start with a dot (push.md "Predefined Rules"). */
export function isServerDefaultRuleId(ruleId: string): boolean {
  return ruleId.startsWith('.');
}

/**
 * The ruleset a user has: today's server-default rules (with the user's `enabled` and `actions`
 * for them, if changed) and the user's own rules from `stored` (an earlier effective ruleset, as
 * kept in account data). User rules come before the server-default rules of their kind, except
 * that `.m.rule.master` always comes first.
 */
export function effectiveRuleset(userId: string, stored?: Partial<Record<string, unknown>>): PushRuleset {
  const defaults = defaultPushRules(userId);
  const out = {} as PushRuleset;
  for (const kind of PUSH_RULE_KINDS) {
    const saved = Array.isArray(stored?.[kind]) ? (stored[kind] as unknown[]).filter(isRule) : [];
    const own = saved.filter((r) => !isServerDefaultRuleId(r.rule_id as string)).map((r) => ({ ...r, default: false }));
    const builtIn = defaults[kind].map((d) => {
      const s = saved.find((r) => r.rule_id === d.rule_id);
      if (!s) return d;
      return { ...d, enabled: typeof s.enabled === 'boolean' ? s.enabled : d.enabled, actions: Array.isArray(s.actions) ? s.actions : d.actions };
    });
    const master = builtIn.filter((r) => r.rule_id === '.m.rule.master');
    out[kind] = [...master, ...own, ...builtIn.filter((r) => r.rule_id !== '.m.rule.master')];
  }
  return out;
}

function isRule(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as JsonObject).rule_id === 'string';
}
