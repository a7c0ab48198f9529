// Inbound EDUs from a transaction (server-server-api.md "EDUs"): typing, receipts, presence,
// device list and signing key updates, direct to-device messages. Each EDU type has its own file;
// this one checks the envelope and dispatches. An EDU about a user of another server than the
// transaction's origin, or otherwise malformed, is dropped (and logged), never fatal.
import type { FederationServices } from '../services.ts';
import { isRecord } from '../../protocol/e2e-keys.ts';
import { receiveTyping } from './typing-edu.ts';
import { receiveReceipts } from './receipt-edu.ts';
import { receivePresence } from './presence-edu.ts';
import { receiveDeviceListUpdate, receiveSigningKeyUpdate } from './device-list-edu.ts';
import { receiveDirectToDevice } from './to-device-edu.ts';

export interface Edu {
  edu_type: string;
  content: unknown;
}

/** Handles one EDU's content; resolves with why it was dropped, or nothing when applied. */
export type EduHandler = (s: FederationServices, origin: string, content: Record<string, unknown>) => Promise<string | void>;

const HANDLERS: Record<string, EduHandler> = {
  'm.typing': receiveTyping,
  'm.receipt': receiveReceipts,
  'm.presence': receivePresence,
  'm.device_list_update': receiveDeviceListUpdate,
  'm.signing_key_update': receiveSigningKeyUpdate,
  'm.direct_to_device': receiveDirectToDevice,
};

/** Applies the EDUs of a transaction from `origin`, in order; a malformed EDU is logged and skipped. */
export async function processEdus(s: FederationServices, origin: string, edus: Edu[]): Promise<void> {
  for (const edu of edus) {
    if (!isRecord(edu) || typeof edu.edu_type !== 'string') continue;
    // Unknown EDU types are ignored, as the spec lets new ones appear.
    const handler = HANDLERS[edu.edu_type];
    if (!handler) continue;
    if (!isRecord(edu.content)) {
      s.log(`${edu.edu_type} EDU from ${origin} dropped: content is not an object`);
      continue;
    }
    try {
      const dropped = await handler(s, origin, edu.content);
      if (dropped) s.log(`${edu.edu_type} EDU from ${origin} dropped: ${dropped}`);
    } catch (err) {
      s.log(`${edu.edu_type} EDU from ${origin} failed`, err);
    }
  }
}
