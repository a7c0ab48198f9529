// Inbound EDUs from a transaction (server-server-api "EDUs"): typing, presence, receipts, device
// list updates, direct to-device messages. STUB: ignored until implemented.
import type { FederationServices } from '../services.ts';

export interface Edu {
  edu_type: string;
  content: unknown;
}

/** Applies the EDUs of a transaction from `origin`; a malformed EDU is logged and skipped. */
export async function processEdus(s: FederationServices, origin: string, edus: Edu[]): Promise<void> {
  void s;
  void origin;
  void edus;
}
