// POST /search (search.yaml, modules/search.md): full-text search over the room events a user may
// see, in rooms they are or were in, ordered by rank or recency, with context and groupings.
import type { RouteGroup } from './deps.ts';
import { bodyObject } from '../http/json-body.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { requester } from '../http/auth.ts';
import { queryString } from '../http/params.ts';
import { eventsStore } from '../storage/events-store.ts';
import { searchStore, ftsQuery } from '../storage/search-store.ts';
import { toClientEvent, toClientEvents } from '../rooms/client-event.ts';
import { eventMatches, parseFilter, type RoomEventFilter } from '../sync/filters.ts';
import { formatPaginationToken } from '../sync/sync-token.ts';
import type { LoadedEvent } from '../rooms/event-reader.ts';
import { nullObject } from '../protocol/null-object.ts';

const ALL_KEYS = ['content.body', 'content.name', 'content.topic'];
const DEFAULT_LIMIT = 10;
/** Matches fetched per round while visibility and filters thin them out. */
const ROUND = 50;
/**
 * Rounds per request: a page stops after 250 matches looked at, with a next_batch, however few of
 * them the user may see. Without it a term that only hidden history holds read the whole index in
 * one request. Synapse stops after 5 rounds as well ("otherwise synapse will be sad").
 */
const MAX_SEARCH_ROUNDS = 5;
/**
 * Matches looked at to count the results. `count` is "an approximate count" (search.yaml); past
 * this many matches it is a lower bound, since counting means checking each one's visibility.
 */
const COUNT_SCAN_LIMIT = 1000;
const COUNT_ROUND = 200;
/**
 * Events of context each side of a result (`event_context.before_limit` / `after_limit`, 5 by
 * default). A page holds up to 100 results, so this bounds a page to 4,000 context events, four
 * /messages pages at their bound of 1,000. Synapse takes the client's numbers as they come (its
 * search handler has "TODO: Add a limit"); /context's own bound, for a single event, is 100.
 */
const MAX_SEARCH_CONTEXT_EVENTS = 20;

interface Cursor {
  /** Results already returned (rank order), or the stream position to continue below (recent order). */
  offset: number;
  before: number;
}

