// A stored event in the federation format: the PDU as signed. Rooms 6-12 have no `event_id` key
// (the receiver derives the id, fragments/v4-event-ids.md), and `unsigned` goes: what we keep
// there (transaction ids, prev_content, a stale age) is about the event as our own clients see it.
import type { PDU } from '../../protocol/types.ts';

export function outgoingPdu(pdu: PDU): PDU {
  if (pdu.unsigned === undefined && pdu.event_id === undefined) return pdu;
  const { unsigned: _local, event_id: _id, ...rest } = pdu;
  return rest as PDU;
}
