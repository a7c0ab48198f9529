// When to try a destination again after a failed transaction: exponential backoff with a little
// jitter, capped, reset by a success (or by traffic from that server, see destination-queue.ts).
import type { RetryState } from '../../storage/federation-queue-store.ts';

export interface RetryPolicy {
  /** Wait after the first failure. */
  initialMs: number;
  /** The longest wait; reached after about a dozen failures with the defaults. */
  maxMs: number;
  multiplier: number;
  /** Each wait is scaled by a random factor in [1 - jitter, 1 + jitter], so peers do not retry in step. */
  jitter: number;
}

/**
 * 1 s, 2 s, 4 s, ... up to 1 h. A desktop peer is often just asleep or off the network for a while:
 * short first waits resend soon after it returns (and traffic from it wakes the queue at once),
 * while the cap keeps a server gone for good at one attempt an hour.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { initialMs: 1_000, maxMs: 3_600_000, multiplier: 2, jitter: 0.1 };

/** The retry state after one more failure at `now`; `atLeastMs` honours a server's retry_after_ms. */
export function nextRetry(prev: RetryState | undefined, policy: RetryPolicy, now: number, atLeastMs = 0, random: () => number = Math.random): RetryState {
  const interval = prev !== undefined && prev.retryIntervalMs > 0 ? prev.retryIntervalMs * policy.multiplier : policy.initialMs;
  const capped = Math.min(interval, policy.maxMs);
  const delay = Math.max(atLeastMs, Math.round(capped * (1 - policy.jitter + 2 * policy.jitter * random())));
  return { failures: (prev?.failures ?? 0) + 1, retryIntervalMs: capped, nextAttemptTs: now + delay };
}
