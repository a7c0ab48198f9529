// Builds a local event into a full PDU, authorises it against the room state, and persists it:
// build -> auth -> persist. Runs inside a write job; the caller publishes the new head afterwards.
import type { JsonObject, PDU, StateMap } from '../protocol/types.ts';
import { stateKey } from '../protocol/types.ts';
import { getRoomVersion } from '../protocol/room-versions.ts';
import { hashSignAndIdentify, computeRoomIdFromCreateEvent } from '../protocol/event-hashing.ts';
import { checkEventAuth, AuthError } from '../protocol/auth-rules.ts';
import { authRulesVersion } from '../protocol/auth-rules-versions.ts';
import { authEventKeysFor } from '../protocol/auth-events-selection.ts';
import { MAX_PDU_BYTES } from '../protocol/identifiers.ts';
import { findCanonicalJsonViolation, MAX_EVENT_DEPTH } from '../protocol/canonical-json-check.ts';
import type { SigningKey } from '../protocol/signing-key.ts';
import { eventsStore, stateGroupsStore, relationOf, type ClientTxn } from '../storage/events-store.ts';
import type { Queryable } from '../storage/sqlite.ts';
import { MatrixError } from '../http/matrix-error.ts';
import type { EventReader, LoadedEvent } from './event-reader.ts';
import type { RoomHead } from './room-heads.ts';

/** After this many deltas a state group is written as a full snapshot, bounding read cost. */
const MAX_STATE_CHAIN = 50;

export interface NewLocalEvent {
  type: string;
  sender: string;
  content: JsonObject;
  stateKey?: string;
  redacts?: string;
  txn?: ClientTxn;
  /** A check run inside the write transaction before the event is built (e.g. duplicate annotations). */
  precheck?: (tx: Queryable) => Promise<void>;
  /**
   * Run once the event is built and authorised, just before anything is stored: a throw leaves
   * no trace. (RoomWriter.append marks the room touched here, so that a refused event leaves the
   * cached head as it was.)
   */
  beforeStore?: () => Promise<void>;
}

export interface AppendContext {
  serverName: string;
  signingKey: SigningKey;
  reader: EventReader;
  now: () => number;
}

/** Builds, signs and authorises an event on top of `head`, persists it, and advances `head` in place. */
export async function appendLocalEvent(tx: Queryable, ctx: AppendContext, head: RoomHead, input: NewLocalEvent): Promise<LoadedEvent> {
  if (input.precheck) await input.precheck(tx);
  const version = getRoomVersion(head.version);
  const authVersion = authRulesVersion(head.version);
  if (!version || !authVersion) throw new MatrixError(400, 'M_UNSUPPORTED_ROOM_VERSION', `Room version ${head.version} is not supported`);

  const { draft: unsignedPdu, authState, createId } = await draftEvent(tx, ctx.reader, head, input, ctx.now());
  // Every local event passes here (send, state, redact, createRoom's initial state, profile
  // changes copied into member events): what canonical JSON cannot hold is the client's error,
  // 400 M_BAD_JSON (rooms/fragments/v6-canonical-json.md), and too deep an event is refused
  // before it is stored, where it would break every later answer that carries it.
  const violation = findCanonicalJsonViolation(unsignedPdu, MAX_EVENT_DEPTH, 'event');
  if (violation) throw new MatrixError(400, 'M_BAD_JSON', `Event cannot be represented in canonical JSON: ${violation}`);
  const isV12Create = input.type === 'm.room.create' && version.roomIdFromCreateEvent;

  const { pdu, eventId } = hashSignAndIdentify(unsignedPdu as PDU, version, ctx.serverName, ctx.signingKey);
  // The size of its canonical JSON: hashing it above proved it has one (integers, no lone
  // surrogates), and then JSON.stringify writes the same characters, only in another key order.
  const json = JSON.stringify(pdu);
  if (Buffer.byteLength(json, 'utf8') > MAX_PDU_BYTES) {
    throw new MatrixError(413, 'M_TOO_LARGE', `Event is larger than ${MAX_PDU_BYTES} bytes`);
  }
  try {
    checkEventAuth(pdu, authState, authVersion, { createEventId: createId ?? (isV12Create ? eventId : undefined) });
  } catch (err) {
    if (err instanceof AuthError) throw new MatrixError(403, 'M_FORBIDDEN', `Not allowed: ${err.message}`);
    throw err;
  }

  // Nothing above changed the head: an event refused so far leaves it as it was.
  if (input.beforeStore) await input.beforeStore();
  if (isV12Create) head.roomId = computeRoomIdFromCreateEvent(pdu, version);
  // A head whose state no stored group holds (rooms/room-heads.ts): the event is given one to
  // point at. (Only now: a refused event leaves the head as it was.)
  if (head.stateGroup === null && head.state.size > 0) {
    head.stateGroup = await stateGroupsStore.insertGroup(
      tx,
      head.roomId,
      null,
      0,
      [...head.state].map(([k, id]) => [...splitKey(k), id] as [string, string, string]),
    );
    head.chainLength = 0;
    ctx.reader.rememberGroup(head.stateGroup, new Map(head.state));
  }
  const stateGroupBefore = head.stateGroup;
  const streamOrdering = await eventsStore.insertEvent(tx, { eventId, roomId: head.roomId, pdu, stateGroup: stateGroupBefore, txn: input.txn, json });

  if (input.stateKey !== undefined) {
    const key = stateKey(input.type, input.stateKey);
    head.state.set(key, eventId);
    const snapshot = head.chainLength >= MAX_STATE_CHAIN || head.stateGroup === null;
    const entries: Array<[string, string, string]> = snapshot
      ? [...head.state].map(([k, id]) => [...splitKey(k), id] as [string, string, string])
      : [[input.type, input.stateKey, eventId]];
    head.chainLength = snapshot ? 0 : head.chainLength + 1;
    head.stateGroup = await stateGroupsStore.insertGroup(tx, head.roomId, snapshot ? null : head.stateGroup, head.chainLength, entries);
    ctx.reader.rememberGroup(head.stateGroup, new Map(head.state));
    await eventsStore.setCurrentState(tx, head.roomId, input.type, input.stateKey, eventId);
    if (input.type === 'm.room.member') {
      await eventsStore.setMembership(tx, head.roomId, input.stateKey, String(input.content.membership), eventId, streamOrdering);
    }
  }
  head.extremities = [eventId];
  head.maxDepth = pdu.depth;
  await eventsStore.setForwardExtremities(tx, head.roomId, head.extremities);

  const loaded: LoadedEvent = { eventId, roomId: head.roomId, streamOrdering, stateGroup: stateGroupBefore, redactedBy: null, pdu };
  ctx.reader.remember(loaded);
  const rel = relationOf(pdu);
  if (rel) ctx.reader.noteParent(rel.eventId);
  return loaded;
}

