// Evaluates push rules for a newly appended event, for each local user in the room but the sender,
// and stores what notifies (push.md "Server behaviour"). Runs inside the write job that appends
// the event, so the counts /sync reports move in the same commit as the event itself.
import type { JsonObject, StateMap } from '../protocol/types.ts';
import { stateKey } from '../protocol/types.ts';
import { evaluatePushRules, type ConditionMemo, type PushContext } from '../protocol/push-rules-eval.ts';
import { parsePowerLevel, userPowerLevel } from '../protocol/power-levels.ts';
import { authRulesVersion } from '../protocol/auth-rules-versions.ts';
import { MAIN_THREAD, pushStore, type EventNotifications } from '../storage/push-store.ts';
import type { Queryable } from '../storage/sqlite.ts';
import type { EventReader, LoadedEvent } from '../rooms/event-reader.ts';
import type { RoomHead } from '../rooms/room-heads.ts';
import type { PushRules } from './push-rules.ts';
import type { UnreadChange } from './unread-counters.ts';
import { nullObject } from '../protocol/null-object.ts';

/** push.md "Marking notifications as read": follow relations at most this far to find a thread. */
const MAX_THREAD_HOPS = 3;

export interface PushActionDeps {
  rules: PushRules;
  reader: EventReader;
  serverName: string;
}

/** Returns the change it made to the unread counters, for push/unread-counters.ts once it commits. */
export async function recordPushActions(tx: Queryable, deps: PushActionDeps, head: RoomHead, e: LoadedEvent): Promise<UnreadChange> {
  const pdu = e.pdu;
  const threadId = await threadOf(tx, deps.reader, pdu.content);
  const isLocal = (userId: string) => userId.slice(userId.indexOf(':') + 1) === deps.serverName;
  // Sending an event marks what came before it in its thread as read.
  const change: UnreadChange = {};
  if (isLocal(pdu.sender)) {
    pushStore.markSent(tx, pdu.sender, e.roomId, threadId, e.streamOrdering);
    change.sent = { userId: pdu.sender, roomId: e.roomId, threadId, streamOrdering: e.streamOrdering };
  }

  const members = await joinedMembers(tx, deps.reader, head);
  const joined = [...members.keys()];
  const recipients = new Set(joined.filter(isLocal));
  // An invite notifies its invitee (.m.rule.invite_for_me), who is not yet in the room.
  if (pdu.type === 'm.room.member' && pdu.content.membership === 'invite' && pdu.state_key && isLocal(pdu.state_key)) recipients.add(pdu.state_key);
  recipients.delete(pdu.sender);
  if (recipients.size === 0) return change;

  const powerState: StateMap = new Map();
  for (const type of ['m.room.create', 'm.room.power_levels']) {
    const id = head.state.get(stateKey(type, ''));
    const ev = id ? await deps.reader.getEvent(tx, id) : undefined;
    if (ev) powerState.set(stateKey(type, ''), ev.pdu);
  }
  const version = authRulesVersion(head.version);
  const senderPowerLevel = version ? userPowerLevel(powerState, pdu.sender, version) : 0;
  const notificationLevels: Record<string, number> = nullObject();
  const notifications = powerState.get(stateKey('m.room.power_levels', ''))?.content.notifications;
  if (notifications && typeof notifications === 'object' && !Array.isArray(notifications)) {
    for (const [k, v] of Object.entries(notifications)) {
      const level = parsePowerLevel(v, true);
      if (level !== undefined) notificationLevels[k] = level;
    }
  }

  // The event as clients see it: what rule keys such as `room_id` and `content.body` name.
  // (Built without `unsigned` rather than deleting it: a deleted property turns the object into a
  // slow dictionary for every lookup the rules make.)
  const { unsigned: _unsigned, ...fields } = pdu as unknown as JsonObject;
  const event: JsonObject = { ...fields, event_id: e.eventId, room_id: e.roomId };
  const notified: EventNotifications = { streamOrdering: e.streamOrdering, roomId: e.roomId, threadId, actions: [], recipients: new Map(), highlighted: [] };
  const actionIndex = new Map<string, number>();
  const memo: ConditionMemo = new Map();
  for (const userId of recipients) {
    const ctx: PushContext = {
      userId,
      // A joined member's name is known (null when they have none); only an invitee's is looked up.
      displayName: members.has(userId) ? (members.get(userId) ?? null) : await displayNameIn(tx, deps.reader, head, userId),
      memberCount: joined.length,
      senderPowerLevel,
      notificationLevels,
    };
    const rules = deps.rules.cached(userId) ?? (await deps.rules.inTransaction(tx, userId));
    const outcome = evaluatePushRules(rules, event, ctx, memo);
    if (!outcome?.notify) continue;
    const actions = JSON.stringify(outcome.actions);
    let index = actionIndex.get(actions);
    if (index === undefined) {
      actionIndex.set(actions, (index = notified.actions.length));
      notified.actions.push(actions);
    }
    notified.recipients.set(userId, index);
    if (outcome.highlight) notified.highlighted.push(userId);
  }
  pushStore.recordNotifications(tx, notified);
  if (notified.recipients.size > 0) change.notified = notified;
  return change;
}

/**
 * The room's joined members with their display names, from the head's state (events cached in
 * memory), kept per head until its state group changes: every state change makes a new group.
 */
const membersByHead = new WeakMap<RoomHead, { group: number | null; members: Map<string, string | null> }>();

async function joinedMembers(tx: Queryable, reader: EventReader, head: RoomHead): Promise<Map<string, string | null>> {
  const known = membersByHead.get(head);
  if (known && known.group === head.stateGroup && head.stateGroup !== null) return known.members;
  const members = new Map<string, string | null>();
  for (const [key, id] of head.state) {
    if (!key.startsWith('m.room.member\u0000')) continue;
    const m = await reader.getEvent(tx, id);
    if (m?.pdu.content.membership !== 'join' || !m.pdu.state_key) continue;
    const name = m.pdu.content.displayname;
    members.set(m.pdu.state_key, typeof name === 'string' && name !== '' ? name : null);
  }
  membersByHead.set(head, { group: head.stateGroup, members });
  return members;
}

async function displayNameIn(tx: Queryable, reader: EventReader, head: RoomHead, userId: string): Promise<string | null> {
  const id = head.state.get(stateKey('m.room.member', userId));
  const member = id ? await reader.getEvent(tx, id) : undefined;
  const name = member?.pdu.content.displayname;
  return typeof name === 'string' && name !== '' ? name : null;
}

/**
 * The thread an event belongs to: the root of an m.thread relation, found by following
 * m.relates_to at most MAX_THREAD_HOPS times (so a reaction to a thread reply counts in the
 * thread); otherwise the main timeline.
 */
export async function threadOf(tx: Queryable, reader: EventReader, content: JsonObject): Promise<string> {
  let rel = relatesTo(content);
  for (let hop = 0; rel && hop < MAX_THREAD_HOPS; hop++) {
    if (typeof rel.event_id !== 'string') break;
    if (rel.rel_type === 'm.thread') return rel.event_id;
    const parent = await reader.getEvent(tx, rel.event_id);
    if (!parent) break;
    rel = relatesTo(parent.pdu.content);
  }
  return MAIN_THREAD;
}

function relatesTo(content: JsonObject | undefined): JsonObject | undefined {
  const rel = content?.['m.relates_to'];
  return rel && typeof rel === 'object' && !Array.isArray(rel) ? rel : undefined;
}
