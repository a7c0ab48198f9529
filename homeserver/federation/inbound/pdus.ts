// Inbound PDUs from a transaction (server-server-api "Checks performed on receipt of a PDU").
// STUB while the remote-event path is built: every PDU is refused.
import type { FederationServices } from '../services.ts';

/** The per-PDU answer of PUT /send: {} when accepted, { error } when rejected. */
export type PduResults = Record<string, { error?: string }>;

/** Processes a transaction's PDUs from `origin`, in order; never throws for a bad PDU. */
export async function processPdus(s: FederationServices, origin: string, pdus: unknown[]): Promise<PduResults> {
  void s;
  void origin;
  const results: PduResults = {};
  for (const p of pdus) {
    const id = typeof p === 'object' && p !== null && typeof (p as { event_id?: unknown }).event_id === 'string' ? (p as { event_id: string }).event_id : undefined;
    if (id) results[id] = { error: 'not implemented yet' };
  }
  return results;
}
