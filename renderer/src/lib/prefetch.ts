// Start-up requests sent before the client bundle has even been compiled. A signed-in start is
// sure to ask for /versions, the push rules, a sync filter and the initial /sync, and
// matrix-js-sdk asks for them one after another, each waiting for the last. On a fresh profile
// the bundle's compile alone takes hundreds of milliseconds; the page's small entry script sends
// these requests first, so the server answers them meanwhile, and the SDK's fetch
// (prefetchingFetch) is handed each answer when it makes exactly that request. A request the SDK
// makes differently (another filter, a newer SDK) simply misses and goes to the network.
// This module must stay free of the SDK and of Svelte: it is part of the entry chunk.
import type { Session } from './session.ts';

/** Timeline events per room in the first /sync (MatrixClient.startClient's initialSyncLimit). */
export const INITIAL_SYNC_LIMIT = 30;

/**
 * The filter matrix-js-sdk's SyncApi builds with lazyLoadMembers off, against a server that
 * advertises MSC3773 thread notifications (spec v1.4): it POSTs it for later syncs, and sends it
 * inline, with a timeline limit, for the first one.
 */
const SYNC_FILTER = { room: { timeline: { unread_thread_notifications: true } } };

interface Prefetched {
  authorization: string;
  response: Promise<Response>;
}

const prefetched = new Map<string, Prefetched>();

/** Answers the SDK has not asked for by then (a session the server ended, say) are let go. */
const UNCLAIMED_TTL_MS = 60_000;
let expiresAt = 0;

/** Sends the start-up requests for `session`; their answers wait for the SDK to ask. */
export function prefetchStartup(session: Session): void {
  const base = session.baseUrl.replace(/\/+$/, '');
  const userPath = `/_matrix/client/v3/user/${encodeURIComponent(session.userId)}/filter`;
  const initialFilter = JSON.stringify({ room: { timeline: { ...SYNC_FILTER.room.timeline, limit: INITIAL_SYNC_LIMIT } } });
  const syncQuery = new URLSearchParams({ filter: initialFilter, timeout: '0', 'org.matrix.msc4222.use_state_after': 'true' });
  send(session, 'GET', `${base}/_matrix/client/versions`);
  send(session, 'GET', `${base}/_matrix/client/v3/pushrules/`);
  send(session, 'POST', `${base}${userPath}`, JSON.stringify(SYNC_FILTER));
  send(session, 'GET', `${base}/_matrix/client/v3/sync?${syncQuery}`);
  expiresAt = Date.now() + UNCLAIMED_TTL_MS;
}

function send(session: Session, method: string, url: string, body?: string): void {
  const key = keyOf(method, url, body);
  if (key === undefined) return;
  const authorization = `Bearer ${session.accessToken}`;
  const headers: Record<string, string> = { Accept: 'application/json', Authorization: authorization };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = fetch(url, { method, headers, body, credentials: 'omit', referrerPolicy: 'no-referrer' });
  // A prefetch nobody claims must not surface as an unhandled rejection.
  response.catch(() => {});
  prefetched.set(key, { authorization, response });
}

/**
 * The SDK's fetch (its `fetchFn` option): the prefetched answer when one matches the request's
 * method, URL (the initial sync's `_cacheBuster` aside), body and access token, used once; the
 * network otherwise. A prefetch that failed is sent again as the SDK's own request.
 */
export function prefetchingFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  if (prefetched.size > 0 && Date.now() > expiresAt) prefetched.clear();
  const hit = prefetched.size > 0 ? claim(input, init) : undefined;
  if (!hit) return fetch(input, init);
  const response = hit.catch(() => fetch(input, init));
  const signal = init?.signal;
  if (!signal) return response;
  if (signal.aborted) return Promise.reject(signal.reason);
  // As fetch() does, an abort (the client stopping, its local timeout) rejects with the reason.
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    response.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function claim(input: RequestInfo | URL, init?: RequestInit): Promise<Response> | undefined {
  if (input instanceof Request) return undefined;
  const body = init?.body;
  if (body !== undefined && body !== null && typeof body !== 'string') return undefined;
  const key = keyOf(init?.method ?? 'GET', input, body ?? undefined);
  const entry = key === undefined ? undefined : prefetched.get(key);
  if (!entry || new Headers(init?.headers).get('authorization') !== entry.authorization) return undefined;
  prefetched.delete(key!);
  return entry.response;
}

/** Method, origin, path, query parameters in a fixed order (without `_cacheBuster`) and body. */
function keyOf(method: string, url: string | URL, body: string | undefined): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url, globalThis.location?.href);
  } catch {
    return undefined;
  }
  const params = [...parsed.searchParams].filter(([name]) => name !== '_cacheBuster').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${method.toUpperCase()} ${parsed.origin}${parsed.pathname}?${new URLSearchParams(params)}\n${body ?? ''}`;
}
