// The iterative auth checks (rooms/fragments/v2-state-res.md "Iterative auth checks", Algorithm
// steps 2 and 4; "Rejected events").

import { authEventKeysFor } from '../auth-events-selection.ts';
import type { AuthRulesVersion } from '../auth-rules-versions.ts';
import { AuthError, checkEventAuth } from '../auth-rules.ts';
import type { CheckEventAuthOptions } from '../auth-rules.ts';
import { decodeBase64 } from '../base64.ts';
import { verifyJsonSignature } from '../signing.ts';
import { stateKey } from '../types.ts';
import type { JsonObject, PDU, StateKey, StateMap } from '../types.ts';
import { createEventIdFromRoomId, isStateEvent, keyOf } from './events.ts';
import type { EventCache, StateResEvent } from './events.ts';

/** The parts of the auth rules' options a caller may set for state resolution. */
export type StateResAuthOptions = Pick<CheckEventAuthOptions, 'isSignedBy' | 'verifyThirdPartyInvite' | 'isRecognisedRoomVersion'>;

const CREATE_KEY = stateKey('m.room.create', '');

/**
 * Auth rule 4.x.1.7's check done here, so that an accepted third-party invite stays accepted when
 * replayed: does any signature in `signed` verify with any of the invitation's public keys?
 */
export function verifyThirdPartyInviteSignature(signed: JsonObject, publicKeys: string[]): boolean {
  const signatures = signed.signatures;
  if (typeof signatures !== 'object' || signatures === null || Array.isArray(signatures)) return false;
  for (const [server, byKey] of Object.entries(signatures)) {
    if (typeof byKey !== 'object' || byKey === null || Array.isArray(byKey)) continue;
    for (const keyId of Object.keys(byKey)) {
      for (const publicKey of publicKeys) {
        let key: Uint8Array;
        try {
          key = decodeBase64(publicKey);
        } catch {
          continue;
        }
        if (verifyJsonSignature(signed, server, keyId, key)) return true;
      }
    }
  }
  return false;
}

export interface IterativeAuthContext {
  events: EventCache;
  rules: AuthRulesVersion;
  authOptions?: StateResAuthOptions;
}

/**
 * The state the auth rules see for `event`: the events of the partially resolved `state` for the keys
 * the rules need, and for any key missing there, "the appropriate state event from the event's
 * `auth_events` ... if the auth event is not rejected". Rejected events are never used, from either
 * source. In v12 the create event comes from the room id. Returns the state and the create event's id.
 */
async function authStateFor(
  event: PDU,
  state: ReadonlyMap<StateKey, string>,
  ctx: IterativeAuthContext,
): Promise<{ authState: StateMap; createEventId: string | undefined }> {
  const chosen = new Map<StateKey, StateResEvent>();
  for (const id of event.auth_events) {
    const auth = await ctx.events.get(id);
    if (auth && !auth.rejected && isStateEvent(auth.pdu)) chosen.set(keyOf(auth.pdu), auth);
  }
  const needed = authEventKeysFor(event, ctx.rules).map(([type, key]) => stateKey(type, key));
  needed.push(CREATE_KEY);
  for (const key of needed) {
    const id = state.get(key);
    if (id === undefined) continue;
    const current = await ctx.events.get(id);
    if (current && !current.rejected) chosen.set(key, current);
  }
  if (ctx.rules.roomIdFromCreateEvent && typeof event.room_id === 'string') {
    const create = await ctx.events.get(createEventIdFromRoomId(event.room_id));
    if (create && !create.rejected && create.pdu.type === 'm.room.create') chosen.set(CREATE_KEY, create);
    else chosen.delete(CREATE_KEY);
  }
  const authState: StateMap = new Map();
  for (const [key, auth] of chosen) authState.set(key, auth.pdu);
  return { authState, createEventId: chosen.get(CREATE_KEY)?.eventId };
}

/**
 * Applies the state events `ordered` to a copy of `initial`, each only if the authorisation rules
 * allow it against the state built so far; a disallowed event is ignored. An event itself marked
 * rejected (it failed against its own auth events) is ignored too: the spec says such events never
 * reach the algorithm, and admitting one would undo that rejection.
 */
export async function iterativeAuthChecks(
  initial: ReadonlyMap<StateKey, string>,
  ordered: readonly string[],
  ctx: IterativeAuthContext,
): Promise<Map<StateKey, string>> {
  const state = new Map(initial);
  for (const id of ordered) {
    const event = await ctx.events.require(id);
    if (event.rejected || !isStateEvent(event.pdu)) continue;
    const { authState, createEventId } = await authStateFor(event.pdu, state, ctx);
    try {
      checkEventAuth(event.pdu, authState, ctx.rules, {
        verifyThirdPartyInvite: verifyThirdPartyInviteSignature,
        ...ctx.authOptions,
        createEventId,
      });
    } catch (error) {
      if (error instanceof AuthError) continue;
      throw error;
    }
    state.set(keyOf(event.pdu), id);
  }
  return state;
}
