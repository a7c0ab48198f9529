// Power events and the reverse topological power ordering (rooms/fragments/v2-state-res.md
// "Power events", "Reverse topological power ordering", Algorithm step 1).

import type { AuthRulesVersion } from '../auth-rules-versions.ts';
import { userPowerLevel } from '../power-levels.ts';
import type { PDU, StateMap } from '../types.ts';
import { createEventIdFromRoomId, keyOf } from './events.ts';
import type { EventCache, StateResEvent } from './events.ts';

/**
 * "A state event with type m.room.power_levels or m.room.join_rules, or a state event with type
 * m.room.member where the membership is leave or ban and the sender does not match the state_key."
 * The text is the same in v12. (Synapse also counts m.room.create; the spec does not, and the create
 * event is in every auth chain, so it never reaches the full conflicted set in a sound room.)
 */
export function isPowerEvent(pdu: PDU): boolean {
  if (typeof pdu.state_key !== 'string') return false;
  if (pdu.type === 'm.room.power_levels' || pdu.type === 'm.room.join_rules') return true;
  if (pdu.type !== 'm.room.member') return false;
  const membership = pdu.content.membership;
  return (membership === 'leave' || membership === 'ban') && pdu.sender !== pdu.state_key;
}

/**
 * The sender's power level "when looking at their `auth_event`s": the auth events as a state map,
 * read with the auth rules' defaults, so the creator rules of each version hold: without a power
 * levels event the creator has 100 (v6..v11: `content.creator` up to v10, the create `sender` from
 * v11); in v12 every creator has infinite power, and the create event, which v12 never lists in
 * `auth_events`, is found through the room id.
 */
export async function senderPowerLevel(event: StateResEvent, events: EventCache, rules: AuthRulesVersion): Promise<number> {
  const state: StateMap = new Map();
  for (const id of event.pdu.auth_events) {
    const auth = await events.get(id);
    if (auth && typeof auth.pdu.state_key === 'string') state.set(keyOf(auth.pdu), auth.pdu);
  }
  if (event.pdu.type === 'm.room.create') {
    state.set(keyOf(event.pdu), event.pdu);
  } else if (rules.roomIdFromCreateEvent && typeof event.pdu.room_id === 'string') {
    const create = await events.get(createEventIdFromRoomId(event.pdu.room_id));
    if (create) state.set(keyOf(create.pdu), create.pdu);
  }
  return userPowerLevel(state, event.pdu.sender, rules);
}

/** What the reverse topological power ordering compares events by. */
export interface PowerSortKey {
  eventId: string;
  /** The sender's power level (may be Infinity for a v12 creator). */
  power: number;
  originServerTs: number;
}

/**
 * x < y if x's sender has *greater* power, else if x's `origin_server_ts` is less, else if x's
 * `event_id` is less. Event ids compare by code unit; in v4+ rooms they are ASCII.
 */
export function comparePowerSortKeys(x: PowerSortKey, y: PowerSortKey): number {
  if (x.power !== y.power) return x.power > y.power ? -1 : 1;
  if (x.originServerTs !== y.originServerTs) return x.originServerTs < y.originServerTs ? -1 : 1;
  return x.eventId < y.eventId ? -1 : x.eventId > y.eventId ? 1 : 0;
}

/**
 * Kahn's algorithm, choosing at each step the smallest ready node under `compare`: the
 * lexicographically smallest topological ordering. `before` maps every node to the nodes that
 * must precede it (for events: their auth events in the set); each of those must be a node too.
 */
export function lexicographicalTopologicalSort(before: ReadonlyMap<string, ReadonlySet<string>>, compare: (a: string, b: string) => number): string[] {
  const waiting = new Map<string, number>();
  const after = new Map<string, string[]>();
  const ready = new MinHeap<string>(compare);
  for (const [node, preds] of before) {
    waiting.set(node, preds.size);
    if (preds.size === 0) ready.push(node);
    for (const pred of preds) {
      if (!before.has(pred)) throw new Error(`topological sort: ${node} depends on ${pred}, which is not a node`);
      const list = after.get(pred);
      if (list) list.push(node);
      else after.set(pred, [node]);
    }
  }
  const order: string[] = [];
  while (ready.size > 0) {
    const node = ready.pop();
    order.push(node);
    for (const next of after.get(node) ?? []) {
      const left = (waiting.get(next) as number) - 1;
      waiting.set(next, left);
      if (left === 0) ready.push(next);
    }
  }
  if (order.length !== before.size) throw new Error('topological sort: the graph has a cycle');
  return order;
}

