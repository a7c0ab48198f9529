// A stored event in the federation format (server-server-api "PDUs"): the PDU as signed, with no
// `event_id` (room versions 3+ compute it) and no `unsigned` data that only made sense here.
import type { JsonObject, PDU } from '../protocol/types.ts';
import type { LoadedEvent } from './event-reader.ts';
import { nullObject } from '../protocol/null-object.ts';

/** `unsigned` keys a client view or a local send adds; never another server's business. */
const LOCAL_UNSIGNED = new Set([
  'transaction_id',
  'age',
  'age_ts',
  'prev_content',
  'prev_sender',
  'replaces_state',
  'redacted_because',
  'm.relations',
  'membership',
]);

export function toFederationPdu(e: LoadedEvent): PDU {
  const { event_id: _, unsigned, ...rest } = e.pdu as PDU & { event_id?: unknown };
  const pdu = rest as PDU;
  if (unsigned && typeof unsigned === 'object') {
    const kept: JsonObject = nullObject();
    for (const [k, v] of Object.entries(unsigned)) if (!LOCAL_UNSIGNED.has(k)) kept[k] = v;
    if (Object.keys(kept).length > 0) pdu.unsigned = kept;
  }
  return pdu;
}
