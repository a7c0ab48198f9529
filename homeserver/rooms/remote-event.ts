// Persists a fully formed PDU that was not built by appendLocalEvent: one received over federation,
// or a local event another server had to sign first (invites). Runs inside a write job, after the
// caller has fetched every auth event and prev event it could and checked signatures and hashes
// (server-server-api.md "Checks performed on receipt of a PDU", steps 1-3). Here: steps 4-6 —
//   4. auth against the event's own auth_events  -> rejected
//   5. auth against the state before the event  -> rejected
//   6. auth against the room's current state    -> soft-failed (kept, not shown, not an extremity)
// then the event joins the DAG: forward extremities move, and the current state becomes the
// resolution (state resolution v2) of the states after every forward extremity.
import type { PDU, StateKey, StateMap } from '../protocol/types.ts';
import { stateKey } from '../protocol/types.ts';
import { checkEventAuth, AuthError, type AuthEventEntry } from '../protocol/auth-rules.ts';
import { authRulesVersion } from '../protocol/auth-rules-versions.ts';
import { authEventKeysFor } from '../protocol/auth-events-selection.ts';
import { resolveStateV2 } from '../protocol/state-res-v2.ts';
import { eventsStore, stateGroupsStore } from '../storage/events-store.ts';
import { remoteEventsStore } from '../storage/remote-events-store.ts';
import type { Queryable } from '../storage/sqlite.ts';
import type { EventReader, LoadedEvent, StateIds } from './event-reader.ts';
import type { RoomHead } from './room-heads.ts';
import { splitKey } from './append-event.ts';

const MAX_STATE_CHAIN = 50;

export type RemoteOutcome =
  { kind: 'accepted'; event: LoadedEvent } | { kind: 'soft_failed'; event: LoadedEvent; reason: string } | { kind: 'rejected'; reason: string };

export interface RemoteEventInput {
  eventId: string;
  pdu: PDU;
  /** The state before the event when its prev_events' states are unknown here (from /state_ids). */
  stateBefore?: StateIds;
}

/** Loads an event as state resolution and the auth rules see it: with its rejection mark. */
async function loadForAuth(q: Queryable, reader: EventReader, id: string): Promise<{ eventId: string; pdu: PDU; rejected?: boolean } | undefined> {
  const e = await reader.getEvent(q, id);
  if (!e) return undefined;
  return e;
}

/** The state after every event in `ids`, resolved into one (state resolution v2 when they differ). */
export async function resolvedStateAfter(
  q: Queryable,
  reader: EventReader,
  roomVersion: string,
  ids: string[],
  extra: StateIds[] = [],
): Promise<StateIds | undefined> {
  const sets: StateIds[] = [...extra];
  for (const id of ids) {
    const e = await reader.getEvent(q, id);
    // An outlier's state is unknown; a rejected event has none.
    if (!e || e.outlier === 'outlier') return undefined;
    sets.push(await reader.stateAfter(q, e));
  }
  if (sets.length === 1) return sets[0];
  if (sets.length === 0) return new Map();
  return resolveStateV2({ roomVersion, stateSets: sets, getEvent: (id) => loadForAuth(q, reader, id) });
}

/** The (type, state_key) -> PDU map the auth rules need for `pdu`, taken from `state`. */
async function authStateFrom(q: Queryable, reader: EventReader, pdu: PDU, state: StateIds, roomVersion: string): Promise<StateMap> {
  const rules = authRulesVersion(roomVersion)!;
  const out: StateMap = new Map();
  const keys = authEventKeysFor(pdu, rules).map(([t, k]) => stateKey(t, k));
  // v12 (rooms/v12.md): the create event is not an auth event but the rules read it.
  keys.push(stateKey('m.room.create', ''));
  for (const k of keys) {
    const id = state.get(k);
    if (!id) continue;
    const e = await reader.getEvent(q, id);
    if (e) out.set(k, e.pdu);
  }
  return out;
}

function authCheck(pdu: PDU, authState: StateMap, roomVersion: string, createEventId: string | undefined, authEvents?: AuthEventEntry[]): string | undefined {
  try {
    checkEventAuth(pdu, authState, authRulesVersion(roomVersion)!, { createEventId, ...(authEvents ? { authEvents } : {}) });
    return undefined;
  } catch (err) {
    if (err instanceof AuthError) return err.message;
    throw err;
  }
}

/**
 * A state group whose state is `state`, made as a delta on `base` (a group and its state) when it
 * only adds or replaces entries and the chain is short, as a full snapshot otherwise.
 */
export async function stateGroupFor(
  q: Queryable,
  reader: EventReader,
  roomId: string,
  state: StateIds,
  base: { group: number | null; state: StateIds } | undefined,
): Promise<number> {
  if (base && base.group !== null) {
    const delta: Array<[string, string, string]> = [];
    let removed = false;
    for (const k of base.state.keys()) if (!state.has(k)) removed = true;
    for (const [k, id] of state) if (base.state.get(k) !== id) delta.push([...splitKey(k), id]);
    if (!removed && delta.length === 0) return base.group;
    const info = await stateGroupsStore.getGroup(q, base.group);
    if (!removed && info && info.chain_length < MAX_STATE_CHAIN) {
      const id = await stateGroupsStore.insertGroup(q, roomId, base.group, info.chain_length + 1, delta);
      reader.rememberGroup(id, new Map(state));
      return id;
    }
  }
  const id = await stateGroupsStore.insertGroup(
    q,
    roomId,
    null,
    0,
    [...state].map(([k, v]) => [...splitKey(k), v] as [string, string, string]),
  );
  reader.rememberGroup(id, new Map(state));
  return id;
}

