// End-to-end encryption (matrix-js-sdk's Rust crypto), attached to the running client once the
// room list is on screen, so that the first paint never waits for its 7.8 MB of WebAssembly.
//
// matrix-js-sdk expects initRustCrypto() before startClient(): its sync loop hands each /sync's
// to-device messages, device list changes and one-time key counts to the crypto it had at start.
// Started later, nothing may be lost on the way: to-device messages (room keys, verification
// requests) are delivered once, and the server deletes them when the next /sync acknowledges
// them (client-server-api "Send-to-Device messaging"). So until the crypto is attached,
// SyncGate keeps a copy of every /sync answer and holds back the next /sync request (for up to
// SYNC_HOLD_MS); attaching replays the kept answers' encryption parts into the crypto, registers the encrypted rooms,
// hands the crypto to the sync loop, decrypts what is already loaded, then lets /sync go on.
import type { MatrixClient } from 'matrix-js-sdk/lib/client.js';
import { processSyncCryptoChanges } from 'matrix-js-sdk/lib/sync.js';
import type { MatrixEvent } from 'matrix-js-sdk/lib/models/event.js';
import type { Room } from 'matrix-js-sdk/lib/models/room.js';

type FetchFn = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

/** The encryption parts of a /sync answer (client-server-api "Extensions to /sync" of E2EE). */
interface SyncCryptoParts {
  to_device?: { events?: unknown[] };
  device_lists?: { changed?: string[]; left?: string[] };
  device_one_time_keys_count?: Record<string, number>;
  device_unused_fallback_key_types?: string[];
}

/** What the gate kept of the /sync answers it let through, merged, for the crypto to read once. */
export interface KeptCryptoChanges {
  toDeviceEvents: unknown[];
  deviceLists: { changed: string[]; left: string[] };
  /** The latest answer's counts: each answer states the whole count, not a change. */
  oneTimeKeysCounts: Record<string, number>;
  unusedFallbackKeys: string[] | undefined;
}

const SYNC_PATH = /\/_matrix\/client\/v3\/sync(\?|$)/;

/**
 * How long the next /sync may wait for the crypto. Loading it takes well under a second from the
 * HTTP cache, a few on a slow link; past this the chat goes on live, and the gate keeps copies of
 * the /sync answers (to-device messages included) for the crypto to read when it is ready.
 */
export const SYNC_HOLD_MS = 10_000;

/**
 * How many to-device messages the gate keeps for a crypto that has not loaded (yet). Past it, the
 * gate holds /sync again until the crypto is attached or has failed: the messages it has not
 * acknowledged stay on the server (client-server-api "Send-to-Device messaging"), so nothing is
 * dropped, and memory stays bounded if the crypto never loads. A thousand is ten of the server's
 * fullest /sync answers (Hearth sends at most 100 messages and 1 MiB per answer), far more than a
 * login brings; room keys are 1-2 kB, so a few MB, and 10 MiB at worst.
 */
export const SYNC_KEEP_MAX_TO_DEVICE = 1000;

/**
 * The SDK's fetch while the crypto is not attached. Each /sync answer that arrives before it is
 * attached gives its encryption parts to the gate, which keeps them for the crypto, and its
 * to-device messages are taken out of the answer the SDK reads: each message then reaches the
 * crypto exactly once, either replayed from here or from the SDK's own sync loop once attached,
 * never both (the SDK may process an answer after the crypto has been handed to it).
 * The /sync that acknowledges a kept answer (a `since` token) waits for open(), up to SYNC_HOLD_MS,
 * and without time limit once SYNC_KEEP_MAX_TO_DEVICE messages are kept.
 */
export class SyncGate {
  private toDevice: unknown[] = [];
  private changed = new Set<string>();
  private left = new Set<string>();
  private counts: Record<string, number> | undefined;
  private fallbackKeys: string[] | undefined;
  private kept = false;
  private opened = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private releaseHold: () => void = () => {};
  private readonly holdOver = new Promise<void>((resolve) => (this.releaseHold = resolve));
  private releaseOpen: () => void = () => {};
  private readonly openPromise = new Promise<void>((resolve) => (this.releaseOpen = resolve));

