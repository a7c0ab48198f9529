// A user's profile (profile.yaml): displayname and avatar_url, kept on the account because member
// events are built from them, and the extended fields of v1.16 (`m.tz`, namespaced custom keys)
// in their own table. Both the client API and federation's profile query read it from here.
import { MatrixError } from '../http/matrix-error.ts';
import type { Database } from '../storage/database.ts';
import type { Queryable } from '../storage/sqlite.ts';
import { accountsStore } from '../storage/accounts-store.ts';
import { profileFieldsStore } from '../storage/profile-fields-store.ts';
import { findCanonicalJsonViolation } from '../protocol/canonical-json-check.ts';
import { nullObject } from '../protocol/null-object.ts';

/** profile.yaml, PUT: "the total profile MUST be under 64 KiB" (as JSON). */
export const PROFILE_MAX_BYTES = 64 * 1024;
/** profile.yaml: M_KEY_TOO_LARGE, "the maximum allowed key length of 255 bytes". */
export const PROFILE_KEY_MAX_BYTES = 255;
/**
 * Nesting of a custom field's value. Values go out over federation and into canonical JSON; a
 * profile needs a few levels (an object of lists), and a deep one is only a way to burn stack.
 */
export const PROFILE_VALUE_MAX_DEPTH = 16;

// profile.yaml, keyName: the defined keys or the Common Namespaced Identifier Grammar.
const KEY_NAME = /^(avatar_url|displayname|m\.tz|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+)$/;

export type Profile = Record<string, unknown>;

/** Throws the spec's 400 for a key a profile may not have. */
export function checkProfileKey(key: string): void {
  if (Buffer.byteLength(key) > PROFILE_KEY_MAX_BYTES)
    throw new MatrixError(400, 'M_KEY_TOO_LARGE', `Profile keys are limited to ${PROFILE_KEY_MAX_BYTES} bytes`);
  if (!KEY_NAME.test(key)) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid profile key '${key}'`);
}

/** A local user's whole profile; undefined when there is no such active account. */
export async function loadProfile(q: Queryable, userId: string): Promise<Profile | undefined> {
  const u = await accountsStore.getUser(q, userId);
  if (!u || u.deactivated) return undefined;
  const p: Profile = nullObject();
  if (u.displayname) p.displayname = u.displayname;
  if (u.avatar_url) p.avatar_url = u.avatar_url;
  for (const row of await profileFieldsStore.list(q, userId)) p[row.key_name] = JSON.parse(row.value_json) as unknown;
  return p;
}

/** Throws 400 for a value the key may not hold. */
export function checkProfileValue(key: string, value: unknown): void {
  if ((key === 'displayname' || key === 'avatar_url') && value !== null && typeof value !== 'string') {
    throw new MatrixError(400, 'M_BAD_JSON', `'${key}' must be a string`);
  }
  if (key === 'displayname' && typeof value === 'string' && Buffer.byteLength(value) > 256)
    throw new MatrixError(400, 'M_INVALID_PARAM', 'Display name is too long');
  // profile.yaml: m.tz "MUST be a valid identifier from the IANA Time Zone Database"; servers
  // MAY validate. A string is asked for; which zones exist is left to clients, which must cope.
  if (key === 'm.tz' && typeof value !== 'string') throw new MatrixError(400, 'M_BAD_JSON', "'m.tz' must be a string");
  // Profiles go to other servers and displayname and avatar_url into member events: canonical
  // JSON only, refused here rather than saved and then left out.
  const violation = findCanonicalJsonViolation(value, PROFILE_VALUE_MAX_DEPTH, key);
  if (violation) throw new MatrixError(400, 'M_BAD_JSON', violation);
}

/**
 * Sets (value) or deletes (undefined) one field, refusing with M_PROFILE_TOO_LARGE a change that
 * would take the profile to 64 KiB or more. The size is checked in the writing transaction, so
 * two changes at once cannot pass it together.
 */
export async function changeProfileField(db: Database, userId: string, key: string, value: unknown): Promise<void> {
  await db.write(async (tx) => {
    const profile: Profile = (await loadProfile(tx, userId)) ?? nullObject();
    if (value === undefined) delete profile[key];
    else profile[key] = value;
    if (value !== undefined && Buffer.byteLength(JSON.stringify(profile)) >= PROFILE_MAX_BYTES) {
      throw new MatrixError(400, 'M_PROFILE_TOO_LARGE', `A profile must stay under ${PROFILE_MAX_BYTES} bytes`);
    }
    if (key === 'displayname' || key === 'avatar_url') {
      await accountsStore.setProfileField(tx, userId, key, (value as string | null | undefined) ?? null);
    } else if (value === undefined) {
      await profileFieldsStore.delete(tx, userId, key);
    } else {
      await profileFieldsStore.put(tx, userId, key, JSON.stringify(value));
    }
  });
}
