// State resolution v2 (rooms/fragments/v2-state-res.md, room versions 6..11) and its v12 form
// ("v2.1", rooms/v12.md "State resolution", MSC4297): the state before an event with several
// `prev_events` is the resolution of the states after each of them.
//
// Pure: events come from the caller's `getEvent`, nothing is stored, and the answer depends only on
// the state sets and the events (never on the order of the state sets or of the lookups).
//
//   1. power events of the full conflicted set, with their conflicted auth ancestors, in reverse
//      topological power ordering (state-res/power-ordering.ts);
//   2. iterative auth checks from the unconflicted state map (v12: from an empty map)
//      (state-res/iterative-auth.ts);
//   3. the other events of the full conflicted set in mainline ordering based on the resolved
//      power levels (state-res/mainline.ts);
//   4. iterative auth checks again, on top of step 2;
//   5. the unconflicted state map laid over the result.
// The full conflicted set is the conflicted state set plus the auth difference, plus in v12 the
// conflicted state subgraph (state-res/conflicts.ts).

import { authRulesVersion } from './auth-rules-versions.ts';
import { getRoomVersion } from './room-versions.ts';
import { authDifference, conflictedStateSet, conflictedStateSubgraph, fullAuthChain, separateStateSets } from './state-res/conflicts.ts';
import type { AuthChainOf } from './state-res/conflicts.ts';
import { EventCache, StateResError } from './state-res/events.ts';
import type { StateResEvent } from './state-res/events.ts';
import { iterativeAuthChecks } from './state-res/iterative-auth.ts';
import type { StateResAuthOptions } from './state-res/iterative-auth.ts';
import { mainlineOrdering } from './state-res/mainline.ts';
import { isPowerEvent, reverseTopologicalPowerOrdering } from './state-res/power-ordering.ts';
import { stateKey } from './types.ts';
import type { StateKey } from './types.ts';

export { StateResError } from './state-res/events.ts';
export type { StateResEvent } from './state-res/events.ts';
export type { StateResAuthOptions } from './state-res/iterative-auth.ts';

export interface StateResInput {
  /** The room version id ('6'..'12'); it picks v2 or v2.1 and the auth rules. */
  roomVersion: string;
  /** The state sets to merge: each maps stateKey(type, key) -> event id. */
  stateSets: Array<ReadonlyMap<StateKey, string>>;
  /** Loads an event by id (undefined if unknown). Every event of the state sets must be known. */
  getEvent(eventId: string): Promise<StateResEvent | undefined>;
  /**
   * The auth chain of a set of events: every event reachable through `auth_events`, the given events
   * themselves left out. When absent it is computed via getEvent by walking `auth_events`.
   */
  getAuthChain?(eventIds: string[]): Promise<Iterable<string>>;
  /** Passed to the auth rules; by default signatures are trusted as present (they were checked on receipt). */
  authOptions?: StateResAuthOptions;
}

const POWER_LEVELS_KEY = stateKey('m.room.power_levels', '');

/** Resolves `stateSets` into one state map (stateKey(type, key) -> event id). */
export async function resolveStateV2(input: StateResInput): Promise<Map<StateKey, string>> {
  const version = getRoomVersion(input.roomVersion);
  const rules = authRulesVersion(input.roomVersion);
  if (!version || !rules) throw new StateResError(`room version ${input.roomVersion} is not supported`);

  const { unconflicted, conflicted } = separateStateSets(input.stateSets);
  if (conflicted.size === 0) return unconflicted;

  const events = new EventCache((id) => input.getEvent(id));
  const authChainOf: AuthChainOf | undefined = input.getAuthChain?.bind(input);

  // The full conflicted set.
  const conflictedIds = conflictedStateSet(conflicted);
  for (const id of conflictedIds) await events.require(id);
  const chains: Array<Set<string>> = [];
  for (const set of input.stateSets) chains.push(await fullAuthChain(set, events, authChainOf));
  const fullConflictedSet = new Set([...conflictedIds, ...authDifference(chains)]);
  if (version.stateResolution === 'v2.1') {
    for (const id of await conflictedStateSubgraph(conflictedIds, events)) fullConflictedSet.add(id);
  }
  // An auth event nobody can load cannot be replayed; every implementation leaves it out.
  for (const id of fullConflictedSet) if (!(await events.get(id))) fullConflictedSet.delete(id);
  await checkOneRoom(fullConflictedSet, events);

  // Steps 1 and 2.
  const powerEvents: string[] = [];
  for (const id of fullConflictedSet) if (isPowerEvent((await events.require(id)).pdu)) powerEvents.push(id);
  const sortedPowerEvents = await reverseTopologicalPowerOrdering(powerEvents, fullConflictedSet, events, rules);
  const ctx = { events, rules, authOptions: input.authOptions };
  const initial = version.stateResolution === 'v2.1' ? new Map<StateKey, string>() : unconflicted;
  const partial = await iterativeAuthChecks(initial, sortedPowerEvents, ctx);

  // Steps 3 and 4.
  const picked = new Set(sortedPowerEvents);
  const others = [...fullConflictedSet].filter((id) => !picked.has(id));
  const sortedOthers = await mainlineOrdering(others, partial.get(POWER_LEVELS_KEY), events);
  const resolved = await iterativeAuthChecks(partial, sortedOthers, ctx);

  // Step 5.
  for (const [key, id] of unconflicted) resolved.set(key, id);
  return resolved;
}

/** Every event replayed must be in one room (v12's create event has no room_id: its room id is derived). */
async function checkOneRoom(ids: Iterable<string>, events: EventCache): Promise<void> {
  let roomId: string | undefined;
  for (const id of ids) {
    const { pdu } = await events.require(id);
    const room = typeof pdu.room_id === 'string' ? pdu.room_id : pdu.type === 'm.room.create' ? `!${id.slice(1)}` : undefined;
    if (room === undefined) throw new StateResError(`event ${id} has no room_id`);
    roomId ??= room;
    if (room !== roomId) throw new StateResError(`event ${id} is in room ${room}, not ${roomId}`);
  }
}
