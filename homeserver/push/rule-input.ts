// Checks what a client sends to create a push rule or change its actions (pushrules.yaml), and
// builds the stored rule. A malformed body (a required key missing or of the wrong type) is
// M_BAD_JSON; a well-formed action or condition the server cannot use is 400 M_UNKNOWN, as in
// pushrules.yaml's "There was a problem configuring this push rule".
import { MatrixError } from '../http/matrix-error.ts';
import { isServerDefaultRuleId, type PushRuleKind } from '../protocol/push-rules.ts';
import type { JsonObject, JsonValue } from '../protocol/types.ts';

const KNOWN_ACTIONS = new Set(['notify', 'dont_notify', 'coalesce']);

/** A rule id the client may create: not server-default (a leading dot), no slash or backslash. */
export function checkNewRuleId(kind: PushRuleKind, ruleId: string): void {
  if (ruleId === '') throw new MatrixError(400, 'M_INVALID_PARAM', 'The rule id is empty');
  if (isServerDefaultRuleId(ruleId)) throw new MatrixError(400, 'M_INVALID_PARAM', `Rule ids starting with '.' are reserved for server-default rules`);
  if (/[/\\]/.test(ruleId)) throw new MatrixError(400, 'M_INVALID_PARAM', 'Rule ids may not contain slashes or backslashes');
  // push.md: the rule id of a room rule is the room's id, of a sender rule the sender's user id.
  if (kind === 'room' && !ruleId.startsWith('!')) throw new MatrixError(400, 'M_INVALID_PARAM', 'A room rule’s id must be a room id');
  if (kind === 'sender' && !ruleId.startsWith('@')) throw new MatrixError(400, 'M_INVALID_PARAM', 'A sender rule’s id must be a user id');
}

/** The actions array, with the historical dont_notify and coalesce stripped (push.md "Historical Actions"). */
export function parseActions(v: unknown): Array<string | JsonObject> {
  if (!Array.isArray(v)) throw new MatrixError(400, 'M_BAD_JSON', "'actions' must be an array");
  const out: Array<string | JsonObject> = [];
  for (const a of v as unknown[]) {
    if (typeof a === 'string') {
      if (!KNOWN_ACTIONS.has(a)) throw new MatrixError(400, 'M_UNKNOWN', `Unrecognised action '${a}'`);
      if (a === 'notify') out.push(a);
    } else if (isObject(a)) {
      if (typeof a.set_tweak !== 'string') throw new MatrixError(400, 'M_UNKNOWN', 'An object action must be a set_tweak with a string name');
      if (a.set_tweak === 'highlight' && a.value !== undefined && typeof a.value !== 'boolean') {
        throw new MatrixError(400, 'M_UNKNOWN', "The highlight tweak's value must be a boolean");
      }
      out.push(a);
    } else {
      throw new MatrixError(400, 'M_BAD_JSON', 'Each action must be a string or an object');
    }
  }
  return out;
}

/** One condition: known kinds must carry their parameters; unknown kinds are kept (they never match). */
function checkCondition(c: unknown): JsonObject {
  if (!isObject(c) || typeof c.kind !== 'string') throw new MatrixError(400, 'M_BAD_JSON', "Each condition must be an object with a string 'kind'");
  const bad = (why: string) => new MatrixError(400, 'M_UNKNOWN', `Invalid ${c.kind} condition: ${why}`);
  const scalar = (v: JsonValue | undefined) =>
    v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isSafeInteger(v));
  switch (c.kind) {
    case 'event_match':
      if (typeof c.key !== 'string' || typeof c.pattern !== 'string') throw bad("'key' and 'pattern' must be strings");
      break;
    case 'event_property_is':
    case 'event_property_contains':
      if (typeof c.key !== 'string') throw bad("'key' must be a string");
      if (!Object.hasOwn(c, 'value') || !scalar(c.value)) throw bad("'value' must be a string, an integer, a boolean or null");
      break;
    case 'room_member_count':
      if (typeof c.is !== 'string' || !/^(==|<=|>=|<|>)?[0-9]+$/.test(c.is)) throw bad("'is' must be an integer optionally prefixed by ==, <, >, <= or >=");
      break;
    case 'sender_notification_permission':
      if (typeof c.key !== 'string') throw bad("'key' must be a string");
      break;
    default:
      break;
  }
  return c;
}

/** The stored form of a new or replaced user rule of `kind` from a PUT body. */
export function ruleFromBody(kind: PushRuleKind, ruleId: string, body: Record<string, unknown>): JsonObject {
  if (body.actions === undefined) throw new MatrixError(400, 'M_BAD_JSON', "Missing 'actions'");
  const rule: JsonObject = { rule_id: ruleId, default: false, enabled: true };
  if (kind === 'override' || kind === 'underride') {
    const conditions = body.conditions ?? [];
    if (!Array.isArray(conditions)) throw new MatrixError(400, 'M_BAD_JSON', "'conditions' must be an array");
    rule.conditions = (conditions as unknown[]).map(checkCondition);
  } else if (kind === 'content') {
    if (typeof body.pattern !== 'string') throw new MatrixError(400, 'M_BAD_JSON', "A content rule needs a string 'pattern'");
    rule.pattern = body.pattern;
  }
  rule.actions = parseActions(body.actions);
  return rule;
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
