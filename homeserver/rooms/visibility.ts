// History visibility (client-server-api "History visibility"): which events a user may read.
// The same rule serves /sync, /messages, /context, /event and, later, federation backfill.
import { stateKey } from '../protocol/types.ts';
import type { Queryable } from '../storage/sqlite.ts';
import type { EventReader, LoadedEvent } from './event-reader.ts';

export class Visibility {
  private readonly reader: EventReader;
  constructor(reader: EventReader) {
    this.reader = reader;
  }

  /**
   * modules/history_visibility.md, applied to the state at each event:
   * 1. world_readable: allow. 2. the user was joined: allow. 3. shared and the user joined at any
   * point after the event: allow. 4. invited and history_visibility invited: allow. 5. deny.
   * A value not understood counts as shared. An m.room.history_visibility event is visible if the
   * value before or after it allows it; a user always sees their own membership events.
   */
  async filter(q: Queryable, userId: string, events: LoadedEvent[]): Promise<LoadedEvent[]> {
    if (events.length === 0) return events;
    const joins = new Map<string, number[]>();
    const joinedAfter = async (e: LoadedEvent) => {
      let list = joins.get(e.roomId);
      if (!list) {
        list = await joinPositions(q, e.roomId, userId);
        joins.set(e.roomId, list);
      }
      return list.some((pos) => pos > e.streamOrdering);
    };
    const out: LoadedEvent[] = [];
    for (const e of events) {
      if (e.pdu.type === 'm.room.member' && e.pdu.state_key === userId) {
        out.push(e);
        continue;
      }
      const state = await this.reader.stateOfGroup(q, e.stateGroup);
      const hvId = state.get(stateKey('m.room.history_visibility', ''));
      const before = normalise(hvId ? (await this.reader.getEvent(q, hvId))?.pdu.content.history_visibility : undefined);
      const memberId = state.get(stateKey('m.room.member', userId));
      const membership = memberId ? (await this.reader.getEvent(q, memberId))?.pdu.content.membership : undefined;
      const values = [before];
      if (e.pdu.type === 'm.room.history_visibility' && e.pdu.state_key === '') values.push(normalise(e.pdu.content.history_visibility));
      let allowed = false;
      for (const hv of values) {
        if (hv === 'world_readable' || membership === 'join') allowed = true;
        else if (hv === 'shared' && (await joinedAfter(e))) allowed = true;
        else if (hv === 'invited' && membership === 'invite') allowed = true;
        if (allowed) break;
      }
      if (allowed) out.push(e);
    }
    return out;
  }

  async canSee(q: Queryable, userId: string, e: LoadedEvent): Promise<boolean> {
    return (await this.filter(q, userId, [e])).length === 1;
  }
}

const KNOWN = new Set(['world_readable', 'shared', 'invited', 'joined']);

/** "if the value is not understood, the visibility is assumed to be shared". */
function normalise(v: unknown): string {
  return typeof v === 'string' && KNOWN.has(v) ? v : 'shared';
}

/** Stream positions of the user's join events in a room. */
async function joinPositions(q: Queryable, roomId: string, userId: string): Promise<number[]> {
  const rows = await q.all<{ stream_ordering: number; json: string }>(
    "SELECT stream_ordering, json FROM events WHERE room_id = ? AND type = 'm.room.member' AND state_key = ?",
    roomId,
    userId,
  );
  return rows.filter((r) => (JSON.parse(r.json) as { content?: { membership?: string } }).content?.membership === 'join').map((r) => r.stream_ordering);
}
