// The current head of each room kept in memory: its version, current state, state group and
// forward extremities. Only the single writer changes it, inside write jobs.
import type { StateKey } from '../protocol/types.ts';
import { stateKey } from '../protocol/types.ts';
import { eventsStore, stateGroupsStore } from '../storage/events-store.ts';
import { roomsStore } from '../storage/rooms-store.ts';
import type { Queryable } from '../storage/sqlite.ts';
import type { EventReader } from './event-reader.ts';

export interface RoomHead {
  roomId: string;
  version: string;
  /** Current state, (type, state_key) -> event id. */
  state: Map<StateKey, string>;
  /** The state group that equals `state` (null only before the create event). */
  stateGroup: number | null;
  /** Deltas since the last full snapshot in the current group chain. */
  chainLength: number;
  extremities: string[];
  maxDepth: number;
}

/** Newest state groups of a room looked at for the one that holds its current state. */
const GROUPS_TO_CHECK = 50;

export class RoomHeads {
  private readonly heads = new Map<string, RoomHead>();
  private readonly reader: EventReader;

  constructor(reader: EventReader) {
    this.reader = reader;
  }

  async get(q: Queryable, roomId: string): Promise<RoomHead | undefined> {
    const cached = this.heads.get(roomId);
    if (cached) return cached;
    const room = await roomsStore.getRoom(q, roomId);
    if (!room) return undefined;
    const state = new Map<StateKey, string>();
    for (const r of await eventsStore.currentState(q, roomId)) state.set(stateKey(r.type, r.state_key), r.event_id);
    const extremities = await eventsStore.forwardExtremities(q, roomId);
    // A new event's depth is "the maximum depth of the prev_events, plus one" (the PDU schema,
    // data/api/server-server/definitions/pdu_v4.yaml), and its prev_events are the forward
    // extremities: no need to scan the whole room.
    const maxDepthRow = await q.get<{ d: number | null }>(
      extremities.length > 0
        ? 'SELECT MAX(e.depth) AS d FROM forward_extremities f JOIN events e ON e.event_id = f.event_id WHERE f.room_id = ?'
        : 'SELECT MAX(depth) AS d FROM events WHERE room_id = ?',
      roomId,
    );
    const group = await this.groupHolding(q, roomId, state);
    const head: RoomHead = {
      roomId,
      version: room.room_version,
      state,
      stateGroup: group?.id ?? null,
      chainLength: group?.chain_length ?? 0,
      extremities,
      maxDepth: maxDepthRow?.d ?? 0,
    };
    this.heads.set(roomId, head);
    return head;
  }

  /**
   * The state group that holds exactly `state`. Usually the room's newest group, made as the
   * state last changed; but the state before a remote event from a side branch, before a
   * soft-failed event or before backfilled history gets a group of its own and leaves the current
   * state as it was, so the newest groups are compared, newest first. None: the next local event
   * makes one (rooms/append-event.ts).
   */
  private async groupHolding(q: Queryable, roomId: string, state: Map<StateKey, string>): Promise<{ id: number; chain_length: number } | undefined> {
    const groups = await stateGroupsStore.newestOfRoom(q, roomId, GROUPS_TO_CHECK);
    for (const g of groups) {
      const held = await this.reader.stateOfGroup(q, g.id);
      if (held.size === state.size && [...state].every(([k, id]) => held.get(k) === id)) return g;
    }
    return undefined;
  }

  set(head: RoomHead): void {
    this.heads.set(head.roomId, head);
  }

  forget(roomId: string): void {
    this.heads.delete(roomId);
  }

  clear(): void {
    this.heads.clear();
  }
}

/** Users with a member event (any membership) in each head's state, until its state group changes. */
const memberIdsByHead = new WeakMap<RoomHead, { group: number; userIds: string[] }>();

/** Every user with a member event in the room's current state: whom a new event may concern. */
export function memberUserIds(head: RoomHead): string[] {
  const known = memberIdsByHead.get(head);
  if (known && known.group === head.stateGroup) return known.userIds;
  const prefix = stateKey('m.room.member', '');
  const userIds: string[] = [];
  for (const k of head.state.keys()) if (k.startsWith(prefix)) userIds.push(k.slice(prefix.length));
  // Every state change makes a new group, so the group names this exact state.
  if (head.stateGroup !== null) memberIdsByHead.set(head, { group: head.stateGroup, userIds });
  return userIds;
}
