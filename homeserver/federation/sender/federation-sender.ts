// The outbound side of federation (the `Outbound` of services.ts): PDUs and EDUs are queued per
// destination in SQLite, in call order, and each destination's queue (destination-queue.ts) sends
// them as transactions. Rows survive a restart; start() resumes every queue that has some.
import type { JsonObject, PDU } from '../../protocol/types.ts';
import type { Queryable } from '../../storage/sqlite.ts';
import { federationQueueStore as store, type QueueEntry, type RetryState } from '../../storage/federation-queue-store.ts';
import type { FederationServices, Outbound } from '../services.ts';
import { DestinationQueue, type SenderSettings } from './destination-queue.ts';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry-policy.ts';
import { MAX_EDUS_PER_TXN, MAX_PDUS_PER_TXN, MAX_TXN_BYTES, newTxnId, sendPath } from './transaction.ts';
import { federationRoomsStore } from '../../storage/federation-rooms-store.ts';
import { serverOfUser } from '../../rooms/servers-in-room.ts';
import { outgoingPdu } from './outgoing-pdu.ts';
import { pduQueueEntries } from './pdu-feed.ts';

export interface SenderOptions {
  retry?: Partial<RetryPolicy>;
  limits?: Partial<SenderSettings['limits']>;
  requestTimeoutMs?: number;
  now?: () => number;
}

/** How long stop() waits for a transaction in flight before letting the database close anyway. */
const STOP_WAIT_MS = 10_000;

export class FederationSender implements Outbound {
  readonly settings: SenderSettings;
  private readonly s: FederationServices;
  private readonly now: () => number;
  private readonly queues = new Map<string, DestinationQueue>();
  private started = false;
  private stopped = false;

  constructor(s: FederationServices, opts: SenderOptions = {}) {
    this.s = s;
    this.now = opts.now ?? Date.now;
    this.settings = {
      retry: { ...DEFAULT_RETRY_POLICY, ...opts.retry },
      limits: { maxPdus: MAX_PDUS_PER_TXN, maxEdus: MAX_EDUS_PER_TXN, maxBytes: MAX_TXN_BYTES, ...opts.limits },
      requestTimeoutMs: opts.requestTimeoutMs ?? 60_000,
    };
    // Registered at once, so that events committed before start() are queued too. The rows are
    // written in the events' own transaction; the destinations are kicked once it has committed.
    const toKick = new Set<string>();
    s.rooms.inTransactionWithEvents(async (tx, events) => {
      const entries = await pduQueueEntries(tx, s.serverName, events);
      if (entries.length === 0) return;
      await store.enqueue(tx, entries, this.now());
      for (const e of entries) toKick.add(e.destination);
    });
    s.rooms.onCommitted(() => {
      if (toKick.size === 0 || !this.started || this.stopped) return;
      for (const d of toKick) this.queueFor(d).kick();
      toKick.clear();
    });
  }

  /** Changes backoff or limits at run time (tests use short backoffs). */
  configure(opts: Omit<SenderOptions, 'now'>): void {
    Object.assign(this.settings.retry, opts.retry);
    Object.assign(this.settings.limits, opts.limits);
    if (opts.requestTimeoutMs !== undefined) this.settings.requestTimeoutMs = opts.requestTimeoutMs;
  }

  /** Resumes every destination with queued rows (after a restart: catch-up, at its own backoff). */
  async start(): Promise<void> {
    this.started = true;
    for (const d of await store.destinationsWithQueue(this.s.db.reader)) this.queueFor(d).kick();
    void this.announceStart();
  }

  /**
   * After a restart, an empty transaction to every server we share a room with: any signed request
   * wakes the receiver's queue for us (wake-on-traffic), so what it held back while we were down
   * comes now rather than at its next backoff, which after a long outage may be as long again.
   */
  private async announceStart(): Promise<void> {
    try {
      const users = await federationRoomsStore.usersSharingRoomsWithServer(this.s.db.reader, this.s.serverName);
      const servers = this.remote(users.map((u) => serverOfUser(u)).filter((x): x is string => x !== undefined));
      for (let i = 0; i < servers.length && !this.stopped; i += 8) {
        await Promise.allSettled(
          servers.slice(i, i + 8).map((server) => {
            const txnId = newTxnId(this.now());
            return this.s.client.request(
              server,
              'PUT',
              sendPath(txnId),
              { origin: this.s.serverName, origin_server_ts: this.now(), pdus: [], edus: [] },
              { timeoutMs: 10_000 },
            );
          }),
        );
      }
    } catch (err) {
      this.s.log('federation sender: could not announce the start', err);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    let timer: NodeJS.Timeout | undefined;
    const loops = Promise.allSettled([...this.queues.values()].map((q) => q.stop()));
    await Promise.race([loops, new Promise((r) => (timer = setTimeout(r, STOP_WAIT_MS)))]);
    clearTimeout(timer);
  }

  sendPdus(destinations: Iterable<string>, pdus: PDU[]): Promise<void> {
    const dests = this.remote(destinations);
    const json = pdus.map((p) => JSON.stringify(outgoingPdu(p)));
    return this.enqueue(async () => dests.flatMap((destination) => json.map((j) => ({ destination, kind: 'pdu' as const, json: j }))));
  }

  sendEdu(destinations: Iterable<string>, eduType: string, content: JsonObject): Promise<void> {
    const json = JSON.stringify({ edu_type: eduType, content });
    return this.enqueue(async () => this.remote(destinations).map((destination) => ({ destination, kind: 'edu' as const, json })));
  }

  wake(destination: string): void {
    if (this.started && !this.stopped) this.queues.get(destination)?.wake();
  }

  /** When `destination` is tried next after failures, or undefined when it is not failing. */
  retryOf(destination: string): Promise<RetryState | undefined> {
    return store.getRetry(this.s.db.reader, destination);
  }

  /** Rows still queued for `destination` (sent ones are deleted). */
  queued(destination: string): Promise<number> {
    return store.queuedCount(this.s.db.reader, destination);
  }

  /**
   * Queues what `build` returns in one write job, started synchronously so that calls queue in
   * call order (the writer runs jobs first come, first served), then kicks each destination.
   */
  private enqueue(build: (tx: Queryable) => Promise<QueueEntry[]>): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const written = this.s.db.write(async (tx) => {
      const entries = (await build(tx)).filter((e) => e.destination !== this.s.serverName);
      await store.enqueue(tx, entries, this.now());
      return new Set(entries.map((e) => e.destination));
    });
    return written.then((dests) => {
      if (!this.started || this.stopped) return;
      for (const d of dests) this.queueFor(d).kick();
    });
  }

  private remote(destinations: Iterable<string>): string[] {
    return [...new Set(destinations)].filter((d) => d !== this.s.serverName);
  }

  private queueFor(destination: string): DestinationQueue {
    let q = this.queues.get(destination);
    if (!q) {
      q = new DestinationQueue(destination, {
        db: this.s.db,
        client: this.s.client,
        serverName: this.s.serverName,
        log: this.s.log,
        settings: this.settings,
        now: this.now,
        stopping: () => this.stopped,
      });
      this.queues.set(destination, q);
    }
    return q;
  }
}