/**
 * The unsigned PDU for `input` on top of `head` (auth_events chosen from the current state,
 * prev_events = the forward extremities), with the auth state the rules will read. Also used for
 * make_join/make_leave templates, which another server completes and signs.
 */
export async function draftEvent(
  tx: Queryable,
  reader: EventReader,
  head: RoomHead,
  input: Pick<NewLocalEvent, 'type' | 'sender' | 'content' | 'stateKey' | 'redacts'>,
  now: number,
): Promise<{ draft: Omit<PDU, 'hashes' | 'signatures'> & Record<string, unknown>; authState: StateMap; createId: string | undefined }> {
  const partial = { type: input.type, sender: input.sender, state_key: input.stateKey, content: input.content };
  const authState: StateMap = new Map();
  const authEventIds: string[] = [];
  for (const [type, key] of authEventKeysFor(partial, authRulesVersion(head.version)!)) {
    const id = head.state.get(stateKey(type, key));
    if (!id) continue;
    const ev = await reader.getEvent(tx, id);
    if (!ev) throw new Error(`auth event ${id} missing from storage`);
    authState.set(stateKey(type, key), ev.pdu);
    authEventIds.push(id);
  }
  // Rooms v12 (rooms/v12.md): the create event is not listed in auth_events, but the rules still read it.
  const createId = head.state.get(stateKey('m.room.create', ''));
  if (createId && !authState.has(stateKey('m.room.create', ''))) {
    const create = await reader.getEvent(tx, createId);
    if (create) authState.set(stateKey('m.room.create', ''), create.pdu);
  }

  const unsignedPdu: Omit<PDU, 'hashes' | 'signatures'> & Record<string, unknown> = {
    auth_events: authEventIds,
    content: input.content,
    depth: Math.min(head.maxDepth + 1, Number.MAX_SAFE_INTEGER),
    origin_server_ts: now,
    prev_events: [...head.extremities].slice(0, 20),
    sender: input.sender,
    type: input.type,
  };
  const isV12Create = input.type === 'm.room.create' && getRoomVersion(head.version)?.roomIdFromCreateEvent;
  if (!isV12Create) unsignedPdu.room_id = head.roomId;
  if (input.stateKey !== undefined) unsignedPdu.state_key = input.stateKey;
  if (input.redacts !== undefined) unsignedPdu.redacts = input.redacts;

  return { draft: unsignedPdu, authState, createId };
}

export function splitKey(key: string): [string, string] {
  const i = key.indexOf('\u0000');
  return [key.slice(0, i), key.slice(i + 1)];
}
