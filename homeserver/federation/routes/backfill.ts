// backfill.yaml: GET /_matrix/federation/v1/backfill/{roomId} and POST /get_missing_events/{roomId}
// (server-server-api "Backfilling and retrieving missing events"). Both walk `prev_events`
// backwards and answer only the events the origin may see; both are ACL-protected.
import type Router from '@koa/router';
import { MatrixError } from '../../http/matrix-error.ts';
import { bodyObject } from '../../http/json-body.ts';
import { param, queryString } from '../../http/params.ts';
import { sortByDepth } from '../../rooms/auth-chain.ts';
import type { LoadedEvent } from '../../rooms/event-reader.ts';
import { toFederationPdu } from '../../rooms/federation-pdu.ts';
import type { FederationServices } from '../services.ts';
import { transaction, viewOf } from './room-data.ts';

/** The most events one request answers, whatever `limit` asks: bounds each request's work. */
export const MAX_BACKFILL = 100;
export const MAX_MISSING_EVENTS = 100;

export function backfillRoutes(router: Router, s: FederationServices): void {
  const q = s.db.reader;
  const reader = s.rooms.reader;

  const loadInRoom = async (roomId: string, ids: Iterable<string>): Promise<LoadedEvent[]> => {
    const out: LoadedEvent[] = [];
    for (const id of ids) {
      const e = await reader.getEvent(q, id);
      if (e && e.roomId === roomId) out.push(e);
    }
    return out;
  };

  router.get('/_matrix/federation/v1/backfill/:roomId', async (ctx) => {
    const roomId = param(ctx, 'roomId');
    const raw = ctx.query.v;
    const v = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    if (v.length === 0) throw new MatrixError(400, 'M_MISSING_PARAM', 'v is required');
    const limitText = queryString(ctx, 'limit');
    if (limitText === undefined) throw new MatrixError(400, 'M_MISSING_PARAM', 'limit is required');
    if (!/^\d+$/.test(limitText)) throw new MatrixError(400, 'M_INVALID_PARAM', 'limit must be a non-negative integer');
    const limit = Math.min(Number(limitText), MAX_BACKFILL);

    const view = viewOf(ctx, s);
    const start = await loadInRoom(roomId, new Set(v));
    if (start.length === 0) {
      await view.assertMayRead(roomId); // 404 for an unknown room, 403 for an outsider, before "no such event"
      throw new MatrixError(404, 'M_NOT_FOUND', 'None of the events in v is known here');
    }
    await view.assertMayRead(roomId, start);

    // Breadth-first backwards through prev_events, deepest first: the given events, then their
    // parents, and so on. Events the origin may not see are walked through but not answered, and
    // the walk is bounded so a long invisible stretch cannot make one request read the whole room.
    const out: LoadedEvent[] = [];
    const seen = new Set<string>();
    const queue = [...start];
    let examined = 0;
    const budget = limit * 10 + 100;
    while (queue.length > 0 && out.length < limit && examined < budget) {
      queue.sort((a, b) => b.pdu.depth - a.pdu.depth || (a.eventId < b.eventId ? 1 : -1));
      const e = queue.shift()!;
      if (seen.has(e.eventId)) continue;
      seen.add(e.eventId);
      examined++;
      if (await view.canSee(e)) out.push(e);
      for (const prev of await loadInRoom(
        roomId,
        e.pdu.prev_events.filter((id) => !seen.has(id)),
      ))
        queue.push(prev);
    }
    ctx.body = transaction(s, out.map(toFederationPdu));
  });

  router.post('/_matrix/federation/v1/get_missing_events/:roomId', async (ctx) => {
    const roomId = param(ctx, 'roomId');
    const body = bodyObject(ctx);
    const earliest = idList(body, 'earliest_events');
    const latest = idList(body, 'latest_events');
    const limit = Math.min(intField(body, 'limit', 10), MAX_MISSING_EVENTS);
    const minDepth = intField(body, 'min_depth', 0);

    const view = viewOf(ctx, s);
    const latestEvents = await loadInRoom(roomId, new Set(latest));
    await view.assertMayRead(roomId, latestEvents);

    // The spec's walk: breadth-first through the prev_events of latest_events, skipping
    // earliest_events (never taken nor walked past), stopping at `limit`; below min_depth nothing
    // is taken or walked. The limit counts the events walked; the ones the origin may not see are
    // left out afterwards.
    const seen = new Set(earliest);
    let front = latestEvents.filter((e) => !seen.has(e.eventId));
    for (const e of front) seen.add(e.eventId);
    const found: LoadedEvent[] = [];
    while (front.length > 0 && found.length < limit) {
      const next: LoadedEvent[] = [];
      for (const e of front) {
        for (const id of e.pdu.prev_events) {
          if (found.length >= limit) break;
          if (seen.has(id)) continue;
          seen.add(id);
          const [prev] = await loadInRoom(roomId, [id]);
          if (!prev || prev.pdu.depth < minDepth) continue;
          found.push(prev);
          next.push(prev);
        }
      }
      front = next;
    }
    const visible = await view.filter(sortByDepth(found));
    ctx.body = { events: visible.map(toFederationPdu) };
  });
}

function idList(body: Record<string, unknown>, key: string): string[] {
  const v = body[key];
  if (v === undefined) throw new MatrixError(400, 'M_MISSING_PARAM', `'${key}' is required`);
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new MatrixError(400, 'M_BAD_JSON', `'${key}' must be a list of event ids`);
  return v as string[];
}

function intField(body: Record<string, unknown>, key: string, dflt: number): number {
  const v = body[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new MatrixError(400, 'M_BAD_JSON', `'${key}' must be a non-negative integer`);
  return v;
}
