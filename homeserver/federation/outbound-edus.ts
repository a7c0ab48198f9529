// Passes local users' ephemeral data and E2EE changes on to other servers as EDUs
// (server-server-api.md "EDUs" and the sections per EDU type). The edus/ and e2ee/ services know
// nothing of federation: they call listeners, which this module registers. Each EDU is queued
// through `s.outbound` (absent until the sender exists: then nothing is sent, as without
// federation). Also drops cached remote device lists whenever room membership changes whom a
// local user shares a room with.
import type { FederationServices } from './services.ts';
import type { JsonObject } from '../protocol/types.ts';
import type { PresenceRow } from '../storage/edus-store.ts';
import { deviceListOutboundStore } from '../storage/federation-edus-store.ts';
import { eventsStore } from '../storage/events-store.ts';
import { parseUserId } from '../protocol/identifiers.ts';
import { serversInRoom, serverOfUser } from '../rooms/servers-in-room.ts';
import { usersSharingARoom } from '../edus/room-members.ts';
import type { LocalDeviceChange } from '../e2ee/device-lists.ts';
import type { LoadedEvent } from '../rooms/event-reader.ts';
import { localDeviceView } from './local-device-lists.ts';
import { forgetDeviceLists } from './remote-device-lists.ts';
import { randomBytes } from 'node:crypto';

/** A renewed typing state is passed on at most this often (receivers time it out after 60 s). */
const TYPING_RENEW_MS = 30_000;

/** Other servers with a joined member in the room. */
async function otherServersInRoom(s: FederationServices, roomId: string): Promise<string[]> {
  return [...(await serversInRoom(s.db.reader, roomId))].filter((d) => d !== s.serverName);
}

/** Other servers sharing a room with the user: those interested in their presence and devices. */
async function otherServersSharing(s: FederationServices, userId: string): Promise<string[]> {
  const servers = new Set<string>();
  for (const u of await usersSharingARoom(s.db.reader, userId)) {
    const server = serverOfUser(u);
    if (server && server !== s.serverName) servers.add(server);
  }
  return [...servers];
}

export function wireOutboundEdus(s: FederationServices): void {
  const send = async (destinations: string[], type: string, content: JsonObject): Promise<void> => {
    if (destinations.length === 0 || !s.outbound) return;
    await s.outbound.sendEdu(destinations, type, content);
  };
  /** Listeners run detached from the request that caused them; a failure is logged, never thrown. */
  const detached = (what: string, job: () => Promise<void>): void => {
    job().catch((err) => s.log(`federation: queueing ${what} failed`, err));
  };

  // m.typing: on every change, and a renewal now and then while the user keeps typing.
  const typingSent = new Map<string, number>();
  s.edus.typing.onLocalTyping((roomId, userId, typing, changed) => {
    const key = `${roomId}\u0000${userId}`;
    const now = Date.now();
    if (!changed && !(typing && now - (typingSent.get(key) ?? 0) >= TYPING_RENEW_MS)) return;
    if (typing) typingSent.set(key, now);
    else typingSent.delete(key);
    detached('m.typing', async () => send(await otherServersInRoom(s, roomId), 'm.typing', { room_id: roomId, user_id: userId, typing }));
  });

  // m.receipt: public read receipts only; m.read.private stays on this server.
  s.edus.receipts.onLocalReceipt((r) => {
    if (r.type !== 'm.read') return;
    const data: JsonObject = { ts: r.ts };
    if (r.threadId !== undefined) data.thread_id = r.threadId;
    const content = { [r.roomId]: { 'm.read': { [r.userId]: { event_ids: [r.eventId], data } } } };
    detached('m.receipt', async () => send(await otherServersInRoom(s, r.roomId), 'm.receipt', content));
  });

  // m.presence: to the servers sharing a room with the user ("Servers should only send presence
  // updates for users that the receiving server would be interested in").
  s.edus.presence.onLocalPresence((userId, row: PresenceRow) => {
    const content = { push: [{ user_id: userId, ...s.edus.presence.content(row) }] };
    detached('m.presence', async () => send(await otherServersSharing(s, userId), 'm.presence', content));
  });

  // m.device_list_update per changed device, m.signing_key_update for cross-signing keys.
  s.e2ee.deviceLists.onLocalChange((userId, change) => detached('device list update', () => sendDeviceChange(s, send, userId, change)));

  // m.direct_to_device: each remote server gets its users' part of the messages.
  s.e2ee.toDevice.onLocalSend((sender, type, messages) => {
    const byServer = new Map<string, Record<string, JsonObject>>();
    for (const [user, byDevice] of Object.entries(messages)) {
      const server = parseUserId(user)?.serverName;
      if (!server || server === s.serverName) continue;
      let part = byServer.get(server);
      if (!part) byServer.set(server, (part = {}));
      part[user] = byDevice as unknown as JsonObject;
    }
    for (const [server, part] of byServer) {
      // "message_id: Unique ID for the message, used for idempotence ... maximum length 32 codepoints".
      const content = { sender, type, message_id: randomBytes(12).toString('base64url'), messages: part };
      detached('m.direct_to_device', () => send([server], 'm.direct_to_device', content));
    }
  });

  s.rooms.onCommitted((events) => detached('device list cache invalidation', () => forgetOnMembership(s, events)));
}

type Send = (destinations: string[], type: string, content: JsonObject) => Promise<void>;

async function sendDeviceChange(s: FederationServices, send: Send, userId: string, change: LocalDeviceChange): Promise<void> {
  const destinations = await otherServersSharing(s, userId);
  const deviceIds = change.deviceIds ?? [];
  const view = await localDeviceView(s, userId, deviceIds);
  for (const deviceId of new Set(deviceIds)) {
    // Every update takes the user's next stream_id, sent or not, so that a server whose copy is
    // older sees a prev_id it does not know and fetches the list again.
    const { streamId, prev } = await s.db.write((tx) => deviceListOutboundStore.next(tx, userId));
    const device = view.devices.get(deviceId);
    const content: JsonObject = { user_id: userId, device_id: deviceId, stream_id: streamId, prev_id: prev > 0 ? [prev] : [] };
    if (device) {
      content.keys = device.keys as JsonObject;
      if (device.displayName !== undefined) content.device_display_name = device.displayName;
    } else {
      content.deleted = true;
    }
    await send(destinations, 'm.device_list_update', content);
  }
  if (change.crossSigning) {
    const content: JsonObject = { user_id: userId };
    if (view.masterKey) content.master_key = view.masterKey as JsonObject;
    if (view.selfSigningKey) content.self_signing_key = view.selfSigningKey as JsonObject;
    await send(destinations, 'm.signing_key_update', content);
  }
}

/**
 * Whom a remote user shares a room with changes only through membership events: a remote user's
 * own, or a local user's in a room with remote members. Either drops the cached lists concerned,
 * so that they are fetched afresh (the remote server may have stopped sending us updates meanwhile).
 */
async function forgetOnMembership(s: FederationServices, events: LoadedEvent[]): Promise<void> {
  const stale = new Set<string>();
  for (const e of events) {
    if (e.pdu.type !== 'm.room.member' || typeof e.pdu.state_key !== 'string') continue;
    const member = e.pdu.state_key;
    if (serverOfUser(member) !== s.serverName) {
      stale.add(member);
      continue;
    }
    for (const m of await eventsStore.membersOfRoom(s.db.reader, e.roomId)) {
      if (m.membership === 'join' && serverOfUser(m.user_id) !== s.serverName) stale.add(m.user_id);
    }
  }
  await forgetDeviceLists(s, stale);
}
