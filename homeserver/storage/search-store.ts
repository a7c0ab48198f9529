// Table: event_search (FTS5), rowid = the event's stream_ordering; the counter 'search_indexed'
// in stream_counters: events up to it are indexed (rooms/search-indexer.ts).
import type { PDU } from '../protocol/types.ts';
import type { Queryable } from './sqlite.ts';

/** What client-server-api modules/search.md says is searched, as (key, text) for an event. */
export function searchableText(p: PDU): { key: string; text: string } | undefined {
  const c = p.content as Record<string, unknown>;
  if (p.type === 'm.room.message' && typeof c.body === 'string') return { key: 'content.body', text: c.body };
  if (p.type === 'm.room.name' && typeof c.name === 'string') return { key: 'content.name', text: c.name };
  if (p.type === 'm.room.topic') {
    const parts: string[] = [];
    if (typeof c.topic === 'string') parts.push(c.topic);
    const reps = c['m.topic'];
    if (Array.isArray(reps)) {
      for (const r of reps as Array<Record<string, unknown>>) {
        if (r && (r.mimetype === undefined || r.mimetype === 'text/plain') && typeof r.body === 'string' && !parts.includes(r.body)) parts.push(r.body);
      }
    }
    if (parts.length > 0) return { key: 'content.topic', text: parts.join('\n') };
  }
  return undefined;
}

/** Quotes every word, so user input is matched as words and never read as FTS5 query syntax. */
export function ftsQuery(term: string): string | undefined {
  const words = term
    .split(/\s+/)
    .filter((w) => w.length > 0)
    .map((w) => `"${w.replace(/"/g, '""')}"`);
  return words.length > 0 ? words.join(' ') : undefined;
}

export interface SearchHit {
  stream_ordering: number;
  rank: number;
}

export const searchStore = {
  async index(q: Queryable, streamOrdering: number, roomId: string, p: PDU): Promise<void> {
    const t = searchableText(p);
    if (t) q.defer('INSERT INTO event_search (rowid, body, room_id, search_key) VALUES (?, ?, ?, ?)', streamOrdering, t.text, roomId, t.key);
  },
  /**
   * Indexes up to `limit` events after the indexed position, in stream order, and moves the
   * position past them. A redacted event is read as stored, redacted, so nothing of it is
   * indexed. Returns how many events it read: fewer than `limit` once caught up.
   */
  async indexNext(q: Queryable, limit: number): Promise<number> {
    const from = (await q.get<{ value: number }>("SELECT value FROM stream_counters WHERE name = 'search_indexed'"))?.value ?? 0;
    const events = await q.all<{ stream_ordering: number; room_id: string; json: string }>(
      'SELECT stream_ordering, room_id, json FROM events WHERE stream_ordering > ? ORDER BY stream_ordering LIMIT ?',
      from,
      limit,
    );
    for (const e of events) await this.index(q, e.stream_ordering, e.room_id, JSON.parse(e.json) as PDU);
    const last = events[events.length - 1];
    if (last) q.defer("UPDATE stream_counters SET value = ? WHERE name = 'search_indexed'", last.stream_ordering);
    return events.length;
  },
  async remove(q: Queryable, streamOrdering: number): Promise<void> {
    await q.run('DELETE FROM event_search WHERE rowid = ?', streamOrdering);
  },
  /** Matches in the given rooms and keys; rank is higher for better matches (negated bm25). */
  async search(
    q: Queryable,
    match: string,
    roomIds: string[],
    keys: string[],
    orderByRank: boolean,
    limit: number,
    offset: number,
    beforeStream: number,
  ): Promise<SearchHit[]> {
    if (roomIds.length === 0 || keys.length === 0) return [];
    const roomMarks = roomIds.map(() => '?').join(',');
    const keyMarks = keys.map(() => '?').join(',');
    return q.all<SearchHit>(
      `SELECT rowid AS stream_ordering, -bm25(event_search) AS rank FROM event_search
       WHERE event_search MATCH ? AND room_id IN (${roomMarks}) AND search_key IN (${keyMarks}) AND rowid < ?
       ORDER BY ${orderByRank ? 'rank DESC, rowid DESC' : 'rowid DESC'} LIMIT ? OFFSET ?`,
      match,
      ...roomIds,
      ...keys,
      beforeStream,
      limit,
      offset,
    );
  },
};