  private readonly inner: FetchFn;

  private readonly holdMs: number;

  private readonly maxToDevice: number;

  constructor(inner: FetchFn, holdMs = SYNC_HOLD_MS, maxToDevice = SYNC_KEEP_MAX_TO_DEVICE) {
    this.inner = inner;
    this.holdMs = holdMs;
    this.maxToDevice = maxToDevice;
  }

  readonly fetch: FetchFn = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (this.opened || !SYNC_PATH.test(url)) return this.inner(input, init);
    if (new URL(url, 'http://x').searchParams.has('since')) {
      this.timer ??= setTimeout(() => this.releaseHold(), this.holdMs);
      await this.wait(this.toDevice.length >= this.maxToDevice ? this.openPromise : this.holdOver, init?.signal);
    }
    const response = await this.inner(input, init);
    if (this.opened || !response.ok) return response;
    const data = (await response
      .clone()
      .json()
      .catch(() => null)) as (SyncCryptoParts & Record<string, unknown>) | null;
    // Attached meanwhile: the SDK's sync loop hands this answer to the crypto itself.
    if (this.opened || !data || typeof data !== 'object') return response;
    const events = Array.isArray(data.to_device?.events) ? data.to_device.events : [];
    this.keep(data, events);
    if (events.length === 0) return response;
    const { to_device: _taken, ...rest } = data;
    // A new body: the old one's length and encoding no longer describe it.
    const headers = new Headers(response.headers);
    headers.delete('content-length');
    headers.delete('content-encoding');
    return new Response(JSON.stringify(rest), { status: response.status, statusText: response.statusText, headers });
  };

  private keep(data: SyncCryptoParts, events: unknown[]): void {
    this.kept = true;
    this.toDevice.push(...events);
    // A user's latest change wins: "left" after "changed" means no longer shares a room, and back.
    for (const userId of data.device_lists?.changed ?? []) {
      this.left.delete(userId);
      this.changed.add(userId);
    }
    for (const userId of data.device_lists?.left ?? []) {
      this.changed.delete(userId);
      this.left.add(userId);
    }
    if (data.device_one_time_keys_count) this.counts = data.device_one_time_keys_count;
    if (data.device_unused_fallback_key_types) this.fallbackKeys = data.device_unused_fallback_key_types;
  }

  /** What the kept answers said, merged, oldest message first; each is given once (null: nothing kept). */
  takeCaptured(): KeptCryptoChanges | null {
    if (!this.kept) return null;
    const kept: KeptCryptoChanges = {
      toDeviceEvents: this.toDevice,
      deviceLists: { changed: [...this.changed], left: [...this.left] },
      oneTimeKeysCounts: this.counts ?? {},
      unusedFallbackKeys: this.fallbackKeys,
    };
    this.clear();
    return kept;
  }

  /** How many to-device messages are kept, waiting to be taken. */
  get pending(): number {
    return this.toDevice.length;
  }

  /** The crypto is attached (or will never be): stop keeping copies, let /sync go. */
  open(): void {
    this.opened = true;
    this.clear();
    clearTimeout(this.timer);
    this.releaseHold();
    this.releaseOpen();
  }

  private clear(): void {
    this.toDevice = [];
    this.changed = new Set();
    this.left = new Set();
    this.counts = undefined;
    this.fallbackKeys = undefined;
    this.kept = false;
  }

  private wait(until: Promise<void>, signal?: AbortSignal | null): Promise<void> {
    if (!signal) return until;
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      until.then(resolve).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }
}

/**
 * The Rust crypto's IndexedDB store is named per user and device: a kept session finds its keys
 * again after a reload, and another account on the same browser profile never opens them.
 */
export function cryptoStorePrefix(userId: string, deviceId: string): string {
  return `hearth-crypto:${userId}:${deviceId}`;
}

