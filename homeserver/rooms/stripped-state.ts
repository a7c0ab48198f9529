// Stripped state (client-server-api "Stripped state"): the few state events that let someone not
// in a room see what it is — sent along with invites (invite_room_state) and knocks.
import { stateKey, type JsonObject } from '../protocol/types.ts';
import type { Queryable } from '../storage/sqlite.ts';
import { strippedStateEvent, STRIPPED_STATE_TYPES } from './client-event.ts';
import type { RoomService } from './room-service.ts';

export async function strippedState(rooms: RoomService, q: Queryable, roomId: string, extraUsers: string[] = []): Promise<JsonObject[]> {
  const state = await rooms.currentStateIds(roomId, q);
  const keys = [...STRIPPED_STATE_TYPES.map((t) => stateKey(t, '')), ...extraUsers.map((u) => stateKey('m.room.member', u))];
  const out: JsonObject[] = [];
  for (const k of keys) {
    const id = state.get(k);
    const ev = id ? await rooms.reader.getEvent(q, id) : undefined;
    if (ev) out.push(strippedStateEvent(ev));
  }
  return out;
}
