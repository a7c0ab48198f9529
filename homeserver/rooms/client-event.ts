// The client's view of a PDU (client-server-api "Room Event Format"): the event id and room id at the
// top level, DAG fields left out, and `unsigned` filled with what clients use.
import type { JsonObject } from '../protocol/types.ts';
import { stateKey } from '../protocol/types.ts';
import type { Queryable } from '../storage/sqlite.ts';
import type { EventReader, LoadedEvent } from './event-reader.ts';
import { bundledAggregations } from './relations.ts';

export interface ClientEvent {
  content: JsonObject;
  event_id: string;
  origin_server_ts: number;
  room_id?: string;
  sender: string;
  state_key?: string;
  type: string;
  redacts?: string;
  unsigned?: JsonObject;
}

export interface FormatOptions {
  /** The requesting device: its own sends carry `unsigned.transaction_id`. */
  viewer?: { userId: string; deviceId: string };
  /** Sync's room timelines leave room_id out (ClientEventWithoutRoomID). */
  omitRoomId?: boolean;
  now?: number;
  /** Leave out bundled aggregations (for events nested inside another's aggregation). */
  noRelations?: boolean;
}

export async function toClientEvent(q: Queryable, reader: EventReader, e: LoadedEvent, opts: FormatOptions = {}): Promise<ClientEvent> {
  const p = e.pdu;
  const out: ClientEvent = {
    content: p.content,
    event_id: e.eventId,
    origin_server_ts: p.origin_server_ts,
    sender: p.sender,
    type: p.type,
  };
  if (!opts.omitRoomId) out.room_id = e.roomId;
  if (p.state_key !== undefined) out.state_key = p.state_key;
  if (p.type === 'm.room.redaction') {
    const redacts = (p.content.redacts as string | undefined) ?? p.redacts;
    if (redacts) out.redacts = redacts;
  }
  const unsigned: JsonObject = { age: Math.max(0, (opts.now ?? Date.now()) - p.origin_server_ts) };
  if (p.state_key !== undefined && e.stateGroup !== null) {
    const before = await reader.stateOfGroup(q, e.stateGroup);
    const prevId = before.get(stateKey(p.type, p.state_key));
    if (prevId) {
      const prev = await reader.getEvent(q, prevId);
      if (prev) {
        unsigned.prev_content = prev.pdu.content;
        unsigned.prev_sender = prev.pdu.sender;
        unsigned.replaces_state = prevId;
      }
    }
  }
  if (e.redactedBy) {
    const r = await reader.getEvent(q, e.redactedBy);
    if (r) unsigned.redacted_because = (await toClientEvent(q, reader, r, { ...opts, viewer: undefined, noRelations: true })) as unknown as JsonObject;
  }
  // Only the sender's own events can carry its transaction id: no lookup for anyone else's.
  if (opts.viewer && opts.viewer.userId === p.sender) {
    const txn = await q.get<{ txn_id: string }>(
      'SELECT txn_id FROM events WHERE event_id = ? AND txn_user_id = ? AND txn_device_id = ?',
      e.eventId,
      opts.viewer.userId,
      opts.viewer.deviceId,
    );
    if (txn) unsigned.transaction_id = txn.txn_id;
  }
  if (!opts.noRelations) {
    const relations = await bundledAggregations(
      q,
      reader,
      e,
      opts.viewer?.userId,
      async (child) => (await toClientEvent(q, reader, child, { ...opts, noRelations: true })) as unknown as JsonObject,
    );
    if (relations) unsigned['m.relations'] = relations;
  }
  out.unsigned = unsigned;
  return out;
}

export async function toClientEvents(q: Queryable, reader: EventReader, events: LoadedEvent[], opts: FormatOptions = {}): Promise<ClientEvent[]> {
  const out: ClientEvent[] = [];
  for (const e of events) out.push(await toClientEvent(q, reader, e, opts));
  return out;
}

/** Stripped state (client-server "Stripped state"): what an invitee or knocker may see of a room. */
export function strippedStateEvent(e: LoadedEvent): JsonObject {
  return { content: e.pdu.content, sender: e.pdu.sender, state_key: e.pdu.state_key ?? '', type: e.pdu.type };
}

export const STRIPPED_STATE_TYPES = [
  'm.room.create',
  'm.room.join_rules',
  'm.room.name',
  'm.room.avatar',
  'm.room.canonical_alias',
  'm.room.encryption',
  'm.room.topic',
  'm.room.guest_access',
  'm.room.history_visibility',
];