/** Step 4: the auth rules against the event's own auth_events; the failure, or undefined when allowed. */
export async function ownAuthCheck(q: Queryable, reader: EventReader, head: RoomHead, pdu: PDU): Promise<string | undefined> {
  const createId = head.state.get(stateKey('m.room.create', ''));
  const authEntries: AuthEventEntry[] = [];
  const ownAuthState: StateMap = new Map();
  for (const id of pdu.auth_events) {
    const e = await reader.getEvent(q, id);
    if (!e) return (await remoteEventsStore.getRejected(q, id)) ? `auth event ${id} was rejected` : `auth event ${id} is unknown`;
    if (e.roomId !== head.roomId) return `auth event ${id} belongs to another room`;
    authEntries.push({ pdu: e.pdu });
    ownAuthState.set(stateKey(e.pdu.type, e.pdu.state_key ?? ''), e.pdu);
  }
  if (createId && !ownAuthState.has(stateKey('m.room.create', ''))) {
    const create = await reader.getEvent(q, createId);
    if (create) ownAuthState.set(stateKey('m.room.create', ''), create.pdu);
  }
  return authCheck(pdu, ownAuthState, head.version, createId, authEntries);
}

/** Steps 5 and 6: the auth rules against a given state (before the event, or the current one). */
export async function checkAgainst(q: Queryable, reader: EventReader, head: RoomHead, pdu: PDU, state: StateIds): Promise<string | undefined> {
  const createId = head.state.get(stateKey('m.room.create', ''));
  return authCheck(pdu, await authStateFrom(q, reader, pdu, state, head.version), head.version, createId);
}

/** Steps 4-6 and persistence; `head` is advanced in place when the event is accepted. */
export async function persistRemoteEvent(q: Queryable, reader: EventReader, head: RoomHead, input: RemoteEventInput): Promise<RemoteOutcome> {
  const { eventId, pdu } = input;
  const version = head.version;
  const reject = async (reason: string): Promise<RemoteOutcome> => {
    await remoteEventsStore.insertRejected(q, eventId, head.roomId, reason);
    return { kind: 'rejected', reason };
  };

  // Step 4: the event's own auth_events, all of which the caller fetched.
  const own = await ownAuthCheck(q, reader, head, pdu);
  if (own) return reject(`against its auth events: ${own}`);

  // Step 5: the state before the event, from its prev_events (or as the origin told us).
  const stateBefore = input.stateBefore ?? (await resolvedStateAfter(q, reader, version, pdu.prev_events));
  if (!stateBefore) return reject('the state before the event is unknown');
  const before = await checkAgainst(q, reader, head, pdu, stateBefore);
  if (before) return reject(`against the state before it: ${before}`);

  // The state group holding the state before the event: a prev's group when that fits.
  let base: { group: number | null; state: StateIds } | undefined;
  const firstPrev = pdu.prev_events.length > 0 ? await reader.getEvent(q, pdu.prev_events[0]!) : undefined;
  if (firstPrev && firstPrev.outlier !== 'outlier') base = { group: firstPrev.stateGroup, state: await reader.stateOfGroup(q, firstPrev.stateGroup) };
  else if (head.stateGroup !== null) base = { group: head.stateGroup, state: head.state };
  const stateGroup = await stateGroupFor(q, reader, head.roomId, stateBefore, base);

  // Step 6: soft failure against the current state. An event that does not build on all our
  // forward extremities is checked against the resolution of their states with the state before it
  // (as Synapse does): what the room's state would be once the event is in, so that an event from
  // a concurrent branch that the resolution accepts is not soft-failed.
  const prevSet = new Set(pdu.prev_events);
  const buildsOnFront = head.extremities.length === prevSet.size && head.extremities.every((id) => prevSet.has(id));
  const currentState = buildsOnFront ? head.state : ((await resolvedStateAfter(q, reader, version, head.extremities, [stateBefore])) ?? head.state);
  const current = await checkAgainst(q, reader, head, pdu, currentState);
  if (current) {
    await remoteEventsStore.insertOutlier(q, eventId, head.roomId, 'soft_failed', JSON.stringify(pdu), stateGroup);
    const event: LoadedEvent = { eventId, roomId: head.roomId, streamOrdering: 0, stateGroup, redactedBy: null, pdu, outlier: 'soft_failed' };
    reader.remember(event);
    return { kind: 'soft_failed', event, reason: current };
  }

  const streamOrdering = await eventsStore.insertEvent(q, { eventId, roomId: head.roomId, pdu, stateGroup });
  const event: LoadedEvent = { eventId, roomId: head.roomId, streamOrdering, stateGroup, redactedBy: null, pdu };
  reader.remember(event);

  // The DAG's new front: the event replaces the extremities it cites.
  const prevs = new Set(pdu.prev_events);
  const extremities = [...head.extremities.filter((id) => !prevs.has(id)), eventId];
  const stateAfter = pdu.state_key === undefined ? stateBefore : new Map(stateBefore).set(stateKey(pdu.type, pdu.state_key), eventId);
  const newState = extremities.length === 1 ? stateAfter : await resolvedStateAfter(q, reader, version, extremities);
  await applyCurrentState(q, reader, head, newState ?? stateAfter);
  head.extremities = extremities;
  head.maxDepth = Math.max(head.maxDepth, pdu.depth);
  await eventsStore.setForwardExtremities(q, head.roomId, extremities);
  return { kind: 'accepted', event };
}