function parseCursor(s: string | undefined, position: number): Cursor {
  if (!s) return { offset: 0, before: position + 1 };
  const m = /^(\d+)_(\d+)$/.exec(s);
  if (!m) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid next_batch');
  return { offset: Number(m[1]), before: Number(m[2]) };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `groupings` (search.yaml "Groupings"): `{group_by: [{key}]}`, the keys asked for; any other shape is M_BAD_JSON. */
function groupKeysOf(groupings: unknown): string[] {
  if (groupings === undefined) return [];
  const list = isObject(groupings) ? (groupings.group_by ?? []) : undefined;
  if (!Array.isArray(list) || !list.every((g) => isObject(g) && (g.key === undefined || typeof g.key === 'string'))) {
    throw new MatrixError(400, 'M_BAD_JSON', "'groupings' must be {group_by: [{key: string}]}");
  }
  return list.flatMap((g) => (typeof g.key === 'string' ? [g.key] : []));
}

/**
 * `event_context` (search.yaml "Event Context"): limits are non-negative integers, 5 by default;
 * larger ones are held to MAX_SEARCH_CONTEXT_EVENTS, as /messages holds its `limit`.
 */
function eventContextOf(value: unknown): { beforeLimit: number; afterLimit: number; includeProfile: boolean } | undefined {
  if (value === undefined) return undefined;
  const limit = (v: unknown) => v === undefined || (Number.isSafeInteger(v) && (v as number) >= 0);
  if (
    !isObject(value) ||
    !limit(value.before_limit) ||
    !limit(value.after_limit) ||
    (value.include_profile !== undefined && typeof value.include_profile !== 'boolean')
  ) {
    throw new MatrixError(400, 'M_BAD_JSON', "'event_context' must be {before_limit, after_limit: non-negative integers, include_profile: boolean}");
  }
  return {
    beforeLimit: Math.min((value.before_limit as number | undefined) ?? 5, MAX_SEARCH_CONTEXT_EVENTS),
    afterLimit: Math.min((value.after_limit as number | undefined) ?? 5, MAX_SEARCH_CONTEXT_EVENTS),
    includeProfile: value.include_profile === true,
  };
}

export const searchRoutes: RouteGroup = (r, deps) => {
  r.post('/search', deps.auth, async (ctx) => {
    const me = requester(ctx);
    const body = bodyObject(ctx);
    const cats = body.search_categories as Record<string, unknown> | undefined;
    if (!cats || typeof cats !== 'object') throw new MatrixError(400, 'M_BAD_JSON', "'search_categories' is required");
    const re = cats.room_events as Record<string, unknown> | undefined;
    if (!re) {
      ctx.body = { search_categories: {} };
      return;
    }
    if (typeof re.search_term !== 'string') throw new MatrixError(400, 'M_BAD_JSON', "'search_term' must be a string");
    const keys = re.keys === undefined ? ALL_KEYS : (re.keys as unknown[]);
    if (!Array.isArray(keys) || keys.some((k) => !ALL_KEYS.includes(k as string)))
      throw new MatrixError(400, 'M_BAD_JSON', `'keys' may only hold ${ALL_KEYS.join(', ')}`);
    const orderBy = (re.order_by as string | undefined) ?? 'rank';
    if (orderBy !== 'rank' && orderBy !== 'recent') throw new MatrixError(400, 'M_BAD_JSON', "order_by must be 'rank' or 'recent'");
    const filter: RoomEventFilter | undefined = re.filter === undefined ? undefined : parseFilter({ room: { timeline: re.filter } }).room!.timeline;
    const limit = Math.min(Math.max(filter?.limit ?? DEFAULT_LIMIT, 1), 100);
    const context = eventContextOf(re.event_context);
    const groupBy = groupKeysOf(re.groupings);

    // Events are indexed behind the timeline: everything sent before this search is found.
    await deps.searchIndexer.catchUp();
    const q = deps.rooms.db.reader;
    const memberships = (await eventsStore.membershipsOfUser(q, me.userId)).filter((m) => m.membership !== 'invite' && m.membership !== 'knock');
    const roomIds = memberships.map((m) => m.room_id).filter((id) => (!filter?.rooms || filter.rooms.includes(id)) && !filter?.not_rooms?.includes(id));
    const match = ftsQuery(re.search_term);
    const cursor = parseCursor(queryString(ctx, 'next_batch'), deps.rooms.position);
    const eventAt = async (streamOrdering: number): Promise<LoadedEvent | undefined> => {
      const row = await q.get<{ event_id: string }>('SELECT event_id FROM events WHERE stream_ordering = ?', streamOrdering);
      return row ? deps.rooms.reader.getEvent(q, row.event_id) : undefined;
    };
    // The count covers only what this user may see and the filter lets through: counting every
    // match in their rooms told how many matching messages they were not allowed to read.
    const visibleCount = async (m: string): Promise<number> => {
      let n = 0;
      for (let scanned = 0; scanned < COUNT_SCAN_LIMIT; scanned += COUNT_ROUND) {
        const hits = await searchStore.search(q, m, roomIds, keys as string[], false, COUNT_ROUND, scanned, deps.rooms.position + 1);
        const events: LoadedEvent[] = [];
        for (const hit of hits) {
          const ev = await eventAt(hit.stream_ordering);
          if (ev && eventMatches(filter, { type: ev.pdu.type, sender: ev.pdu.sender, room_id: ev.roomId, content: ev.pdu.content })) events.push(ev);
        }
        n += (await deps.visibility.filter(q, me.userId, events)).length;
        if (hits.length < COUNT_ROUND) break;
      }
      return n;
    };
    const results: Array<{ rank: number; event: LoadedEvent }> = [];
    let offset = cursor.offset;
    let before = cursor.before;
    let exhausted = !match;
    for (let round = 0; match && results.length < limit && !exhausted && round < MAX_SEARCH_ROUNDS; round++) {
      const hits = await searchStore.search(
        q,
        match,
        roomIds,
        keys as string[],
        orderBy === 'rank',
        ROUND,
        orderBy === 'rank' ? offset : 0,
        orderBy === 'rank' ? cursor.before : before,
      );
      exhausted = hits.length < ROUND;
      for (const hit of hits) {
        if (orderBy === 'rank') offset++;
        else before = hit.stream_ordering;
        const ev = await eventAt(hit.stream_ordering);
        if (!ev || !eventMatches(filter, { type: ev.pdu.type, sender: ev.pdu.sender, room_id: ev.roomId, content: ev.pdu.content })) continue;
        if (!(await deps.visibility.canSee(q, me.userId, ev))) continue;
        results.push({ rank: hit.rank, event: ev });
        if (results.length >= limit) {
          exhausted = false;
          break;
        }
      }
    }

    const out: Array<Record<string, unknown>> = [];
    for (const { rank, event } of results) {
      const item: Record<string, unknown> = { rank, result: await toClientEvent(q, deps.rooms.reader, event, { viewer: me }) };
      if (context) item.context = await eventContext(event, context.beforeLimit, context.afterLimit, context.includeProfile);
      out.push(item);
    }
    const roomEvents: Record<string, unknown> = {
      count: match ? await visibleCount(match) : 0,
      highlights: re.search_term
        .split(/\s+/)
        .filter((w) => w.length > 0)
        .map((w) => w.toLowerCase()),
      results: out,
    };
    // Also when the rounds ran out with fewer results than asked: the client pages on from there.
    if (!exhausted) roomEvents.next_batch = `${offset}_${orderBy === 'rank' ? cursor.before : before}`;
    if (groupBy.length > 0) {
      const groups: Record<string, Record<string, unknown>> = nullObject();
      for (const key of groupBy) {
        if (key !== 'room_id' && key !== 'sender') continue;
        const g: Record<string, { results: string[]; order: number }> = nullObject();
        results.forEach(({ event }, i) => {
          const k = key === 'room_id' ? event.roomId : event.pdu.sender;
          (g[k] ??= { results: [], order: i }).results.push(event.eventId);
        });
        groups[key] = g;
      }
      roomEvents.groups = groups;
    }
    if (re.include_state === true) {
      const state: Record<string, unknown> = nullObject();
      for (const roomId of new Set(results.map((x) => x.event.roomId))) {
        const ids = await deps.rooms.currentStateIds(roomId);
        state[roomId] = await toClientEvents(q, deps.rooms.reader, await deps.rooms.reader.getEvents(q, ids.values()));
      }
      roomEvents.state = state;
    }
    ctx.body = { search_categories: { room_events: roomEvents } };

    async function eventContext(ev: LoadedEvent, beforeN: number, afterN: number, profile: boolean) {
      const b = await deps.visibility.filter(
        q,
        me.userId,
        await deps.rooms.reader.getEvents(
          q,
          (await eventsStore.roomEventsBetween(q, ev.roomId, 0, ev.streamOrdering - 1, beforeN, true)).map((x) => x.event_id),
        ),
      );
      const a = await deps.visibility.filter(
        q,
        me.userId,
        await deps.rooms.reader.getEvents(
          q,
          (await eventsStore.roomEventsBetween(q, ev.roomId, ev.streamOrdering, deps.rooms.position, afterN, false)).map((x) => x.event_id),
        ),
      );
      const c: Record<string, unknown> = {
        events_before: await toClientEvents(q, deps.rooms.reader, b, { viewer: me }),
        events_after: await toClientEvents(q, deps.rooms.reader, a, { viewer: me }),
        start: formatPaginationToken((b[b.length - 1]?.streamOrdering ?? ev.streamOrdering) - 1),
        end: formatPaginationToken(a[a.length - 1]?.streamOrdering ?? ev.streamOrdering),
      };
      if (profile) {
        const info: Record<string, unknown> = nullObject();
        for (const e of [...b, ev, ...a]) {
          if (info[e.pdu.sender]) continue;
          const m = await deps.rooms.currentStateEvent(e.roomId, 'm.room.member', e.pdu.sender);
          const p: Record<string, unknown> = nullObject();
          if (typeof m?.pdu.content.displayname === 'string') p.displayname = m.pdu.content.displayname;
          if (typeof m?.pdu.content.avatar_url === 'string') p.avatar_url = m.pdu.content.avatar_url;
          info[e.pdu.sender] = p;
        }
        c.profile_info = info;
      }
      return c;
    }
  });
};
