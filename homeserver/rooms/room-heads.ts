// The current head of each room kept in memory: its version, current state, state group and
// forward extremities. Only the single writer changes it, inside write jobs.
import type { StateKey } from '../protocol/types.ts';
import { stateKey } from '../protocol/types.ts';
import { eventsStore } from '../storage/events-store.ts';
import { roomsStore } from '../storage/rooms-store.ts';
import type { Queryable } from '../storage/sqlite.ts';

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

export class RoomHeads {
  private readonly heads = new Map<string, RoomHead>();

  async get(q: Queryable, roomId: string): Promise<RoomHead | undefined> {
    const cached = this.heads.get(roomId);
    if (cached) return cached;
    const room = await roomsStore.getRoom(q, roomId);
    if (!room) return undefined;
    const state = new Map<StateKey, string>();
    for (const r of await eventsStore.currentState(q, roomId)) state.set(stateKey(r.type, r.state_key), r.event_id);
    const extremities = await eventsStore.forwardExtremities(q, roomId);
    const last = await q.get<{ state_group: number | null; depth: number; type: string; state_key: string | null; event_id: string }>(
      'SELECT state_group, depth, type, state_key, event_id FROM events WHERE room_id = ? ORDER BY stream_ordering DESC LIMIT 1', roomId,
    );
    // A new event's depth is "the maximum depth of the prev_events, plus one" (the PDU schema,
    // data/api/server-server/definitions/pdu_v4.yaml), and its prev_events are the forward
    // extremities: no need to scan the whole room.
    const maxDepthRow = await q.get<{ d: number | null }>(
      extremities.length > 0
        ? 'SELECT MAX(e.depth) AS d FROM forward_extremities f JOIN events e ON e.event_id = f.event_id WHERE f.room_id = ?'
        : 'SELECT MAX(depth) AS d FROM events WHERE room_id = ?',
      roomId,
    );
    // The head's group is the newest group of the room: the one made after the last state event.
    const group = await q.get<{ id: number; chain_length: number }>('SELECT id, chain_length FROM state_groups WHERE room_id = ? ORDER BY id DESC LIMIT 1', roomId);
    const head: RoomHead = {
      roomId,
      version: room.room_version,
      state,
      stateGroup: group?.id ?? last?.state_group ?? null,
      chainLength: group?.chain_length ?? 0,
      extremities,
      maxDepth: maxDepthRow?.d ?? 0,
    };
    this.heads.set(roomId, head);
    return head;
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
