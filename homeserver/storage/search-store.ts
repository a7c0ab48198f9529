// Table: event_search (FTS5), rowid = the event's stream_ordering.
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
  const words = term.split(/\s+/).filter((w) => w.length > 0).map((w) => `"${w.replace(/"/g, '""')}"`);
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
  async remove(q: Queryable, streamOrdering: number): Promise<void> {
    await q.run('DELETE FROM event_search WHERE rowid = ?', streamOrdering);
  },
  /** Matches in the given rooms and keys; rank is higher for better matches (negated bm25). */
  async search(q: Queryable, match: string, roomIds: string[], keys: string[], orderByRank: boolean, limit: number, offset: number, beforeStream: number): Promise<SearchHit[]> {
    if (roomIds.length === 0 || keys.length === 0) return [];
    const roomMarks = roomIds.map(() => '?').join(',');
    const keyMarks = keys.map(() => '?').join(',');
    return q.all<SearchHit>(
      `SELECT rowid AS stream_ordering, -bm25(event_search) AS rank FROM event_search
       WHERE event_search MATCH ? AND room_id IN (${roomMarks}) AND search_key IN (${keyMarks}) AND rowid < ?
       ORDER BY ${orderByRank ? 'rank DESC, rowid DESC' : 'rowid DESC'} LIMIT ? OFFSET ?`,
      match, ...roomIds, ...keys, beforeStream, limit, offset,
    );
  },
  async count(q: Queryable, match: string, roomIds: string[], keys: string[]): Promise<number> {
    if (roomIds.length === 0 || keys.length === 0) return 0;
    const row = await q.get<{ n: number }>(
      `SELECT COUNT(*) AS n FROM event_search WHERE event_search MATCH ? AND room_id IN (${roomIds.map(() => '?').join(',')}) AND search_key IN (${keys.map(() => '?').join(',')})`,
      match, ...roomIds, ...keys,
    );
    return row?.n ?? 0;
  },
};
