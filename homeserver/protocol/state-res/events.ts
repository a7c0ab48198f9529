// Loading the events state resolution looks at, once each, and walking the auth DAG they form
// (rooms/fragments/v2-state-res.md "Auth chain": "the events reachable by walking the graph
// induced by an event's `auth_events` links").

import { stateKey } from '../types.ts';
import type { PDU, StateKey } from '../types.ts';

/** An event as state resolution needs it: its id (never part of the v4+ wire format) and PDU. */
export interface StateResEvent {
  eventId: string;
  pdu: PDU;
  /**
   * True when the event was rejected for failing the auth rules against its own `auth_events`
   * (server-server-api.md "Rejection"). Such an event is never used as an auth event in the
   * iterative auth checks (v2-state-res.md "Rejected events"). Leave it unset for an event that
   * only failed against the state before it, or was soft-failed: those take part as usual.
   */
  rejected?: boolean;
}

/** Something state resolution cannot proceed without: an event of a state set is unknown, or from another room. */
export class StateResError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateResError';
  }
}

export type LoadEvent = (eventId: string) => Promise<StateResEvent | undefined>;

/** Memoises `load` for one resolution: every event is fetched from storage at most once. */
export class EventCache {
  readonly #load: LoadEvent;
  readonly #events = new Map<string, StateResEvent | null>();

  constructor(load: LoadEvent) {
    this.#load = load;
  }

  /** The event, or undefined when the caller does not know it. */
  async get(eventId: string): Promise<StateResEvent | undefined> {
    const cached = this.#events.get(eventId);
    if (cached !== undefined) return cached ?? undefined;
    const event = (await this.#load(eventId)) ?? null;
    if (event !== null && event.eventId !== eventId) {
      throw new StateResError(`getEvent(${eventId}) returned event ${event.eventId}`);
    }
    this.#events.set(eventId, event);
    return event ?? undefined;
  }

  /** The event; throws StateResError when it is unknown. */
  async require(eventId: string): Promise<StateResEvent> {
    const event = await this.get(eventId);
    if (!event) throw new StateResError(`state resolution needs event ${eventId}, which is unknown`);
    return event;
  }
}

/** The state map key of a state event. */
export function keyOf(pdu: PDU): StateKey {
  return stateKey(pdu.type, pdu.state_key ?? '');
}

/** Whether `pdu` is a state event (has a `state_key`). */
export function isStateEvent(pdu: PDU): boolean {
  return typeof pdu.state_key === 'string';
}

/**
 * The auth chain of `eventIds`: every event reachable from them through `auth_events`, not
 * counting the events themselves unless one is reachable from another. Auth events the caller
 * does not know are part of the chain but not walked past.
 */
export async function authChain(eventIds: Iterable<string>, events: EventCache): Promise<Set<string>> {
  const chain = new Set<string>();
  const stack: string[] = [];
  for (const id of eventIds) {
    const event = await events.get(id);
    if (event) stack.push(...event.pdu.auth_events);
  }
  while (stack.length > 0) {
    const id = stack.pop() as string;
    if (chain.has(id)) continue;
    chain.add(id);
    const event = await events.get(id);
    if (event) stack.push(...event.pdu.auth_events);
  }
  return chain;
}

/**
 * The `m.room.power_levels` event among an event's `auth_events` (the first one, should an invalid
 * event list two), or undefined. Used by mainline ordering.
 */
export async function powerLevelsAuthEvent(pdu: PDU, events: EventCache): Promise<StateResEvent | undefined> {
  for (const id of pdu.auth_events) {
    const event = await events.get(id);
    if (event && event.pdu.type === 'm.room.power_levels' && event.pdu.state_key === '') return event;
  }
  return undefined;
}

/**
 * The id of the room's m.room.create event in room version 12, where it is never listed in
 * `auth_events` and the room id is its event id with sigil `!` (rooms/v12.md, auth rule 2).
 */
export function createEventIdFromRoomId(roomId: string): string {
  return `$${roomId.slice(1)}`;
}
