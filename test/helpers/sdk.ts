// Shared setup for tests that drive Hearth with matrix-js-sdk, a client nobody here wrote:
// a quiet logger, a fetch that validates every response against the spec's OpenAPI, SDK-driven
// registration and a started sync loop.
import assert from 'node:assert/strict';
import { ClientEvent, createClient, Filter, MatrixError, PendingEventOrdering, SyncState, type MatrixClient } from 'matrix-js-sdk';
import { logger as sdkGlobalLogger } from 'matrix-js-sdk/lib/logger.js';
import type { Logger } from 'matrix-js-sdk/lib/logger.js';
import type { TestServer } from './server.ts';
import { clientServerValidator, validatingFetch } from './openapi.ts';
import { waitForAsync as pollUntil } from './poll.ts';

export const PASSWORD = 'correct horse battery staple';
export const WAIT_MS = 15_000;

// The SDK logs every request at debug level; keep its warnings and errors for a failing run.
export const sdkLog: string[] = [];
const keep =
  (level: string) =>
  (...msg: unknown[]) =>
    void sdkLog.push(`${level}: ${msg.map(String).join(' ')}`);
export const quietLogger: Logger = { trace: () => {}, debug: () => {}, info: () => {}, warn: keep('warn'), error: keep('error'), getChild: () => quietLogger };
// Parts of the SDK (MatrixRTCSession, ...) log through children of its global loglevel logger,
// which copy its methodFactory (lib/logger.js): replace that factory before any child exists.
const sdkRoot = sdkGlobalLogger as unknown as { methodFactory: (method: string) => (...msg: unknown[]) => void; rebuild(): void };
sdkRoot.methodFactory = (method) => (method === 'warn' || method === 'error' ? keep(method) : () => {});
sdkRoot.rebuild();

// matrix-js-sdk's timeoutSignal() (lib/http-api/utils.js) arms a setTimeout of pollTimeout + 80 s
// for every /sync request and never clears it; those timers would hold this test process open
// for two minutes after the last test. Unref timers that long, which nothing here waits for.
const realSetTimeout = globalThis.setTimeout;
globalThis.setTimeout = ((fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
  const timer = realSetTimeout(fn, ms, ...args);
  if ((ms ?? 0) >= 80_000) timer.unref();
  return timer;
}) as unknown as typeof setTimeout;

// Endpoints outside the spec the SDK probes (MSC4143 RTC transports); a 404 M_UNRECOGNIZED is
// what it expects, and the wrapper still checks that it is a standard error body.
export const validator = clientServerValidator({ allowUnknownPaths: [/^\/_matrix\/client\/unstable\//] });
export const fetchFn = validatingFetch(validator);

/** Polls until `check` returns a truthy value; fails naming what it waited for. */
export async function waitFor<T>(what: string, check: () => T | undefined | null | false, timeoutMs = WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\nSDK log:\n${sdkLog.slice(-20).join('\n')}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Like waitFor, for checks that must await (the crypto API, another server's answers). */
export function waitForAsync<T>(what: string, check: () => Promise<T | undefined | null | false>, timeoutMs = WAIT_MS): Promise<T> {
  return pollUntil(what, check, timeoutMs);
}

/** Registers through the SDK: the first request answers 401 with a UIA session, the second completes m.login.dummy. */
export async function registerWithSdk(server: Pick<TestServer, 'url'>, username: string): Promise<{ userId: string; accessToken: string; deviceId: string }> {
  const anon = createClient({ baseUrl: server.url, fetchFn, logger: quietLogger });
  let session: string | undefined;
  try {
    await anon.registerRequest({ username, password: PASSWORD });
    assert.fail('registration without auth must answer 401 with UIA flows');
  } catch (err) {
    assert.ok(err instanceof MatrixError && err.httpStatus === 401, `expected a UIA 401, got ${String(err)}`);
    session = (err.data as { session?: string }).session;
    const flows = (err.data as { flows?: Array<{ stages: string[] }> }).flows ?? [];
    assert.ok(
      flows.some((f) => f.stages.includes('m.login.dummy')),
      'the server offers m.login.dummy',
    );
  }
  const res = await anon.registerRequest({ username, password: PASSWORD, auth: { type: 'm.login.dummy', session } });
  assert.ok(res.access_token && res.device_id);
  return { userId: res.user_id, accessToken: res.access_token, deviceId: res.device_id };
}

/** A client that keeps every sync's timeline limit large, so nothing is lost to a gap while we compare order. */
export async function startSyncing(client: MatrixClient, opts: { timelineLimit?: number; initialSyncLimit?: number } = {}): Promise<void> {
  const filter = new Filter(client.getUserId()!);
  filter.setDefinition({ room: { timeline: { limit: opts.timelineLimit ?? 200 } } });
  const errors: string[] = [];
  client.on(ClientEvent.Sync, (state, _prev, data) => {
    if (state === SyncState.Error) errors.push(String(data?.error));
  });
  // Detached: a client's own messages wait outside the live timeline until their remote echo
  // arrives through /sync, so the live timeline is exactly what /sync delivered, in server order.
  await client.startClient({ filter, initialSyncLimit: opts.initialSyncLimit ?? 20, pendingEventOrdering: PendingEventOrdering.Detached });
  await waitFor(`${client.getUserId()} to finish its first sync (errors: ${errors.join('; ')})`, () => client.isInitialSyncComplete());
}
