// Identifier grammar (appendices.md "Identifier Grammar") and event size limits
// (client-server-api/_index.md "Size limits", which server-server-api.md applies to PDUs).

import { isIPv6 } from 'node:net';
import { canonicalJson } from './canonical-json.ts';
import type { RoomVersion } from './room-versions.ts';
import type { PDU } from './types.ts';

/** The whole event as canonical JSON, signatures included, must not exceed this many bytes. */
export const MAX_PDU_BYTES = 65536;
/** `sender`: the user id limit. */
export const MAX_USER_ID_BYTES = 255;
/** `room_id`: the room id limit. */
export const MAX_ROOM_ID_BYTES = 255;
/** `event_id`: the event id limit. */
export const MAX_EVENT_ID_BYTES = 255;
/** `state_key` MUST NOT exceed 255 bytes. */
export const MAX_STATE_KEY_BYTES = 255;
/** `type` MUST NOT exceed 255 bytes. */
export const MAX_TYPE_BYTES = 255;
/** Room aliases, sigil and domain included. */
export const MAX_ROOM_ALIAS_BYTES = 255;

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

// Historical localparts (user ids, domain-form room ids, aliases) may hold "any legal
// non-surrogate Unicode code points except for `:` and NUL". A JS string can hold a lone
// surrogate; a well-formed pair is a legal astral code point.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
function isHistoricalLocalpart(s: string): boolean {
  return !s.includes(':') && !s.includes('\u0000') && !LONE_SURROGATE.test(s);
}

// --- Server names ---

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const IPV6_CHARS = /^[0-9A-Fa-f:.]{2,45}$/;
const DNS_NAME = /^[0-9A-Za-z.-]{1,255}$/;
const PORT = /^\d{1,5}$/;

/**
 * `server_name = hostname [ ":" port ]` where hostname is a dotted-quad IPv4 literal, a bracketed
 * IPv6 literal (RFC 3513 2.2) or a DNS name of [0-9A-Za-z.-]. A name shaped like a dotted quad
 * is taken as IPv4 and must have parts 0..255 ("IPv4 literals must be a sequence of four
 * decimal numbers in the range 0 to 255").
 */
export function isValidServerName(s: string): boolean {
  let rest: string;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) return false;
    const ipv6 = s.slice(1, close);
    if (!IPV6_CHARS.test(ipv6) || !isIPv6(ipv6)) return false;
    rest = s.slice(close + 1);
  } else {
    const colon = s.indexOf(':');
    const host = colon < 0 ? s : s.slice(0, colon);
    rest = colon < 0 ? '' : s.slice(colon);
    const quad = IPV4.exec(host);
    if (quad) {
      if (quad.slice(1).some((part) => Number(part) > 255)) return false;
    } else if (!DNS_NAME.test(host)) {
      return false;
    }
  }
  return rest === '' || (rest.startsWith(':') && PORT.test(rest.slice(1)));
}

// --- User ids ---

// The user id localpart grammar for ids we create: a-z 0-9 . _ = - / + (appendices.md "User
// Identifiers", changed in v1.8 to add `+`).
const LOCALPART = /^[a-z0-9._=\-/+]+$/;

/** True if `s` is a localpart we may give a new user (the strict current grammar). */
export function isValidLocalpart(s: string): boolean {
  return LOCALPART.test(s);
}

/**
 * Splits `@localpart:server_name`, accepting historical localparts ("Historical User IDs":
 * anything but `:` and NUL, even empty) since events from such users must still be accepted.
 * Null if the id is malformed or longer than 255 bytes.
 */
export function parseUserId(s: string): { localpart: string; serverName: string } | null {
  if (!s.startsWith('@') || byteLength(s) > MAX_USER_ID_BYTES) return null;
  const colon = s.indexOf(':');
  if (colon < 0) return null;
  const localpart = s.slice(1, colon);
  const serverName = s.slice(colon + 1);
  if (!isHistoricalLocalpart(localpart) || !isValidServerName(serverName)) return null;
  return { localpart, serverName };
}

/** A user id as accepted from anywhere (historical localparts allowed, <= 255 bytes). */
export function isValidUserId(s: string): boolean {
  return parseUserId(s) !== null;
}

/** A user id whose localpart follows the current strict grammar. */
export function isCompliantUserId(s: string): boolean {
  const parsed = parseUserId(s);
  return parsed !== null && isValidLocalpart(parsed.localpart);
}

// --- Room aliases, room ids, event ids ---

/** `#localpart:domain`, localpart anything but `:` and NUL, <= 255 bytes ("Room Aliases"). */
export function isValidRoomAlias(s: string): boolean {
  return isSigilLocalpartDomain(s, '#', MAX_ROOM_ALIAS_BYTES);
}

// A sha256 reference hash in URL-safe unpadded base64 is 43 characters (v4-event-ids.md).
const REFERENCE_HASH = /^[A-Za-z0-9_-]{43}$/;

/**
 * A room id. Before v12: `!localpart:domain` (<= 255 bytes); v12: `!` + the create event's
 * reference hash, no domain ("Room IDs"). Without `version`, either form is accepted.
 */
export function isValidRoomId(s: string, version?: RoomVersion): boolean {
  const hashForm = s.startsWith('!') && REFERENCE_HASH.test(s.slice(1));
  const domainForm = isSigilLocalpartDomain(s, '!', MAX_ROOM_ID_BYTES);
  if (version === undefined) return hashForm || domainForm;
  return version.roomIdFromCreateEvent ? hashForm : domainForm;
}

/**
 * An event id in the format of every supported room version (6..12): `$` + the URL-safe
 * unpadded base64 reference hash (rooms/fragments/v4-event-ids.md).
 */
export function isValidEventId(s: string): boolean {
  return s.startsWith('$') && REFERENCE_HASH.test(s.slice(1));
}

function isSigilLocalpartDomain(s: string, sigil: string, maxBytes: number): boolean {
  if (!s.startsWith(sigil) || byteLength(s) > maxBytes) return false;
  const colon = s.indexOf(':');
  if (colon < 0) return false;
  return isHistoricalLocalpart(s.slice(1, colon)) && isValidServerName(s.slice(colon + 1));
}

// --- Size limits ---

/**
 * The first size limit `pdu` breaks, as a message for an error response, or null if it fits.
 * The event is measured as canonical JSON with its signatures, as sent over federation.
 */
export function findPduSizeViolation(pdu: PDU): string | null {
  const fields: [string, unknown, number][] = [
    ['sender', pdu.sender, MAX_USER_ID_BYTES],
    ['room_id', pdu.room_id, MAX_ROOM_ID_BYTES],
    ['state_key', pdu.state_key, MAX_STATE_KEY_BYTES],
    ['type', pdu.type, MAX_TYPE_BYTES],
    ['event_id', pdu.event_id, MAX_EVENT_ID_BYTES],
  ];
  for (const [name, value, max] of fields) {
    if (typeof value === 'string' && byteLength(value) > max) return `${name} exceeds ${max} bytes`;
  }
  let size: number;
  try {
    size = byteLength(canonicalJson(pdu));
  } catch (err) {
    if (err instanceof TypeError) return 'event is not canonical JSON';
    throw err;
  }
  return size > MAX_PDU_BYTES ? `event exceeds ${MAX_PDU_BYTES} bytes` : null;
}
