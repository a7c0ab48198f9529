// GET /sync and filters (sync.yaml, filter.yaml).
import type { Context } from 'koa';
import type { RouteGroup, ClientApiDeps } from './deps.ts';
import { bodyObject, parseJsonText } from '../http/json-body.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { requester } from '../http/auth.ts';
import { param, queryBool, queryInt, queryString } from '../http/params.ts';
import { accountsStore } from '../storage/accounts-store.ts';
import { parseFilter, type Filter } from '../sync/filters.ts';
import { parseSyncToken } from '../sync/sync-token.ts';
import type { StateAfterField } from '../sync/sync-service.ts';

/**
 * Filters one account may keep. A client uploads one per login or settings change (Element reuses
 * its id); 1,000 is years of that, and each POST used to add a row of up to 1 MiB for ever.
 */
const MAX_FILTERS_PER_USER = 1_000;
/** A real filter is well under 1 kB; 64 KiB leaves room for long room and sender lists. */
const MAX_FILTER_BYTES = 64 * 1024;

/** Longest long-poll we hold, whatever the client asks: keeps proxies and shutdown happy. */
const MAX_TIMEOUT_MS = 60_000;

export async function loadFilter(deps: ClientApiDeps, userId: string, spec: string | undefined): Promise<Filter> {
  if (!spec) return {};
  if (spec.trimStart().startsWith('{')) {
    return parseFilter(parseJsonText(spec, 'Inline filter'));
  }
  if (!/^\d+$/.test(spec)) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid filter id '${spec}'`);
  const row = await accountsStore.getFilter(deps.rooms.db.reader, userId, Number(spec));
  if (!row) throw new MatrixError(400, 'M_INVALID_PARAM', `Unknown filter ${spec}`);
  return JSON.parse(row.filter_json) as Filter;
}

/** An AbortSignal that fires when the client goes away, so a long-poll stops waiting for nobody. */
export function clientGone(ctx: Context): AbortSignal {
  const ac = new AbortController();
  ctx.req.on('close', () => ac.abort());
  return ac.signal;
}

function setPresenceParam(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (v !== 'online' && v !== 'offline' && v !== 'unavailable')
    throw new MatrixError(400, 'M_INVALID_PARAM', "set_presence must be 'online', 'offline' or 'unavailable'");
  return v;
}

export const syncRoutes: RouteGroup = (r, deps) => {
  r.get('/sync', deps.auth, async (ctx) => {
    const me = requester(ctx);
    const sinceStr = queryString(ctx, 'since');
    const filterParam = queryString(ctx, 'filter');
    const fullState = queryBool(ctx, 'full_state');
    // use_state_after (spec v1.16); matrix-js-sdk sends only MSC4222's unstable name and reads the
    // unstable field back, so each name is answered in its own kind.
    const stateAfterField: StateAfterField | undefined = queryBool(ctx, 'use_state_after')
      ? 'state_after'
      : queryBool(ctx, 'org.matrix.msc4222.use_state_after')
        ? 'org.matrix.msc4222.state_after'
        : undefined;
    const setPresence = setPresenceParam(queryString(ctx, 'set_presence'));
    const timeoutMs = Math.min(queryInt(ctx, 'timeout', 0), MAX_TIMEOUT_MS);
    const since = sinceStr ? parseSyncToken(sinceStr) : undefined;
    const filter = await loadFilter(deps, me.userId, filterParam);
    const requestKey = JSON.stringify([sinceStr ?? null, filterParam ?? null, fullState, setPresence ?? null, timeoutMs, stateAfterField ?? null]);
    ctx.body = await deps.sync.limiter.run(
      { userId: me.userId, deviceId: me.deviceId, requestKey, initial: since === undefined, signal: clientGone(ctx) },
      (signal) => deps.sync.sync({ userId: me.userId, deviceId: me.deviceId, since, filter, fullState, setPresence, timeoutMs, stateAfterField, signal }),
    );
  });

  r.post('/user/:userId/filter', deps.auth, async (ctx) => {
    const userId = param(ctx, 'userId');
    if (userId !== requester(ctx).userId) throw new MatrixError(403, 'M_FORBIDDEN', 'You may only create filters for yourself');
    const filter = parseFilter(bodyObject(ctx));
    const json = JSON.stringify(filter);
    if (Buffer.byteLength(json) > MAX_FILTER_BYTES) throw new MatrixError(413, 'M_TOO_LARGE', `A filter is limited to ${MAX_FILTER_BYTES} bytes`);
    const id = await deps.rooms.db.write(async (tx) => {
      // Filters are never deleted (the spec has no endpoint for it), so their number is bounded instead.
      if ((await accountsStore.countFilters(tx, userId)) >= MAX_FILTERS_PER_USER) {
        throw new MatrixError(413, 'M_TOO_LARGE', `An account may keep at most ${MAX_FILTERS_PER_USER} filters`);
      }
      return accountsStore.insertFilter(tx, userId, json);
    });
    ctx.body = { filter_id: String(id) };
  });
  r.get('/user/:userId/filter/:filterId', deps.auth, async (ctx) => {
    const userId = param(ctx, 'userId');
    if (userId !== requester(ctx).userId) throw new MatrixError(403, 'M_FORBIDDEN', "You may not read another user's filters");
    const id = param(ctx, 'filterId');
    const row = /^\d+$/.test(id) ? await accountsStore.getFilter(deps.rooms.db.reader, userId, Number(id)) : undefined;
    if (!row) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown filter');
    ctx.body = JSON.parse(row.filter_json);
  });
};
