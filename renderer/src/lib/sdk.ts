// The one place that builds a matrix-js-sdk client. It imports the SDK's modules one by one
// rather than its index, which would also pull in the widget API and crypto store factories;
// the Rust crypto is a lazy chunk that lib/crypto.ts attaches after the first sync.
import { MatrixClient, PendingEventOrdering, type IStartClientOpts } from 'matrix-js-sdk/lib/client.js';
import { MemoryStore } from 'matrix-js-sdk/lib/store/memory.js';
import { MatrixScheduler } from 'matrix-js-sdk/lib/scheduler.js';
import { logger as sdkLogger, type Logger } from 'matrix-js-sdk/lib/logger.js';
import type { CryptoCallbacks } from 'matrix-js-sdk/lib/crypto-api/index.js';
import { INITIAL_SYNC_LIMIT, prefetchingFetch } from './prefetch.ts';

// The SDK logs every request at debug level; a chat window's console should stay readable.
const quiet: Logger = {
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: (...args: unknown[]) => console.warn('[matrix]', ...args),
  error: (...args: unknown[]) => console.error('[matrix]', ...args),
  getChild: () => quiet,
};
(sdkLogger as unknown as { setLevel?: (level: string) => void }).setLevel?.('warn');

export interface ClientCredentials {
  userId: string;
  accessToken: string;
  deviceId: string;
}

export interface ClientHooks {
  /** Wraps the SDK's fetch (lib/crypto.ts's SyncGate, until the crypto is attached). */
  wrapFetch?: (fetchFn: typeof prefetchingFetch) => typeof prefetchingFetch;
  /** Where the crypto asks for the secret storage key (lib/key-backup.ts). */
  cryptoCallbacks?: CryptoCallbacks;
}

export function makeClient(baseUrl: string, creds?: ClientCredentials, hooks: ClientHooks = {}): MatrixClient {
  return new MatrixClient({
    baseUrl,
    ...(creds ?? {}),
    store: new MemoryStore({ localStorage: undefined }),
    scheduler: new MatrixScheduler(),
    // No VoIP: it would poll for TURN servers Hearth does not have.
    disableVoip: true,
    logger: quiet,
    // Answers the start-up requests main.ts sent early from what the server already returned.
    fetchFn: hooks.wrapFetch ? hooks.wrapFetch(prefetchingFetch) : prefetchingFetch,
    ...(hooks.cryptoCallbacks ? { cryptoCallbacks: hooks.cryptoCallbacks } : {}),
  });
}

/** How the signed-in client syncs. lib/prefetch.ts sends the requests this start makes first. */
export const START_OPTIONS: IStartClientOpts = {
  initialSyncLimit: INITIAL_SYNC_LIMIT,
  // Our own messages wait in room.getPendingEvents() until the server has them, so the
  // timeline can show them as pending or failed without reordering the history.
  pendingEventOrdering: PendingEventOrdering.Detached,
  lazyLoadMembers: false,
  // Thread replies (rel_type m.thread) go to their thread's own timeline, not the room's: the
  // main timeline shows the root with a summary, the side panel the thread (ThreadPanel.svelte).
  // Counts are unchanged: the sync filter already asks for unread_thread_notifications, and
  // Room.getUnreadNotificationCount adds each thread's to the room's.
  threadSupport: true,
};

export type { MatrixClient };