/**
 * Takes the store's Web Lock for as long as the page lives, or says it is taken. Two windows of
 * one session each running the Rust crypto on the same IndexedDB store overwrite each other's
 * Olm sessions and one-time keys, and room keys are lost (Element holds a session lock for the
 * same reason). The second window goes on without crypto: its encrypted messages stay unread.
 */
function holdStoreLock(prefix: string): Promise<boolean> {
  const locks = (navigator as Navigator & { locks?: LockManager }).locks;
  if (!locks) return Promise.resolve(true);
  return new Promise<boolean>((resolve) => {
    void locks.request(`${prefix}::lock`, { ifAvailable: true }, (lock) => {
      resolve(lock !== null);
      // Held until the page goes: the lock is released with it.
      return lock ? new Promise<void>(() => {}) : undefined;
    });
  });
}

/** The databases the Rust crypto makes under a prefix (matrix-sdk-indexeddb's names). */
function cryptoDatabases(prefix: string): string[] {
  return [`${prefix}::matrix-sdk-crypto`, `${prefix}::matrix-sdk-crypto-meta`];
}

/** Deletes this device's keys from the browser: on sign-out the device is gone for good. */
export async function deleteCryptoStore(userId: string, deviceId: string): Promise<void> {
  await Promise.all(
    cryptoDatabases(cryptoStorePrefix(userId, deviceId)).map(
      (name) =>
        new Promise<void>((resolve) => {
          const req = indexedDB.deleteDatabase(name);
          req.onsuccess = req.onerror = req.onblocked = () => resolve();
        }),
    ),
  );
}

/** What matrix-js-sdk keeps private and attaching needs: its crypto backend and sync loop. */
interface ClientInternals {
  cryptoBackend?: Parameters<typeof processSyncCryptoChanges>[1] & {
    onCryptoEvent(room: Room, event: MatrixEvent): Promise<void>;
    onSyncCompleted(state: object): void;
  };
  syncApi?: { syncOpts: { cryptoCallbacks?: unknown } };
}

/**
 * Loads the Rust crypto (its own chunk, then its WebAssembly) and attaches it to the running
 * client as if it had been there from the start. The gate opens whatever happens: without
 * crypto, the chat still works and encrypted messages show as unreadable.
 */
export async function attachCrypto(client: MatrixClient, gate: SyncGate, userId: string, deviceId: string): Promise<void> {
  try {
    if (!(await holdStoreLock(cryptoStorePrefix(userId, deviceId))))
      throw new Error('this session is open in another window or tab: its encryption keys are used there');
    await client.initRustCrypto({ cryptoDatabasePrefix: cryptoStorePrefix(userId, deviceId) });
    const internals = client as unknown as ClientInternals;
    const backend = internals.cryptoBackend;
    if (!backend || !internals.syncApi) throw new Error('matrix-js-sdk changed: no crypto backend or sync loop to attach to');
    // Past SYNC_HOLD_MS, answers may still arrive while these are replayed: replay until none is
    // left, then hand the crypto to the sync loop in the same synchronous step (an answer that
    // arrives after it is the sync loop's alone: the gate no longer takes its to-device messages).
    for (let kept = gate.takeCaptured(); kept; kept = gate.takeCaptured()) {
      await processSyncCryptoChanges(client, backend, { ...kept, toDeviceEvents: kept.toDeviceEvents as never[] });
    }
    internals.syncApi.syncOpts.cryptoCallbacks = backend;
    gate.open();
    // What the sync loop does for each m.room.encryption state event it sees (sync.js): the
    // crypto then encrypts for the room, and refuses to send to it in the clear.
    for (const room of client.getRooms()) {
      const encryption = room.currentState.getStateEvents('m.room.encryption', '');
      if (encryption) await backend.onCryptoEvent(room, encryption);
    }
    // Uploads this device's keys now rather than after the next /sync.
    backend.onSyncCompleted({});
    for (const room of client.getRooms()) {
      for (const ev of room.getLiveTimeline().getEvents()) if (ev.isEncrypted()) void client.decryptEventIfNeeded(ev);
    }
  } finally {
    gate.open();
  }
}
