// Mainline ordering (rooms/fragments/v2-state-res.md "Mainline ordering", Algorithm step 3).

import { powerLevelsAuthEvent } from './events.ts';
import type { EventCache } from './events.ts';

/**
 * The mainline of P_0: [P_0, P_1, ..., P_n], each P_i+1 the m.room.power_levels event in the
 * `auth_events` of P_i. Returned as event id -> index i. Empty when there is no P_0.
 */
export async function mainlineOf(powerLevelsId: string | undefined, events: EventCache): Promise<Map<string, number>> {
  const mainline = new Map<string, number>();
  let current = powerLevelsId === undefined ? undefined : await events.get(powerLevelsId);
  while (current && !mainline.has(current.eventId)) {
    mainline.set(current.eventId, mainline.size);
    current = await powerLevelsAuthEvent(current.pdu, events);
  }
  return mainline;
}

/**
 * Mainline positions, memoised per power levels event: for an event e, follow e_1, e_2, ... (the
 * m.room.power_levels event in the `auth_events` of e_0, e_1, ...) to the first e_j on the
 * mainline, whose index there is the position; Infinity when none is. e_0 itself is not looked at.
 */
export class MainlinePositions {
  readonly #mainline: ReadonlyMap<string, number>;
  readonly #events: EventCache;
  /** Power levels event id -> the position of the closest mainline event at or below it. */
  readonly #memo = new Map<string, number>();

  constructor(mainline: ReadonlyMap<string, number>, events: EventCache) {
    this.#mainline = mainline;
    this.#events = events;
  }

  async positionOf(eventId: string): Promise<number> {
    const event = await this.#events.require(eventId);
    const chain: string[] = []; // e_1, e_2, ... not yet memoised
    let position = Infinity;
    let current = await powerLevelsAuthEvent(event.pdu, this.#events);
    while (current) {
      const index = this.#mainline.get(current.eventId) ?? this.#memo.get(current.eventId);
      if (index !== undefined) {
        position = index;
        break;
      }
      if (chain.includes(current.eventId)) break; // a cycle, which content-hashed ids rule out
      chain.push(current.eventId);
      current = await powerLevelsAuthEvent(current.pdu, this.#events);
    }
    for (const id of chain) this.#memo.set(id, position);
    return position;
  }
}

/**
 * Sorts `eventIds` by the mainline ordering based on the power levels event `powerLevelsId`:
 * x < y if x's mainline position is *greater*, else if x's `origin_server_ts` is less, else if x's
 * `event_id` is less.
 */
export async function mainlineOrdering(eventIds: Iterable<string>, powerLevelsId: string | undefined, events: EventCache): Promise<string[]> {
  const positions = new MainlinePositions(await mainlineOf(powerLevelsId, events), events);
  const keyed: Array<{ id: string; position: number; ts: number }> = [];
  for (const id of eventIds) {
    const event = await events.require(id);
    keyed.push({ id, position: await positions.positionOf(id), ts: event.pdu.origin_server_ts });
  }
  keyed.sort((x, y) => {
    if (x.position !== y.position) return x.position > y.position ? -1 : 1;
    if (x.ts !== y.ts) return x.ts < y.ts ? -1 : 1;
    return x.id < y.id ? -1 : x.id > y.id ? 1 : 0;
  });
  return keyed.map((k) => k.id);
}
