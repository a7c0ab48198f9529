// The differences between room versions 6..12 that the authorisation rules care about.
// Kept apart from room-versions.ts so the auth rules do not depend on the full room version table;
// each flag names the spec text that introduced it (content/rooms/vN.md).

export interface AuthRulesVersion {
  /** The room version id, e.g. '10'. */
  readonly id: string;
  /** v7+: `membership: knock` and the `knock` join rule exist (rooms/v7.md, rules 4.2.4, 4.4.1, 4.6). */
  readonly knockJoinRule: boolean;
  /** v8+: the `restricted` join rule and `join_authorised_via_users_server` (rooms/v8.md, rules 4.2, 4.3.5). */
  readonly restrictedJoinRule: boolean;
  /** v10+: the `knock_restricted` join rule (rooms/v10.md, rules 4.3.5, 4.7.1). */
  readonly knockRestrictedJoinRule: boolean;
  /** v10+: power level values must be JSON integers, not strings (rooms/v10.md, rules 9.1-9.3). */
  readonly integerPowerLevels: boolean;
  /** v11+: the creator is the `sender` of m.room.create; `content.creator` is neither required nor read (rooms/v11.md, rules 1, 4.3.1). */
  readonly creatorFromSender: boolean;
  /**
   * v12: m.room.create has no `room_id`; the room id is the create event's id with sigil `!`;
   * the create event is never selected for `auth_events` (rooms/v12.md, rules 1.2, 2, 3.2).
   */
  readonly roomIdFromCreateEvent: boolean;
  /**
   * v12: the room creators (create `sender` plus `content.additional_creators`) have infinite power
   * and may not appear in `users` of m.room.power_levels (rooms/v12.md, rules 1.4, 10.4).
   */
  readonly creatorsHaveInfinitePower: boolean;
}

/** Every room version id this server recognises (rule 1.3: `content.room_version` must be one of them). */
export const KNOWN_ROOM_VERSIONS: readonly string[] = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'];

const VERSIONS: ReadonlyMap<string, AuthRulesVersion> = new Map(
  ['6', '7', '8', '9', '10', '11', '12'].map((id): [string, AuthRulesVersion] => {
    const n = Number(id);
    return [
      id,
      Object.freeze({
        id,
        knockJoinRule: n >= 7,
        restrictedJoinRule: n >= 8,
        knockRestrictedJoinRule: n >= 10,
        integerPowerLevels: n >= 10,
        creatorFromSender: n >= 11,
        roomIdFromCreateEvent: n >= 12,
        creatorsHaveInfinitePower: n >= 12,
      }),
    ];
  }),
);

/** The auth-rule flags of room versions '6'..'12'; undefined for any other id. */
export function authRulesVersion(id: string): AuthRulesVersion | undefined {
  return VERSIONS.get(id);
}
