// Wire shapes of the Matrix protocol. Names follow the spec (snake_case on the wire).

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Signatures block: server name -> key id -> unpadded base64 signature. */
export type Signatures = Record<string, Record<string, string>>;

/**
 * A persistent data unit in the room-version-4+ format (room versions 6..12 all use it):
 * event ids are derived from the reference hash, `auth_events`/`prev_events` are id lists.
 * server-server-api.md "PDUs"; rooms/fragments/v4-event-ids.md; rooms/fragments/v12-event-format.md
 */
export interface PDU {
  /** Absent only on a v12 m.room.create event, whose room id is derived from its own event id. */
  room_id?: string;
  sender: string;
  type: string;
  state_key?: string;
  content: JsonObject;
  origin_server_ts: number;
  depth: number;
  prev_events: string[];
  auth_events: string[];
  hashes: { sha256: string };
  signatures: Signatures;
  unsigned?: JsonObject;
  redacts?: string;
  /** Kept for events received from older servers; never relied upon (v11+ drops it from redaction). */
  origin?: string;
  [extra: string]: unknown;
}

/** A PDU together with its computed event id (the id itself is never part of the v4+ wire format). */
export interface StoredEvent {
  eventId: string;
  pdu: PDU;
}

/** Key into a state map: `${type}\u0000${state_key}`. */
export type StateKey = string;
export function stateKey(type: string, key: string): StateKey {
  return `${type}\u0000${key}`;
}

/** Room state as the auth rules need it: (type, state_key) -> event. */
export type StateMap = Map<StateKey, PDU>;
