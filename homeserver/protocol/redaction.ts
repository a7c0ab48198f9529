// The redaction algorithm: strip an event down to the keys the protocol needs. Used for
// m.room.redaction, and for the reference hash and event signatures, which cover only the
// redacted form (server-server-api.md "Signing Events").
// Rules: rooms/fragments/v6-redactions.md (v6, v7), the v8 list in rooms/v8.md,
// rooms/fragments/v9-redactions.md (v9, v10), rooms/fragments/v11-redactions.md (v11, v12).

import type { RoomVersion } from './room-versions.ts';
import type { JsonObject, JsonValue, PDU } from './types.ts';

// Top-level keys kept by every supported version.
const KEPT_TOP_LEVEL = [
  'event_id',
  'type',
  'room_id',
  'sender',
  'state_key',
  'content',
  'hashes',
  'signatures',
  'depth',
  'prev_events',
  'auth_events',
  'origin_server_ts',
];
// Kept only before v11: v11.md "The top-level origin, membership, and prev_state properties are
// no longer protected from redaction."
const KEPT_TOP_LEVEL_BEFORE_V11 = ['prev_state', 'origin', 'membership'];

type Copy = <T>(value: T) => T;
const share: Copy = (value) => value;

/**
 * Returns the redacted copy of `pdu` under `version`'s rules. `unsigned` is dropped: it is not
 * in the kept list (servers add `redacted_because` to it when serving clients, not here).
 * With `shared`, the kept values are the event's own objects rather than copies: for a redacted
 * form that is only serialised (to sign or hash it) and dropped, never changed or kept.
 */
export function redactEvent(pdu: PDU, version: RoomVersion, shared = false): PDU {
  const copy: Copy = shared ? share : structuredClone;
  const keptKeys = version.updatedRedactionRules ? KEPT_TOP_LEVEL : [...KEPT_TOP_LEVEL, ...KEPT_TOP_LEVEL_BEFORE_V11];
  const redacted: Record<string, unknown> = {};
  for (const key of keptKeys) {
    if (Object.hasOwn(pdu, key) && key !== 'content') redacted[key] = copy(pdu[key]);
  }
  redacted.content = redactContent(pdu.type, isObject(pdu.content) ? pdu.content : {}, version, copy);
  return redacted as unknown as PDU;
}

/** The content keys that survive redaction of an event of `type`, per room version. */
function redactContent(type: string, content: JsonObject, version: RoomVersion, copy: Copy): JsonObject {
  // v11: "m.room.create allows all keys."
  if (type === 'm.room.create' && version.updatedRedactionRules) return copy(content);

  const kept = pick(content, keptContentKeys(type, version), copy);

  // v11: m.room.member "allows the signed key of the third_party_invite key" (and nothing else
  // of third_party_invite).
  if (type === 'm.room.member' && version.updatedRedactionRules) {
    const invite = content.third_party_invite;
    if (isObject(invite) && Object.hasOwn(invite, 'signed')) {
      kept.third_party_invite = { signed: copy(invite.signed) };
    }
  }
  return kept;
}

function keptContentKeys(type: string, version: RoomVersion): string[] {
  const v11 = version.updatedRedactionRules;
  switch (type) {
    case 'm.room.member':
      return version.redactionKeepsJoinAuthorisedVia ? ['membership', 'join_authorised_via_users_server'] : ['membership'];
    case 'm.room.create':
      return ['creator'];
    case 'm.room.join_rules':
      return version.redactionKeepsJoinRulesAllow ? ['join_rule', 'allow'] : ['join_rule'];
    case 'm.room.power_levels': {
      const keys = ['ban', 'events', 'events_default', 'kick', 'redact', 'state_default', 'users', 'users_default'];
      return v11 ? [...keys, 'invite'] : keys;
    }
    case 'm.room.history_visibility':
      return ['history_visibility'];
    case 'm.room.redaction':
      return v11 ? ['redacts'] : [];
    default:
      return [];
  }
}

function pick(content: JsonObject, keys: string[], copy: Copy): JsonObject {
  const out: JsonObject = {};
  for (const key of keys) {
    if (Object.hasOwn(content, key)) out[key] = copy(content[key]);
  }
  return out;
}

function isObject(value: unknown): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
