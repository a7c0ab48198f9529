// This server's users' device lists as other servers see them: device keys with the signatures
// the owner uploaded, display names, the master key with the owner's own signatures and the
// self-signing key; never the user-signing key (end_to_end_encryption.md "Cross-signing").
import type { FederationServices } from './services.ts';
import { isRecord } from '../protocol/e2e-keys.ts';

type Json = Record<string, unknown>;

export interface LocalDeviceView {
  devices: Map<string, { keys: Json; displayName: string | undefined }>;
  masterKey?: Json;
  selfSigningKey?: Json;
}

/** The user's devices with keys (all, or only those in `only`), and cross-signing keys. */
export async function localDeviceView(s: FederationServices, userId: string, only?: string[]): Promise<LocalDeviceView> {
  // An empty requester: no user-signing key, and only the owner's signatures on the master key.
  // An empty device list asks for all devices, hence the filter below for an empty `only`.
  const q = await s.e2ee.keys.query('', { device_keys: { [userId]: only ?? [] } });
  const wanted = only ? new Set(only) : undefined;
  const devices = new Map<string, { keys: Json; displayName: string | undefined }>();
  const byDevice = isRecord(q.device_keys) && isRecord(q.device_keys[userId]) ? q.device_keys[userId] : {};
  for (const [deviceId, k] of Object.entries(byDevice)) {
    if (wanted && !wanted.has(deviceId)) continue;
    const { unsigned, ...keys } = k as Json;
    const name = isRecord(unsigned) && typeof unsigned.device_display_name === 'string' ? unsigned.device_display_name : undefined;
    devices.set(deviceId, { keys, displayName: name });
  }
  const view: LocalDeviceView = { devices };
  const master = isRecord(q.master_keys) ? q.master_keys[userId] : undefined;
  const selfSigning = isRecord(q.self_signing_keys) ? q.self_signing_keys[userId] : undefined;
  if (isRecord(master)) view.masterKey = master;
  if (isRecord(selfSigning)) view.selfSigningKey = selfSigning;
  return view;
}
