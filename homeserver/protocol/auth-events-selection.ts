// server-server-api.md "Auth events selection": which (type, state_key) pairs of the room state
// an event's `auth_events` are drawn from. Auth rule 2.2 (v12: 3.2) rejects any other entry.

import type { AuthRulesVersion } from './auth-rules-versions.ts';
import type { JsonObject } from './types.ts';

export interface AuthEventsSelectionInput {
  type: string;
  sender: string;
  state_key?: string;
  content: JsonObject;
}

/**
 * The state keys to select for `auth_events`, without duplicates, in the spec's order.
 * The m.room.create event has no auth events; v12 never selects m.room.create (the room id implies it).
 */
export function authEventKeysFor(event: AuthEventsSelectionInput, version: AuthRulesVersion): Array<[type: string, stateKey: string]> {
  if (event.type === 'm.room.create') return [];
  const keys: Array<[string, string]> = [];
  const add = (type: string, key: string): void => {
    if (!keys.some(([t, k]) => t === type && k === key)) keys.push([type, key]);
  };
  if (!version.roomIdFromCreateEvent) add('m.room.create', '');
  add('m.room.power_levels', '');
  add('m.room.member', event.sender);
  if (event.type === 'm.room.member' && typeof event.state_key === 'string') {
    add('m.room.member', event.state_key);
    const membership = event.content.membership;
    if (membership === 'join' || membership === 'invite' || membership === 'knock') add('m.room.join_rules', '');
    const invite = event.content.third_party_invite;
    if (membership === 'invite' && invite !== undefined) {
      const signed = typeof invite === 'object' && invite !== null && !Array.isArray(invite) ? invite.signed : undefined;
      const token = typeof signed === 'object' && signed !== null && !Array.isArray(signed) ? signed.token : undefined;
      if (typeof token === 'string') add('m.room.third_party_invite', token);
    }
    const via = event.content.join_authorised_via_users_server;
    if (membership === 'join' && version.restrictedJoinRule && typeof via === 'string') add('m.room.member', via);
  }
  return keys;
}
