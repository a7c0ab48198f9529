// A room's notification setting, "all messages / mentions only / mute", kept in the account's
// push rules the way Element keeps it, so other clients show the same (push.md "Push rules"):
// - mute: an override rule with the room's ID, matching room_id, with no actions;
// - mentions only: a room rule with the room's ID and no actions (mentions are override rules,
//   which run first, so they still notify);
// - all: neither rule (the defaults apply).
// Also the account-wide master switch (.m.rule.master: enabled means nothing notifies).

export type RoomNotificationMode = 'all' | 'mentions' | 'mute';

export const ROOM_NOTIFICATION_MODES: ReadonlyArray<{ mode: RoomNotificationMode; label: string }> = [
  { mode: 'all', label: 'All messages' },
  { mode: 'mentions', label: 'Mentions and keywords only' },
  { mode: 'mute', label: 'Mute' },
];

interface Rule {
  rule_id: string;
  enabled?: boolean;
  actions?: unknown[];
  conditions?: Array<{ kind?: string; key?: string; pattern?: string }>;
}

export interface RuleSets {
  override?: Rule[];
  room?: Rule[];
}

/** Whether a rule's actions notify: an empty list (or the deprecated "dont_notify") does not. */
function notifies(rule: Rule): boolean {
  return (rule.actions ?? []).some((a) => a === 'notify' || (typeof a === 'object' && a !== null));
}

function isRoomMuteRule(rule: Rule, roomId: string): boolean {
  return (
    rule.rule_id === roomId &&
    rule.enabled !== false &&
    !notifies(rule) &&
    (rule.conditions ?? []).some((c) => c.kind === 'event_match' && c.key === 'room_id' && c.pattern === roomId)
  );
}

export function roomNotificationMode(rules: RuleSets | undefined, roomId: string): RoomNotificationMode {
  if ((rules?.override ?? []).some((r) => isRoomMuteRule(r, roomId))) return 'mute';
  if ((rules?.room ?? []).some((r) => r.rule_id === roomId && r.enabled !== false && !notifies(r))) return 'mentions';
  return 'all';
}

/** Whether the master rule is off, i.e. the account gets notifications at all. */
export function accountNotificationsOn(rules: RuleSets | undefined): boolean {
  const master = (rules?.override ?? []).find((r) => r.rule_id === '.m.rule.master');
  return !master || master.enabled === false;
}

export type RuleChange =
  | {
      op: 'add';
      kind: 'override' | 'room';
      ruleId: string;
      body: { actions: []; conditions?: Array<{ kind: 'event_match'; key: 'room_id'; pattern: string }> };
    }
  | { op: 'delete'; kind: 'override' | 'room'; ruleId: string };

/** The push rule requests that move a room from its current mode to `mode`. */
export function roomModeChanges(rules: RuleSets | undefined, roomId: string, mode: RoomNotificationMode): RuleChange[] {
  const changes: RuleChange[] = [];
  const hasOverride = (rules?.override ?? []).some((r) => r.rule_id === roomId);
  const hasRoom = (rules?.room ?? []).some((r) => r.rule_id === roomId);
  if (hasOverride && mode !== 'mute') changes.push({ op: 'delete', kind: 'override', ruleId: roomId });
  if (hasRoom && mode !== 'mentions') changes.push({ op: 'delete', kind: 'room', ruleId: roomId });
  if (mode === 'mute')
    changes.push({
      op: 'add',
      kind: 'override',
      ruleId: roomId,
      body: { actions: [], conditions: [{ kind: 'event_match', key: 'room_id', pattern: roomId }] },
    });
  if (mode === 'mentions') changes.push({ op: 'add', kind: 'room', ruleId: roomId, body: { actions: [] } });
  return changes;
}

/** The localStorage key of the OS notifications switch: lib/notify.ts's, one name for both. */
export { NOTIFICATIONS_SETTING_KEY as OS_NOTIFICATIONS_KEY } from './notify.ts';
