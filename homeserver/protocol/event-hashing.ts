// Content hashes, reference hashes, event ids and event signatures
// (server-server-api.md "Signing Events", "Calculating the reference hash for an event",
// "Calculating the content hash for an event"; rooms/fragments/v4-event-ids.md).

import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.ts';
import { decodeBase64, encodeUnpaddedBase64, encodeUnpaddedBase64Url } from './base64.ts';
import { redactEvent } from './redaction.ts';
import { signedBytes, verifyJsonSignature } from './signing.ts';
import { sign } from './signing-key.ts';
import type { RoomVersion } from './room-versions.ts';
import type { SigningKey } from './signing-key.ts';
import type { PDU } from './types.ts';

/** A PDU before `hashAndSignEvent` fills in `hashes` and `signatures`. */
// (Not `Omit<PDU, ...>`: PDU's index signature would make Omit drop every named field.)
export type DraftPDU = { [K in keyof PDU as K extends 'hashes' | 'signatures' ? never : K]: PDU[K] } & {
  hashes?: PDU['hashes'];
  signatures?: PDU['signatures'];
};

function sha256(text: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(text, 'utf8').digest());
}

function contentHashBytes(pdu: object): Uint8Array {
  // "any existing unsigned, signatures, and hashes properties are removed": the hash covers the
  // full, unredacted event, and must not depend on itself or on what signers add later.
  const { unsigned: _u, signatures: _s, hashes: _h, ...rest } = pdu as Record<string, unknown>;
  return sha256(canonicalJson(rest));
}

/** The content hash (`hashes.sha256`), unpadded base64. */
export function computeContentHash(pdu: object): string {
  return encodeUnpaddedBase64(contentHashBytes(pdu));
}

/**
 * The reference hash: sha256 of the canonical JSON of the *redacted* event without `signatures`
 * and `unsigned`. It covers `hashes`, so the full content is bound in indirectly.
 */
export function computeReferenceHash(pdu: PDU, version: RoomVersion): Uint8Array {
  const { signatures: _s, unsigned: _u, ...rest } = redactEvent(pdu, version, true);
  return sha256(canonicalJson(rest));
}

/** The event id: `$` + URL-safe unpadded base64 of the reference hash (v4-event-ids.md). */
export function computeEventId(pdu: PDU, version: RoomVersion): string {
  return `$${encodeUnpaddedBase64Url(computeReferenceHash(pdu, version))}`;
}

/**
 * The v12 room id: the create event's event id with `!` for `$` (v12.md rule 1.2 note;
 * appendices.md "Room IDs"). Throws if the version does not derive room ids this way or the
 * event is not a create event.
 */
export function computeRoomIdFromCreateEvent(createPdu: PDU, version: RoomVersion): string {
  if (!version.roomIdFromCreateEvent) {
    throw new Error(`room version ${version.id} does not derive the room id from the create event`);
  }
  if (createPdu.type !== 'm.room.create' || createPdu.state_key !== '') {
    throw new Error('the room id is derived from the m.room.create event only');
  }
  return `!${encodeUnpaddedBase64Url(computeReferenceHash(createPdu, version))}`;
}

/**
 * Adds `hashes.sha256`, then signs the redacted event and copies the signature onto the full
 * event ("Adding hashes and signatures to outgoing events"). Signing the redacted form lets the
 * signature be checked even after the event is redacted. Signatures already present are kept.
 * Returns a new object.
 */
export function hashAndSignEvent(pdu: DraftPDU, version: RoomVersion, serverName: string, key: SigningKey): PDU {
  return hashSignAndIdentify(pdu, version, serverName, key).pdu;
}

/**
 * hashAndSignEvent and computeEventId at once, for events this server creates. The bytes signed
 * (canonical JSON of the redacted event without signatures and unsigned) are exactly the ones the
 * reference hash covers, since signatures do not change the rest: the event id is their sha256,
 * with no second redaction and encoding.
 */
export function hashSignAndIdentify(pdu: DraftPDU, version: RoomVersion, serverName: string, key: SigningKey): { pdu: PDU; eventId: string } {
  const hashed = { ...pdu, hashes: { sha256: computeContentHash(pdu) }, signatures: pdu.signatures ?? {} } as PDU;
  const bytes = signedBytes(redactEvent(hashed, version, true));
  const signatures: PDU['signatures'] = {};
  for (const [server, keys] of Object.entries(hashed.signatures)) signatures[server] = { ...keys };
  signatures[serverName] = { ...signatures[serverName], [key.keyId]: encodeUnpaddedBase64(sign(key.seed, bytes)) };
  const referenceHash = new Uint8Array(createHash('sha256').update(bytes).digest());
  return { pdu: { ...hashed, signatures }, eventId: `$${encodeUnpaddedBase64Url(referenceHash)}` };
}

/** True if `hashes.sha256` matches the event's content. False means we may hold a redacted copy. */
export function verifyContentHash(pdu: PDU): boolean {
  const claimed = pdu.hashes?.sha256;
  if (typeof claimed !== 'string') return false;
  let expected: Uint8Array;
  let actual: Uint8Array;
  try {
    actual = decodeBase64(claimed);
    expected = contentHashBytes(pdu);
  } catch (err) {
    if (err instanceof TypeError) return false;
    throw err;
  }
  return Buffer.compare(actual, expected) === 0;
}

/**
 * True if `serverName` signed the redacted form of `pdu` with `keyId` ("Validating hashes and
 * signatures on received events"). Holds for the full event and for a redacted copy alike.
 */
export function verifyEventSignature(pdu: PDU, version: RoomVersion, serverName: string, keyId: string, publicKey: Uint8Array): boolean {
  let redacted: PDU;
  try {
    redacted = redactEvent(pdu, version, true);
  } catch {
    return false;
  }
  return verifyJsonSignature(redacted, serverName, keyId, publicKey);
}
