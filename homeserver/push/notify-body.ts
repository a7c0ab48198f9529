// The body of POST /_matrix/push/v1/notify for one event and one user's pushers of one gateway
// URL (push_gateway.yaml; push-gateway-api.md "Homeserver behaviour"). With `format:
// event_id_only` only the event id, room id, counts and devices are sent, so that an event's
// content does not pass through the gateway and its push provider.
import type { JsonObject, PDU } from '../protocol/types.ts';

export interface PushDevice {
  app_id: string;
  pushkey: string;
  /** When the pushkey was last set, in seconds. */
  pushkey_ts: number;
  /** The pusher's data minus `url` (pusher.yaml: servers MUST forward the rest, custom keys too). */
  data: JsonObject;
}

export interface NotifyInput {
  eventId: string;
  roomId: string;
  pdu: PDU;
  /** The recipient's actions for the event (push.md "Actions"). */
  actions: unknown[];
  recipient: string;
  eventIdOnly: boolean;
  /** Unread notifications across all the recipient's rooms. */
  unread: number;
  senderDisplayName?: string;
  roomName?: string;
  roomAlias?: string;
}

/** `set_tweak` actions as the tweaks object a device entry carries; `highlight` without a value is true. */
export function tweaksOf(actions: unknown[]): JsonObject {
  const tweaks: JsonObject = {};
  for (const a of actions) {
    if (typeof a !== 'object' || a === null || Array.isArray(a)) continue;
    const t = (a as JsonObject).set_tweak;
    if (typeof t !== 'string' || t === '__proto__') continue;
    const v = (a as JsonObject).value;
    if (v !== undefined) tweaks[t] = v;
    else if (t === 'highlight') tweaks[t] = true;
  }
  return tweaks;
}

export function notifyBody(n: NotifyInput, devices: PushDevice[]): JsonObject {
  const tweaks = tweaksOf(n.actions);
  const notification: JsonObject = {
    event_id: n.eventId,
    room_id: n.roomId,
    // push_gateway.yaml: counts of zero should be omitted.
    counts: n.unread > 0 ? { unread: n.unread } : {},
    devices: devices.map((d) => ({ ...d, tweaks }) as unknown as JsonObject),
  };
  // "prio": low lets a gateway save the phone's battery. What makes a sound or highlights is
  // high, and so is an encrypted event, whose content the server cannot judge (as Synapse does).
  const high = n.pdu.type === 'm.room.encrypted' || (tweaks.sound !== undefined && tweaks.sound !== null) || tweaks.highlight === true;
  notification.prio = high ? 'high' : 'low';
  if (n.eventIdOnly) return { notification };
  notification.type = n.pdu.type;
  notification.sender = n.pdu.sender;
  if (n.senderDisplayName !== undefined) notification.sender_display_name = n.senderDisplayName;
  if (n.roomName !== undefined) notification.room_name = n.roomName;
  if (n.roomAlias !== undefined) notification.room_alias = n.roomAlias;
  if (n.pdu.type === 'm.room.member') notification.user_is_target = n.pdu.state_key === n.recipient;
  if (n.pdu.content && Object.keys(n.pdu.content).length > 0) notification.content = n.pdu.content;
  return { notification };
}
