// Failures cached per destination (issue #13, class 5): after a server could not be resolved or
// reached, requests for it fail at once until its backoff ends, so a flood of requests naming one
// address becomes at most one connection attempt per window, not one per request. A success, an
// answer of any status, or a signed request from that server (it is alive) clears it.

/** The wait after the first failure: short, as a desktop peer is often only briefly away. */
export const BACKOFF_FIRST_MS = 1_000;
/**
 * The longest wait: five minutes keeps a dead or refused name at a dozen attempts an hour however
 * many requests name it, and a server back from a longer absence wakes it by contacting us.
 */
export const BACKOFF_MAX_MS = 5 * 60_000;
/**
 * Destinations remembered at most, oldest forgotten first: every name in a request could land
 * here, and 10,000 entries (~1 MB) cover far more real peers than a home server talks to.
 */
export const BACKOFF_MAX_ENTRIES = 10_000;

interface Entry {
  failures: number;
  until: number;
}

export class DestinationBackoff {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  /** True while `destination` is backing off: do not try to connect. */
  isBackingOff(destination: string): boolean {
    const e = this.entries.get(key(destination));
    return e !== undefined && e.until > this.now();
  }

  failed(destination: string): void {
    const k = key(destination);
    const failures = (this.entries.get(k)?.failures ?? 0) + 1;
    const wait = Math.min(BACKOFF_FIRST_MS * 2 ** Math.min(failures - 1, 30), BACKOFF_MAX_MS);
    // Re-inserted, so the map's order is the order of last failure.
    this.entries.delete(k);
    this.entries.set(k, { failures, until: this.now() + wait });
    if (this.entries.size > BACKOFF_MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
  }

  succeeded(destination: string): void {
    this.entries.delete(key(destination));
  }

  get size(): number {
    return this.entries.size;
  }
}

function key(destination: string): string {
  return destination.toLowerCase();
}
