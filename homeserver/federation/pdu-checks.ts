// The first three checks on receipt of a PDU (server-server-api.md "Checks performed on receipt of
// a PDU"): 1. a valid event for the room version, 2. valid signatures, 3. a content hash that
// matches (else the event is redacted and processing continues with the redacted copy).
import type { PDU } from '../protocol/types.ts';
import { getRoomVersion, type RoomVersion } from '../protocol/room-versions.ts';
import { computeEventId, verifyContentHash, verifyEventSignature } from '../protocol/event-hashing.ts';
import { redactEvent } from '../protocol/redaction.ts';
import { findPduSizeViolation, isValidEventId, parseUserId } from '../protocol/identifiers.ts';
import type { RemoteKeys } from './remote-keys.ts';
import { findCanonicalJsonViolation, MAX_EVENT_DEPTH } from '../protocol/canonical-json-check.ts';

export interface CheckedPdu {
  eventId: string;
  pdu: PDU;
  /** True when the content hash did not match and `pdu` is the redacted copy. */
  redacted: boolean;
}

export class PduCheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PduCheckError';
  }
}

/** A list of strings, every index counted: `every` skips the holes of a sparse array, which then read as undefined. */
function isStringArray(v: unknown): v is string[] {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'string') return false;
  return true;
}

/** Check 1: the shape every v4+ PDU has (server-server-api "PDUs"; rooms/fragments/v4-event-format). */
export function checkPduFormat(raw: unknown, version: RoomVersion, roomId: string | undefined): PDU {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new PduCheckError('PDU is not an object');
  const p = raw as Record<string, unknown>;
  if (typeof p.type !== 'string') throw new PduCheckError('type must be a string');
  if (typeof p.sender !== 'string' || parseUserId(p.sender) === null) throw new PduCheckError('sender must be a user id');
  if (typeof p.content !== 'object' || p.content === null || Array.isArray(p.content)) throw new PduCheckError('content must be an object');
  if (!Number.isSafeInteger(p.origin_server_ts)) throw new PduCheckError('origin_server_ts must be an integer');
  if (!Number.isSafeInteger(p.depth) || (p.depth as number) < 0) throw new PduCheckError('depth must be a non-negative integer');
  if (!isStringArray(p.prev_events) || !isStringArray(p.auth_events)) throw new PduCheckError('prev_events and auth_events must be lists of event ids');
  if (![...p.prev_events, ...p.auth_events].every(isValidEventId)) throw new PduCheckError('prev_events and auth_events must hold event ids');
  if (typeof p.hashes !== 'object' || p.hashes === null || typeof (p.hashes as Record<string, unknown>).sha256 !== 'string')
    throw new PduCheckError('hashes.sha256 is missing');
  if (typeof p.signatures !== 'object' || p.signatures === null) throw new PduCheckError('signatures are missing');
  if (p.state_key !== undefined && typeof p.state_key !== 'string') throw new PduCheckError('state_key must be a string');
  const isV12Create = p.type === 'm.room.create' && version.roomIdFromCreateEvent;
  if (!isV12Create && typeof p.room_id !== 'string') throw new PduCheckError('room_id is missing');
  if (roomId !== undefined && !isV12Create && p.room_id !== roomId) throw new PduCheckError('the event is for another room');
  const size = findPduSizeViolation(p as PDU);
  if (size) throw new PduCheckError(size);
  // Room versions 6+ (all we support): an event canonical JSON cannot hold is discarded
  // (rooms/fragments/v6-canonical-json.md). `unsigned` is not part of the signed event and is
  // dropped before use, so it is not judged.
  const { unsigned: _, ...signed } = p;
  const violation = findCanonicalJsonViolation(signed, MAX_EVENT_DEPTH, 'event');
  if (violation) throw new PduCheckError(`not canonical JSON: ${violation}`);
  return p as PDU;
}

/** The servers whose signature a PDU needs: the sender's, and a restricted join's authoriser's. */
export function requiredSigners(pdu: PDU, version: RoomVersion): string[] {
  const servers = new Set<string>([parseUserId(pdu.sender)!.serverName]);
  const via = pdu.content.join_authorised_via_users_server;
  if (version.restrictedJoinRule && pdu.type === 'm.room.member' && pdu.content.membership === 'join' && typeof via === 'string') {
    const parsed = parseUserId(via);
    if (parsed) servers.add(parsed.serverName);
  }
  return [...servers];
}

/** Checks 1-3 for one PDU of room version `versionId`; throws PduCheckError when it is to be dropped. */
export async function checkReceivedPdu(raw: unknown, versionId: string, roomId: string | undefined, keys: RemoteKeys): Promise<CheckedPdu> {
  const version = getRoomVersion(versionId);
  if (!version) throw new PduCheckError(`room version ${versionId} is not supported`);
  let pdu = checkPduFormat(raw, version, roomId);
  // `unsigned` is the sender's local business and never trusted (server-server-api "PDUs").
  if (pdu.unsigned !== undefined) {
    const { unsigned: _, ...rest } = pdu;
    pdu = rest as PDU;
  }
  for (const server of requiredSigners(pdu, version)) {
    const sigs = pdu.signatures[server];
    let ok = false;
    for (const keyId of Object.keys(sigs ?? {})) {
      if (!keyId.startsWith('ed25519:')) continue;
      // Keys must have been valid when the event was sent (room versions 5+: valid_until_ts).
      const key = await keys.getKey(server, keyId, pdu.origin_server_ts);
      if (key && verifyEventSignature(pdu, version, server, keyId, key)) {
        ok = true;
        break;
      }
    }
    if (!ok) throw new PduCheckError(`no valid signature from ${server}`);
  }
  const eventId = computeEventId(pdu, version);
  if (verifyContentHash(pdu)) return { eventId, pdu, redacted: false };
  return { eventId, pdu: redactEvent(pdu, version), redacted: true };
}
