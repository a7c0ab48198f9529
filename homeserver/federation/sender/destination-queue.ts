// One destination's sending loop: at most one transaction in flight; the transaction is assembled
// once from the queue's oldest rows and sent unchanged (same txnId, same contents) until answered,
// so the receiver's idempotency by (origin, txnId) makes a retry harmless (transactions.yaml: "The
// sending server must wait and retry for a 200 OK response before sending a transaction with a
// different txnId"). Failures back off (retry-policy.ts), persisted so that a restart honours them.
import type { Database } from '../../storage/database.ts';
import { federationQueueStore as store, type OutboxTxn, type RetryState, type TxnLimits } from '../../storage/federation-queue-store.ts';
import type { Logger } from '../../http/errors.ts';
import type { FederationClient } from '../client.ts';
import { nextRetry, type RetryPolicy } from './retry-policy.ts';
import { classifyFailure } from './outcome.ts';
import { newTxnId, sendPath, transactionBody } from './transaction.ts';

export interface SenderSettings {
  retry: RetryPolicy;
  limits: TxnLimits;
  /** How long one PUT /send may take before it counts as failed. */
  requestTimeoutMs: number;
}

export interface QueueDeps {
  db: Database;
  client: FederationClient;
  serverName: string;
  log: Logger;
  settings: SenderSettings;
  now: () => number;
  stopping: () => boolean;
}

interface SendResponse {
  pdus?: Record<string, { error?: string }>;
}

export class DestinationQueue {
  readonly destination: string;
  private readonly deps: QueueDeps;
  /** The loop is running (set and cleared synchronously, so no kick is lost in between). */
  private active = false;
  /** Rows were queued while the loop ran: look again before going idle. */
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  /** Undefined until read from storage; null when not backing off. */
  private retry: RetryState | null | undefined;
  private loop: Promise<void> = Promise.resolve();

  constructor(destination: string, deps: QueueDeps) {
    this.destination = destination;
    this.deps = deps;
  }

  /** Something was queued (or a restart found rows): send unless a transaction is in flight or backing off. */
  kick(): void {
    if (this.deps.stopping()) return;
    if (this.active) {
      this.again = true;
      return;
    }
    if (this.timer !== undefined) return;
    this.active = true;
    this.again = false;
    this.loop = this.run();
  }

  /** The destination was seen alive: forget the backoff and send now. */
  wake(): void {
    const backingOff = this.timer !== undefined || (this.retry != null && this.retry.nextAttemptTs > this.deps.now());
    if (!backingOff) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.retry = null;
    this.kick();
  }

  /** Cancels a pending retry; resolves when the loop (its request aborted by the client's close) ends. */
  stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    return this.loop;
  }

  private async run(): Promise<void> {
    const { db, now } = this.deps;
    try {
      for (;;) {
        if (this.deps.stopping()) return;
        if (this.retry === undefined) this.retry = (await store.getRetry(db.reader, this.destination)) ?? null;
        if (this.retry !== null && this.retry.nextAttemptTs > now()) {
          this.schedule(this.retry.nextAttemptTs - now());
          return;
        }
        const txn =
          (await store.pendingTxn(db.reader, this.destination)) ??
          (await db.write((tx) => store.assembleTxn(tx, this.destination, newTxnId(now()), now(), this.deps.settings.limits)));
        if (txn === undefined) {
          if (!this.again) return;
          this.again = false;
          continue;
        }
        if (!(await this.attempt(txn))) return;
      }
    } catch (err) {
      // Storage failed (or closed under us while stopping): try again later, unless stopping.
      if (this.deps.stopping()) return;
      this.deps.log(`federation sender: queue for ${this.destination} failed`, err);
      this.schedule(this.deps.settings.retry.initialMs);
    } finally {
      this.active = false;
    }
  }

  /** Sends `txn` once. True when it is done with (answered or dropped), false when it must wait. */
  private async attempt(txn: OutboxTxn): Promise<boolean> {
    const { client, db, log, settings } = this.deps;
    const body = transactionBody(this.deps.serverName, txn);
    let failure: unknown;
    try {
      const res = await client.request<SendResponse>(this.destination, 'PUT', sendPath(txn.txnId), body, { timeoutMs: settings.requestTimeoutMs });
      this.logRejected(txn.txnId, res);
    } catch (err) {
      failure = err;
    }
    if (failure !== undefined) {
      const verdict = classifyFailure(failure);
      if (verdict.kind === 'drop') {
        log(
          `federation sender: ${this.destination} refused transaction ${txn.txnId} (${txn.pdus.length} PDUs, ${txn.edus.length} EDUs); dropped: ${verdict.reason}`,
        );
      } else if (verdict.kind === 'retry') {
        // A request cut short by our own shutdown says nothing about the destination.
        if (this.deps.stopping()) return false;
        this.retry = nextRetry(this.retry ?? undefined, settings.retry, this.deps.now(), verdict.retryAfterMs);
        const retry = this.retry;
        await db.write((tx) => store.setRetry(tx, this.destination, retry));
        const waitMs = retry.nextAttemptTs - this.deps.now();
        log(
          `federation sender: transaction ${txn.txnId} to ${this.destination} failed (${retry.failures} in a row), next attempt in ${waitMs} ms: ${verdict.reason}`,
        );
        this.schedule(waitMs);
        return false;
      }
    }
    // Answered (or refused for good): its rows and the retry state go in one write.
    await db.write((tx) => store.finishTxn(tx, this.destination, txn.txnId));
    this.retry = null;
    return true;
  }

  private logRejected(txnId: string, res: SendResponse): void {
    const pdus = res.pdus && typeof res.pdus === 'object' ? res.pdus : {};
    const rejected = Object.entries(pdus).filter(([, r]) => r && typeof r === 'object' && typeof r.error === 'string');
    if (rejected.length > 0) {
      this.deps.log(
        `federation sender: ${this.destination} rejected ${rejected.length} PDUs of ${txnId}: ${rejected
          .slice(0, 3)
          .map(([id, r]) => `${id}: ${r.error}`)
          .join('; ')}`,
      );
    }
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.kick();
      },
      Math.max(0, delayMs),
    );
    this.timer.unref();
  }
}
