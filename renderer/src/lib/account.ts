// The account changes the settings screen makes, over matrix-js-sdk: profile, password,
// sessions and the account's push rules. Each takes the client; the screens keep no logic.
import type { MatrixClient } from 'matrix-js-sdk/lib/client.js';
import { listDevices, withPassword, type ListedDevice } from './devices.ts';
import { roomModeChanges, type RoomNotificationMode, type RuleSets } from './room-notifications.ts';
import { inertBlob, parseMxc } from './media.ts';

/** The longest display name the profile screen takes: Synapse's limit (MAX_DISPLAYNAME_LEN), which other servers' members see. */
export const DISPLAY_NAME_MAX = 256;

export async function sessions(client: MatrixClient): Promise<ListedDevice[]> {
  const { devices } = await client.getDevices();
  return listDevices(devices, client.getDeviceId() ?? '');
}

export async function renameSession(client: MatrixClient, deviceId: string, name: string): Promise<void> {
  await client.setDeviceDetails(deviceId, { display_name: name.trim() });
}

/** Signs the given sessions out; the server asks for the password first (UIA). */
export async function signOutSessions(client: MatrixClient, deviceIds: string[], password: string): Promise<void> {
  await withPassword(client.getSafeUserId(), password, (auth) => client.deleteMultipleDevices(deviceIds, auth as never));
}

/** Changes the password; `signOutOthers` ends every other session, as the spec's default does. */
export async function changePassword(client: MatrixClient, current: string, next: string, signOutOthers: boolean): Promise<void> {
  await withPassword(client.getSafeUserId(), current, (auth) => client.setPassword(auth as never, next, signOutOthers));
}

/** Uploads an image and makes it the user's avatar (the server copies it into every room). */
export async function setAvatar(client: MatrixClient, file: File): Promise<void> {
  const { content_uri } = await client.uploadContent(file, { type: file.type, name: file.name });
  await client.setAvatarUrl(content_uri);
}

function ruleSets(client: MatrixClient): RuleSets | undefined {
  return client.pushRules?.global as RuleSets | undefined;
}

/** The account-wide switch: the master push rule enabled means no notification at all. */
export async function setAccountNotifications(client: MatrixClient, on: boolean): Promise<void> {
  await client.setPushRuleEnabled('global', 'override' as never, '.m.rule.master', !on);
  await refreshPushRules(client);
}

export async function setRoomNotificationMode(client: MatrixClient, roomId: string, mode: RoomNotificationMode): Promise<void> {
  for (const change of roomModeChanges(ruleSets(client), roomId, mode)) {
    if (change.op === 'delete') await client.deletePushRule('global', change.kind as never, change.ruleId);
    else await client.addPushRule('global', change.kind as never, change.ruleId, change.body as never);
  }
  await refreshPushRules(client);
}

/** Reads the rules back at once, rather than waiting for the next sync's account data. */
async function refreshPushRules(client: MatrixClient): Promise<void> {
  client.pushRules = await client.getPushRules();
}

/**
 * An mxc:// image as an object URL, fetched with the access token: the server serves media
 * only to signed-in clients (client-server-api "Content repository", v1 media). The caller
 * revokes the URL when done with it.
 */
export async function thumbnailUrl(client: MatrixClient, mxc: string, size = 96): Promise<string | null> {
  const m = parseMxc(mxc);
  if (!m) return null;
  const url = `${client.baseUrl}/_matrix/client/v1/media/thumbnail/${encodeURIComponent(m.serverName)}/${encodeURIComponent(m.mediaId)}?width=${size}&height=${size}&method=crop`;
  const res = await fetch(url, { headers: { authorization: `Bearer ${client.getAccessToken() ?? ''}` } });
  if (!res.ok) return null;
  return URL.createObjectURL(inertBlob(await res.blob()));
}
