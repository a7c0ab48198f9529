// Failed attempts per key (an account, an address) with a growing wait: a few mistakes are free,
// then each further failure doubles the time before the next attempt is heard, up to a ceiling.
// Like Synapse's rc_login.failed_attempts, but the wait grows, so guessing slows down for good.

interface Entry {
  failures: number;
  lastFailureMs: number;
  /** No attempt is heard before this time. */
  untilMs: number;
}

export interface BackoffPolicy {
  /** Failures allowed before any wait. */
  freeFailures: number;
  /** The wait after the first failure past the free ones; doubled by each further one. */
  firstWaitMs: number;
  maxWaitMs: number;
  /** A key with no failure for this long starts again from nothing. */
  forgetAfterMs: number;
}

/**
 * Past the free failures: 5 s, then 10, 20, 40 s... up to a quarter of an hour, so a guesser gets
 * about eight tries in the first half hour and four an hour after that, while a person who
 * mistyped waits seconds. A day without failures forgets the account (or address).
 */
export const LOGIN_BACKOFF = { firstWaitMs: 5000, maxWaitMs: 15 * 60 * 1000, forgetAfterMs: 24 * 60 * 60 * 1000 } as const;

/**
 * Keys remembered at once (~150 bytes each: a few MB at most). When full, forgotten keys go
 * first, then the least recently failed: an attacker can only push out the oldest entries,
 * and must get past the per-address limit with each of the new keys to do it.
 */
export const MAX_BACKOFF_ENTRIES = 20_000;

export class FailureBackoff {
  private readonly entries = new Map<string, Entry>();
  private readonly policy: BackoffPolicy;
  private readonly now: () => number;
  private readonly maxEntries: number;

  constructor(policy: BackoffPolicy, now: () => number = Date.now, maxEntries = MAX_BACKOFF_ENTRIES) {
    this.policy = policy;
    this.now = now;
    this.maxEntries = maxEntries;
  }

  /** Ms until an attempt for `key` may be heard; 0 when it may be now. */
  waitMs(key: string): number {
    const e = this.entries.get(key);
    return e ? Math.max(0, e.untilMs - this.now()) : 0;
  }

  failed(key: string): void {
    const now = this.now();
    let e = this.entries.get(key);
    if (e && now - e.lastFailureMs > this.policy.forgetAfterMs) e = undefined;
    this.entries.delete(key);
    if (!e && this.entries.size >= this.maxEntries) this.evict(now);
    const failures = (e?.failures ?? 0) + 1;
    const over = failures - this.policy.freeFailures;
    // 2 ** over grows past any ceiling long before it overflows; min() keeps it there.
    const wait = over <= 0 ? 0 : Math.min(this.policy.maxWaitMs, this.policy.firstWaitMs * 2 ** Math.min(over - 1, 40));
    this.entries.set(key, { failures, lastFailureMs: now, untilMs: now + wait });
  }

  succeeded(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  private evict(now: number): void {
    for (const [k, e] of this.entries) {
      if (now - e.lastFailureMs > this.policy.forgetAfterMs) this.entries.delete(k);
    }
    const target = Math.floor(this.maxEntries * 0.9);
    for (const k of this.entries.keys()) {
      if (this.entries.size <= target) break;
      this.entries.delete(k);
    }
  }
}
