// Each user's push ruleset (push.md "Push Rules: API", "Push Rules: Events"). It is kept as the
// user's global account data `m.push_rules` ({ global: ruleset }), so every change reaches the
// user's clients through /sync as the spec asks; reading merges it with today's server-default
// rules (protocol/push-rules.ts effectiveRuleset). Rulesets are cached for the write path, which
// evaluates them for every event.
import type { Database } from '../storage/database.ts';
import type { Queryable } from '../storage/sqlite.ts';
import { accountDataStore } from '../storage/rooms-store.ts';
import type { AccountData } from '../users/account-data.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { effectiveRuleset, isServerDefaultRuleId, PUSH_RULE_KINDS, type PushRuleKind, type PushRuleset } from '../protocol/push-rules.ts';
import type { JsonObject } from '../protocol/types.ts';
import { checkNewRuleId, parseActions, ruleFromBody } from './rule-input.ts';

export const PUSH_RULES_TYPE = 'm.push_rules';
/**
 * Largest stored ruleset (JSON bytes). The defaults are about 5 kB and a keyword rule ~200 bytes:
 * 256 KiB holds a thousand rules of one's own, and stops a client adding rules forever (each one
 * is also evaluated for every event the user receives).
 */
export const MAX_PUSH_RULESET_BYTES = 256 * 1024;

export interface RulePosition {
  before?: string;
  after?: string;
}

export class PushRules {
  private readonly db: Database;
  private readonly accountData: AccountData;
  /** Filled only inside write jobs, which the single writer orders after every rule change. */
  private readonly cache = new Map<string, PushRuleset>();

  constructor(db: Database, accountData: AccountData) {
    this.db = db;
    this.accountData = accountData;
  }

  /** The ruleset as committed (or about to be), for reading endpoints. */
  async current(userId: string): Promise<PushRuleset> {
    return this.cache.get(userId) ?? this.load(this.db.reader, userId);
  }

  /** The ruleset inside a write job when it is already loaded, without a wait: the common case. */
  cached(userId: string): PushRuleset | undefined {
    return this.cache.get(userId);
  }

  /** The ruleset inside a write job: what event evaluation uses. */
  async inTransaction(tx: Queryable, userId: string): Promise<PushRuleset> {
    let rules = this.cache.get(userId);
    if (!rules) {
      rules = await this.load(tx, userId);
      this.cache.set(userId, rules);
    }
    return rules;
  }

  /** PUT /pushrules/global/{kind}/{ruleId}: creates or replaces a user rule, placed by before/after. */
  async putRule(userId: string, kind: PushRuleKind, ruleId: string, body: Record<string, unknown>, pos: RulePosition): Promise<void> {
    checkNewRuleId(kind, ruleId);
    const rule = ruleFromBody(kind, ruleId, body);
    await this.change(userId, (rules) => {
      const list = rules[kind];
      const at = list.findIndex((r) => r.rule_id === ruleId);
      // An update keeps the rule's enabled state; a new rule is enabled (pushrules.yaml).
      if (at >= 0) rule.enabled = list[at]!.enabled ?? true;
      const relative = pos.before ?? pos.after;
      if (relative === undefined && at >= 0) {
        list[at] = rule;
        return;
      }
      if (at >= 0) list.splice(at, 1);
      let index: number;
      if (relative !== undefined) {
        // Only relative to a user-defined rule of the same kind ("It is not possible to add a rule relative to a predefined server rule").
        const anchor = isServerDefaultRuleId(relative) ? -1 : list.findIndex((r) => r.rule_id === relative);
        if (anchor < 0) throw new MatrixError(400, 'M_UNKNOWN', `before/after rule not found: ${relative}`);
        index = pos.before !== undefined ? anchor : anchor + 1;
      } else {
        // A new rule with no position is the most important user-defined rule of its kind.
        index = list.findIndex((r) => r.rule_id !== '.m.rule.master');
        if (index < 0) index = list.length;
      }
      list.splice(index, 0, rule);
    });
  }

  /** DELETE /pushrules/global/{kind}/{ruleId}: user rules only. */
  async deleteRule(userId: string, kind: PushRuleKind, ruleId: string): Promise<void> {
    await this.change(userId, (rules) => {
      const at = rules[kind].findIndex((r) => r.rule_id === ruleId);
      if (at < 0) throw notFound(kind, ruleId);
      if (isServerDefaultRuleId(ruleId)) throw new MatrixError(400, 'M_INVALID_PARAM', 'Server-default rules cannot be deleted; disable them instead');
      rules[kind].splice(at, 1);
    });
  }

  async setEnabled(userId: string, kind: PushRuleKind, ruleId: string, enabled: boolean): Promise<void> {
    await this.change(userId, (rules) => {
      findRule(rules, kind, ruleId).enabled = enabled;
    });
  }

  async setActions(userId: string, kind: PushRuleKind, ruleId: string, actions: unknown): Promise<void> {
    const parsed = parseActions(actions);
    await this.change(userId, (rules) => {
      findRule(rules, kind, ruleId).actions = parsed;
    });
  }

  /** Applies `mutate` to a copy of the ruleset in one write job, stores it, and wakes the user's syncs. */
  private async change(userId: string, mutate: (rules: PushRuleset) => void): Promise<void> {
    let id: number;
    try {
      id = await this.db.write(async (tx) => {
        const rules = structuredClone(await this.load(tx, userId));
        mutate(rules);
        const json = JSON.stringify({ global: rules });
        if (Buffer.byteLength(json) > MAX_PUSH_RULESET_BYTES) {
          throw new MatrixError(413, 'M_TOO_LARGE', `Push rules are limited to ${MAX_PUSH_RULESET_BYTES} bytes in all`);
        }
        const id = await accountDataStore.put(tx, userId, '', PUSH_RULES_TYPE, json);
        this.cache.set(userId, rules);
        return id;
      });
    } catch (err) {
      // The job or its batch rolled back: the cache may hold what never committed.
      this.cache.delete(userId);
      throw err;
    }
    this.accountData.committed(userId, id);
  }

  private async load(q: Queryable, userId: string): Promise<PushRuleset> {
    const row = await accountDataStore.get(q, userId, '', PUSH_RULES_TYPE);
    let stored: Record<string, unknown> | undefined;
    if (row) {
      const content = JSON.parse(row.content) as { global?: unknown };
      if (content.global && typeof content.global === 'object') stored = content.global as Record<string, unknown>;
    }
    return effectiveRuleset(userId, stored);
  }
}

export function isPushRuleKind(kind: string): kind is PushRuleKind {
  return (PUSH_RULE_KINDS as readonly string[]).includes(kind);
}

export function findRule(rules: PushRuleset, kind: PushRuleKind, ruleId: string): JsonObject {
  const rule = rules[kind].find((r) => r.rule_id === ruleId);
  if (!rule) throw notFound(kind, ruleId);
  return rule;
}

function notFound(kind: string, ruleId: string): MatrixError {
  return new MatrixError(404, 'M_NOT_FOUND', `No push rule '${ruleId}' of kind '${kind}'`);
}
