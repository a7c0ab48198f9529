// Room versions 6..12 as capability flags, read from content/rooms/v6.md .. v12.md. Code asks
// "does this room have X" instead of comparing version strings, because room versions are opaque
// identifiers with no ordering (content/rooms/_index.md). The auth-rule flags carry the same
// names as AuthRulesVersion (auth-rules-versions.ts), so a RoomVersion can be passed wherever one
// is expected.
//
// Common to all of 6..12, so not flags: event ids are the URL-safe reference hash
// (fragments/v4-event-ids.md); signing key validity is enforced (fragments/v5-signing-requirements.md);
// canonical JSON is enforced strictly, so floats and out-of-range integers are rejected
// (fragments/v6-canonical-json.md); `notifications` in power levels is auth-checked and
// `m.room.aliases` has no special auth rule or redaction (v6.md).

export interface RoomVersion {
  readonly id: string;

  // --- Join rules and membership (authorisation rules) ---
  /** v7+: the `knock` join rule and `knock` membership (auth rules 4.3.4, 4.5.1, 4.7 in v7.md). */
  readonly knockJoinRule: boolean;
  /**
   * v8+: the `restricted` join rule, and a `join_authorised_via_users_server` in a member event's
   * content must be signed by that user's server (fragments/v8-auth-rules.md, rules 4.2, 4.3.5).
   */
  readonly restrictedJoinRule: boolean;
  /** v10+: the `knock_restricted` join rule (v10.md, rules 4.3.5 and 4.7.1). */
  readonly knockRestrictedJoinRule: boolean;

  // --- Power levels ---
  /**
   * v10+: power level values must be JSON integers. Before v10 they may be strings holding an
   * integer (fragments/v1-stringy-power-levels.md); v10.md "Values in m.room.power_levels events
   * must be integers" and auth rules 9.1-9.3.
   */
  readonly integerPowerLevels: boolean;

  // --- m.room.create and creators ---
  /**
   * v11+: the creator is the create event's `sender`; `content.creator` is gone, no longer
   * required by rule 1.4 nor read by rule 4.3.1 (v11.md "Remove the creator property").
   * Before v11 the create content must have `creator`, and the first join is checked against it.
   */
  readonly creatorFromSender: boolean;
  /**
   * v12: the room id is `!` + the create event's reference hash; the create event has no
   * `room_id` (rule 1.2), every other event's `room_id` must name an accepted create event
   * (rule 2), and the create event is never listed in `auth_events` (rule 3.2). Before v12 the
   * room id has a domain that must match the create event's sender's (rule 1.2).
   */
  readonly roomIdFromCreateEvent: boolean;
  /** v12: `additional_creators` in the create event's content are creators too (rule 1.4). */
  readonly additionalCreators: boolean;
  /**
   * v12: creators have infinite power, and may not appear in `m.room.power_levels` `users`
   * (v12.md "room creators", rule 10.4).
   */
  readonly creatorsHaveInfinitePower: boolean;

  // --- Redaction (the algorithm lives in redaction.ts) ---
  /** v8+: `m.room.join_rules` keeps `allow` (v8.md "Redactions"). */
  readonly redactionKeepsJoinRulesAllow: boolean;
  /** v9+: `m.room.member` keeps `join_authorised_via_users_server` (fragments/v9-redactions.md). */
  readonly redactionKeepsJoinAuthorisedVia: boolean;
  /**
   * v11+: the updated redaction rules (fragments/v11-redactions.md): top-level `origin`,
   * `membership` and `prev_state` are no longer kept; `m.room.create` keeps all its content;
   * `m.room.power_levels` keeps `invite`; `m.room.member` keeps `third_party_invite.signed`;
   * `m.room.redaction` keeps `redacts` in content.
   */
  readonly updatedRedactionRules: boolean;
  /**
   * v11+: `m.room.redaction` carries `redacts` in `content`, not at the top level (v11.md
   * "Moving the redacts property").
   */
  readonly redactsInContent: boolean;

  // --- State resolution ---
  /**
   * 'v2' (fragments/v2-state-res.md) for v6..v11; 'v2.1' for v12: iterative auth checks start
   * from an empty state map and the full conflicted set includes the conflicted state subgraph.
   */
  readonly stateResolution: 'v2' | 'v2.1';
}

const V6: RoomVersion = {
  id: '6',
  knockJoinRule: false,
  restrictedJoinRule: false,
  knockRestrictedJoinRule: false,
  integerPowerLevels: false,
  creatorFromSender: false,
  roomIdFromCreateEvent: false,
  additionalCreators: false,
  creatorsHaveInfinitePower: false,
  redactionKeepsJoinRulesAllow: false,
  redactionKeepsJoinAuthorisedVia: false,
  updatedRedactionRules: false,
  redactsInContent: false,
  stateResolution: 'v2',
};
// Each version is its predecessor plus the changes its document lists.
const V7: RoomVersion = { ...V6, id: '7', knockJoinRule: true };
const V8: RoomVersion = { ...V7, id: '8', restrictedJoinRule: true, redactionKeepsJoinRulesAllow: true };
const V9: RoomVersion = { ...V8, id: '9', redactionKeepsJoinAuthorisedVia: true };
const V10: RoomVersion = { ...V9, id: '10', knockRestrictedJoinRule: true, integerPowerLevels: true };
const V11: RoomVersion = {
  ...V10,
  id: '11',
  creatorFromSender: true,
  updatedRedactionRules: true,
  redactsInContent: true,
};
const V12: RoomVersion = {
  ...V11,
  id: '12',
  roomIdFromCreateEvent: true,
  additionalCreators: true,
  creatorsHaveInfinitePower: true,
  stateResolution: 'v2.1',
};

const VERSIONS: ReadonlyMap<string, RoomVersion> = new Map([V6, V7, V8, V9, V10, V11, V12].map((v) => [v.id, Object.freeze(v)]));

export const SUPPORTED_ROOM_VERSIONS: readonly string[] = Object.freeze([...VERSIONS.keys()]);

/**
 * The version of new rooms unless the config's `default_room_version` or createRoom's
 * `room_version` says otherwise. The spec names 12 the default (content/rooms/_index.md), but its
 * v1.16 changelog adds that "servers SHOULD keep using room version 11 for a little while"
 * (MSC4304): clients in wide use (nheko 0.11, matrix-nio) still break on v12's room ids without a
 * server name and create events without `creator`. Synapse too keeps 11 as its default.
 */
export const DEFAULT_ROOM_VERSION = '11';

/** The capabilities of room version `id`, or undefined if Hearth does not support it. */
export function getRoomVersion(id: string): RoomVersion | undefined {
  return VERSIONS.get(id);
}