/**
 * Step 1: `powerEvents` enlarged by the events of their auth chains that are in the full conflicted
 * set, sorted by the reverse topological power ordering (earliest first). The DAG is the auth DAG
 * restricted to that set: an event must follow every member of the set among its ancestors, even
 * when the path between them leaves the set.
 */
export async function reverseTopologicalPowerOrdering(
  powerEvents: Iterable<string>,
  fullConflictedSet: ReadonlySet<string>,
  events: EventCache,
  rules: AuthRulesVersion,
): Promise<string[]> {
  // X: the power events and the members of the full conflicted set in their auth chains.
  const selected = new Set<string>();
  const seen = new Set<string>();
  const stack = [...powerEvents];
  for (const id of stack) selected.add(id);
  while (stack.length > 0) {
    const id = stack.pop() as string;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const parent of (await events.get(id))?.pdu.auth_events ?? []) {
      if (fullConflictedSet.has(parent)) selected.add(parent);
      if (!seen.has(parent)) stack.push(parent);
    }
  }

  // For each selected event, its nearest selected ancestors, walking through unselected events:
  // below(n) is the union over n's auth events p of {p} if p is selected, else below(p).
  const below = new Map<string, Set<string>>();
  const computeBelow = async (start: string): Promise<void> => {
    const stack: Array<{ id: string; parents: string[] | undefined }> = [{ id: start, parents: undefined }];
    const expanded = new Set<string>(); // guards against a cycle, which content-hashed ids rule out
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      if (below.has(top.id)) {
        stack.pop();
        continue;
      }
      if (top.parents === undefined) {
        top.parents = (await events.get(top.id))?.pdu.auth_events ?? [];
        expanded.add(top.id);
        for (const p of top.parents) {
          if (!selected.has(p) && !below.has(p) && !expanded.has(p)) stack.push({ id: p, parents: undefined });
        }
        continue;
      }
      stack.pop();
      const result = new Set<string>();
      for (const p of top.parents) {
        if (selected.has(p)) result.add(p);
        else for (const q of below.get(p) ?? []) result.add(q);
      }
      below.set(top.id, result);
    }
  };
  const before = new Map<string, Set<string>>();
  for (const id of selected) {
    await computeBelow(id);
    before.set(id, below.get(id) as Set<string>);
  }

  const keys = new Map<string, PowerSortKey>();
  for (const id of selected) {
    const event = await events.require(id);
    keys.set(id, {
      eventId: id,
      power: await senderPowerLevel(event, events, rules),
      originServerTs: event.pdu.origin_server_ts,
    });
  }
  return lexicographicalTopologicalSort(before, (a, b) => comparePowerSortKeys(keys.get(a) as PowerSortKey, keys.get(b) as PowerSortKey));
}

/** A binary min-heap under `compare`. */
class MinHeap<T> {
  readonly #items: T[] = [];
  readonly #compare: (a: T, b: T) => number;

  constructor(compare: (a: T, b: T) => number) {
    this.#compare = compare;
  }

  get size(): number {
    return this.#items.length;
  }

  push(item: T): void {
    const items = this.#items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.#compare(items[i], items[parent]) >= 0) break;
      [items[i], items[parent]] = [items[parent], items[i]];
      i = parent;
    }
  }

  pop(): T {
    const items = this.#items;
    const top = items[0];
    const last = items.pop() as T;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < items.length && this.#compare(items[left], items[smallest]) < 0) smallest = left;
        if (right < items.length && this.#compare(items[right], items[smallest]) < 0) smallest = right;
        if (smallest === i) break;
        [items[i], items[smallest]] = [items[smallest], items[i]];
        i = smallest;
      }
    }
    return top;
  }
}
