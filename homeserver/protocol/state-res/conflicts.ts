// Which events state resolution has to replay: the unconflicted state map and conflicted state set,
// the auth difference, and (room version 12) the conflicted state subgraph
// (rooms/fragments/v2-state-res.md "Definitions"; rooms/v12.md "State resolution").

import { authChain } from './events.ts';
import type { EventCache } from './events.ts';
import type { StateKey } from '../types.ts';

export interface SeparatedState {
  /** Keys present in every state set with the same event id. */
  unconflicted: Map<StateKey, string>;
  /** Every other key, with the distinct event ids the state sets give it (a set missing the key adds nothing). */
  conflicted: Map<StateKey, Set<string>>;
}

/**
 * "If a given key K is present in every S_i with the same value V in each state map, then the
 * pair (K, V) belongs to the unconflicted state map. Otherwise, V belongs to the conflicted state set."
 */
export function separateStateSets(stateSets: ReadonlyArray<ReadonlyMap<StateKey, string>>): SeparatedState {
  const unconflicted = new Map<StateKey, string>();
  const conflicted = new Map<StateKey, Set<string>>();
  const keys = new Set<StateKey>();
  for (const set of stateSets) for (const key of set.keys()) keys.add(key);
  for (const key of keys) {
    const values = new Set<string>();
    let missing = false;
    for (const set of stateSets) {
      const id = set.get(key);
      if (id === undefined) missing = true;
      else values.add(id);
    }
    if (!missing && values.size === 1) unconflicted.set(key, values.values().next().value as string);
    else conflicted.set(key, values);
  }
  return { unconflicted, conflicted };
}

/** Every event id of the conflicted state set. */
export function conflictedStateSet(conflicted: ReadonlyMap<StateKey, ReadonlySet<string>>): Set<string> {
  const ids = new Set<string>();
  for (const values of conflicted.values()) for (const id of values) ids.add(id);
  return ids;
}

/** A caller-supplied auth chain (same meaning as `authChain`: ancestors only), e.g. from an index in storage. */
export type AuthChainOf = (eventIds: string[]) => Promise<Iterable<string>>;

/**
 * The full auth chain C_i of one state set: the union of the auth chains of its events, and the
 * events themselves. The spec's words would leave the events out; we count them, as Synapse does
 * (docs/auth_chain_difference_algorithm.md: "reachable ... from at least one of the state sets"), so
 * that an event every state set holds is never part of the auth difference.
 */
export async function fullAuthChain(stateSet: ReadonlyMap<StateKey, string>, events: EventCache, authChainOf?: AuthChainOf): Promise<Set<string>> {
  const ids = [...stateSet.values()];
  const chain = authChainOf ? new Set(await authChainOf(ids)) : await authChain(ids, events);
  for (const id of ids) chain.add(id);
  return chain;
}

/** "∪ C_i − ∩ C_i": every event that is in some full auth chain but not in all of them. */
export function authDifference(chains: ReadonlyArray<ReadonlySet<string>>): Set<string> {
  const difference = new Set<string>();
  for (const chain of chains) {
    for (const id of chain) {
      if (!chains.every((other) => other.has(id))) difference.add(id);
    }
  }
  return difference;
}

/**
 * Room version 12's *conflicted state subgraph*: "the union of all such paths between any pair of
 * events in the conflicted state set (including endpoints)", paths following `auth_events`. An
 * event is on such a path when it is a conflicted event or an ancestor of one, and a conflicted
 * event other than itself is among its own ancestors or descendants along the path.
 */
export async function conflictedStateSubgraph(conflicted: ReadonlySet<string>, events: EventCache): Promise<Set<string>> {
  // Ancestors of the conflicted events: the only candidates besides the conflicted events themselves.
  const ancestors = await authChain(conflicted, events);
  // reaches(x): some conflicted event is a strict ancestor of x. Computed bottom-up without recursion,
  // as auth chains can be thousands of events deep.
  const reaches = new Map<string, boolean>();
  const visit = async (start: string): Promise<void> => {
    const stack: Array<{ id: string; expanded: boolean }> = [{ id: start, expanded: false }];
    const expanded = new Set<string>(); // guards against a cycle, which content-hashed ids rule out
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      if (reaches.has(top.id)) {
        stack.pop();
        continue;
      }
      const parents = (await events.get(top.id))?.pdu.auth_events ?? [];
      if (!top.expanded) {
        top.expanded = true;
        expanded.add(top.id);
        for (const parent of parents) {
          if (!reaches.has(parent) && !expanded.has(parent)) stack.push({ id: parent, expanded: false });
        }
        continue;
      }
      stack.pop();
      reaches.set(
        top.id,
        parents.some((parent) => conflicted.has(parent) || reaches.get(parent) === true),
      );
    }
  };
  const subgraph = new Set<string>();
  for (const id of [...conflicted, ...ancestors]) {
    await visit(id);
    const onPath = conflicted.has(id) ? reaches.get(id) === true || ancestors.has(id) : reaches.get(id) === true;
    if (onPath) subgraph.add(id);
  }
  return subgraph;
}
