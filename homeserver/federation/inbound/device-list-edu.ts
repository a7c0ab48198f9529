// m.device_list_update and m.signing_key_update (server-server-api.md "Device Management",
// "End-to-End Encryption"): a remote user's devices or cross-signing keys changed. The cached list
// is updated (or dropped when an update was missed), and local users sharing a room with that user
// see them in /sync device_lists.changed, so their clients fetch the keys again.
import type { EduHandler } from './edus.ts';
import { isRecord } from '../../protocol/e2e-keys.ts';
import { isUserOf } from './edu-checks.ts';
import { applyDeviceListUpdate, applySigningKeyUpdate } from '../remote-device-lists.ts';

export const receiveDeviceListUpdate: EduHandler = async (s, origin, c) => {
  if (!isUserOf(c.user_id, origin)) return `${String(c.user_id)} is not a user of the origin`;
  if (typeof c.device_id !== 'string' || !Number.isInteger(c.stream_id)) return 'device_id and stream_id are required';
  const prev = c.prev_id === undefined ? [] : c.prev_id;
  if (!Array.isArray(prev) || prev.some((p) => !Number.isInteger(p))) return 'prev_id must be a list of integers';
  if (c.keys !== undefined && !isRecord(c.keys)) return 'keys must be an object';
  const changed = await applyDeviceListUpdate(s, {
    userId: c.user_id,
    deviceId: c.device_id,
    streamId: c.stream_id as number,
    prevIds: prev as number[],
    deleted: c.deleted === true,
    displayName: typeof c.device_display_name === 'string' ? c.device_display_name : null,
    keys: c.keys,
  });
  if (changed) await s.e2ee.deviceLists.remoteChanged(c.user_id);
};

export const receiveSigningKeyUpdate: EduHandler = async (s, origin, c) => {
  if (!isUserOf(c.user_id, origin)) return `${String(c.user_id)} is not a user of the origin`;
  const changed = await applySigningKeyUpdate(s, c.user_id, c.master_key, c.self_signing_key);
  if (changed) await s.e2ee.deviceLists.remoteChanged(c.user_id);
};