/** Writes the difference between the head's current state and `next`, then moves the head to it. */
export async function applyCurrentState(q: Queryable, reader: EventReader, head: RoomHead, next: StateIds): Promise<void> {
  const changed: Array<[StateKey, string | undefined]> = [];
  for (const [k, id] of next) if (head.state.get(k) !== id) changed.push([k, id]);
  for (const k of head.state.keys()) if (!next.has(k)) changed.push([k, undefined]);
  if (changed.length === 0) return;
  for (const [k, id] of changed) {
    const [type, key] = splitKey(k);
    if (id === undefined) {
      await remoteEventsStore.deleteCurrentState(q, head.roomId, type, key);
      continue;
    }
    await eventsStore.setCurrentState(q, head.roomId, type, key, id);
    if (type === 'm.room.member') {
      const e = await reader.getEvent(q, id);
      const membership = e ? String(e.pdu.content.membership) : 'leave';
      await eventsStore.setMembership(q, head.roomId, key, membership, id, e?.streamOrdering || 0);
    }
  }
  const group = await stateGroupFor(q, reader, head.roomId, next, { group: head.stateGroup, state: head.state });
  head.state = new Map(next);
  head.stateGroup = group;
  const info = await stateGroupsStore.getGroup(q, group);
  head.chainLength = info?.chain_length ?? 0;
}

/**
 * Stores events learnt without their state (send_join's state and auth chain, /event_auth): each
 * is checked against its own auth_events (step 4), in depth order so that auth events come first;
 * the ones that fail are remembered as rejected. Returns the ids that were stored or already known.
 */
export async function persistOutliers(
  q: Queryable,
  reader: EventReader,
  roomId: string,
  roomVersion: string,
  events: Array<{ eventId: string; pdu: PDU }>,
  createEventId: string | undefined,
): Promise<Set<string>> {
  const ok = new Set<string>();
  const sorted = [...events].sort((a, b) => a.pdu.depth - b.pdu.depth || (a.eventId < b.eventId ? -1 : 1));
  const pending = new Map(sorted.map((e) => [e.eventId, e]));
  const known = await remoteEventsStore.knownIds(
    q,
    sorted.map((e) => e.eventId),
  );
  // Depth is only a hint from the sender: repeat until no more events become checkable.
  for (let progress = true; progress && pending.size > 0;) {
    progress = false;
    for (const { eventId, pdu } of [...pending.values()]) {
      // Held already (one query for the whole batch, not one per event): usable unless rejected.
      if (known.has(eventId)) {
        if (await reader.getEvent(q, eventId)) ok.add(eventId);
        pending.delete(eventId);
        progress = true;
        continue;
      }
      const authEntries: AuthEventEntry[] = [];
      const authState: StateMap = new Map();
      let waiting = false;
      let missing: string | undefined;
      for (const id of pdu.auth_events) {
        const e = await reader.getEvent(q, id);
        if (!e) {
          if (pending.has(id)) waiting = true;
          else missing = id;
          break;
        }
        authEntries.push({ pdu: e.pdu });
        authState.set(stateKey(e.pdu.type, e.pdu.state_key ?? ''), e.pdu);
      }
      if (waiting) continue;
      pending.delete(eventId);
      progress = true;
      const createId = createEventId ?? (pdu.type === 'm.room.create' ? eventId : undefined);
      if (createId && !authState.has(stateKey('m.room.create', '')) && pdu.type !== 'm.room.create') {
        const create = await reader.getEvent(q, createId);
        if (create) authState.set(stateKey('m.room.create', ''), create.pdu);
      }
      const failure = missing ? `auth event ${missing} is unknown or rejected` : authCheck(pdu, authState, roomVersion, createId, authEntries);
      if (failure) {
        await remoteEventsStore.insertRejected(q, eventId, roomId, failure);
        continue;
      }
      await remoteEventsStore.insertOutlier(q, eventId, roomId, 'outlier', JSON.stringify(pdu), null);
      reader.remember({ eventId, roomId, streamOrdering: 0, stateGroup: null, redactedBy: null, pdu, outlier: 'outlier' });
      ok.add(eventId);
    }
  }
  for (const { eventId } of pending.values()) await remoteEventsStore.insertRejected(q, eventId, roomId, 'its auth events form a cycle');
  return ok;
}
