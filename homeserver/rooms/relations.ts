// Relationships between events (client-server-api "Forming relationships between events"):
// the checks a new relation must pass, and the bundled aggregations served under
// unsigned["m.relations"] for edits (m.replace), threads (m.thread) and references (m.reference).
import type { JsonObject } from '../protocol/types.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { relationOf } from '../storage/events-store.ts';
import { relationsStore } from '../storage/relations-store.ts';
import type { Queryable } from '../storage/sqlite.ts';
import type { EventReader, LoadedEvent } from './event-reader.ts';
import { nullObject } from '../protocol/null-object.ts';

/**
 * Refuses relations the spec forbids, before the event is sent:
 * - the parent must exist in the same room (a reaction to nothing is meaningless);
 * - one annotation per user, parent and key (modules/event_annotations.md "Avoiding duplicate
 *   annotations": M_DUPLICATE_ANNOTATION);
 * - an edit replaces an event of the same sender that is not itself an edit and not a state
 *   event (modules/event_replacements.md "Validity of replacement events");
 * - a thread cannot start from an event that is itself a relation (modules/threading.md).
 */
export async function checkNewRelation(q: Queryable, reader: EventReader, roomId: string, sender: string, type: string, content: JsonObject): Promise<void> {
  const rel = relationOf({ content } as never);
  if (!rel) return;
  const parent = await reader.getEvent(q, rel.eventId);
  if (!parent || parent.roomId !== roomId) throw new MatrixError(400, 'M_INVALID_PARAM', `The related event ${rel.eventId} is not in this room`);
  if (rel.relType === 'm.annotation') {
    if (rel.key === null) throw new MatrixError(400, 'M_INVALID_PARAM', 'An annotation needs a key');
    if (await relationsStore.findAnnotation(q, rel.eventId, sender, rel.key)) {
      throw new MatrixError(400, 'M_DUPLICATE_ANNOTATION', 'You have already sent this annotation');
    }
  } else if (rel.relType === 'm.replace') {
    if (parent.pdu.sender !== sender) throw new MatrixError(400, 'M_INVALID_PARAM', 'You may only edit your own events');
    if (parent.pdu.state_key !== undefined) throw new MatrixError(400, 'M_INVALID_PARAM', 'State events cannot be edited');
    if (relationOf(parent.pdu)?.relType === 'm.replace') throw new MatrixError(400, 'M_INVALID_PARAM', 'An edit cannot be edited');
    if (parent.pdu.type !== type) throw new MatrixError(400, 'M_INVALID_PARAM', 'An edit must have the type of the event it replaces');
  } else if (rel.relType === 'm.thread') {
    const parentRel = relationOf(parent.pdu);
    if (parentRel && parentRel.relType !== 'm.thread') throw new MatrixError(400, 'M_INVALID_PARAM', 'A thread cannot start from an event with a relation');
    if (parentRel?.relType === 'm.thread') throw new MatrixError(400, 'M_INVALID_PARAM', 'Reply to the thread root, not to an event in the thread');
  }
}

export type ChildFormatter = (e: LoadedEvent) => Promise<JsonObject>;

/** The bundled aggregations of an event, or undefined when it has none. */
export async function bundledAggregations(
  q: Queryable,
  reader: EventReader,
  e: LoadedEvent,
  viewer: string | undefined,
  format: ChildFormatter,
): Promise<JsonObject | undefined> {
  if (e.pdu.state_key !== undefined) return undefined; // state events get none (spec note)
  if (!(await reader.mayHaveChildren(q, e.eventId))) return undefined;
  const rows = await relationsStore.children(q, e.eventId);
  if (rows.length === 0) return undefined;
  const out: JsonObject = nullObject();

  // m.replace: the most recent valid edit, unless the original was redacted.
  if (!e.redactedBy) {
    const edits = (
      await reader.getEvents(
        q,
        rows.filter((r) => r.rel_type === 'm.replace' && r.sender === e.pdu.sender).map((r) => r.event_id),
      )
    ).filter((x) => x.pdu.type === e.pdu.type && x.pdu.state_key === undefined && !x.redactedBy);
    edits.sort((a, b) => a.pdu.origin_server_ts - b.pdu.origin_server_ts || (a.eventId < b.eventId ? -1 : 1));
    const latest = edits[edits.length - 1];
    if (latest) out['m.replace'] = await format(latest);
  }

  const thread = rows.filter((r) => r.rel_type === 'm.thread');
  if (thread.length > 0) {
    const latest = await reader.getEvent(q, thread[thread.length - 1]!.event_id);
    out['m.thread'] = {
      count: thread.length,
      current_user_participated: viewer !== undefined && (e.pdu.sender === viewer || thread.some((r) => r.sender === viewer)),
      ...(latest ? { latest_event: await format(latest) } : {}),
    };
  }

  const refs = rows.filter((r) => r.rel_type === 'm.reference');
  if (refs.length > 0) out['m.reference'] = { chunk: refs.map((r) => ({ event_id: r.event_id })) };

  return Object.keys(out).length > 0 ? out : undefined;
}
