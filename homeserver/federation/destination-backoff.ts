// Failures cached per destination (issue #13, class 5): after a server could not be resolved or
// reached, requests for it fail at once until its backoff ends, so a flood of requests naming one
// address becomes at most one connection attempt per window, not one per request. A success, an
// answer of any status, or a signed request from that server (it is alive) clears it and marks the
// server known alive (FederationClient lets only one request at a time try a server not known alive).

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

/** Servers remembered as alive, oldest answer forgotten first: as many as failures, for the same reason. */
export const ALIVE_MAX_ENTRIES = 10_000;

interface Entry {
  failures: number;
  until: number;
}

export class DestinationBackoff {
  private readonly entries = new Map<string, Entry>();
  private readonly alive = new Set<string>();
  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  /** True while `destination` is backing off: do not try to connect. */
  isBackingOff(destination: string): boolean {
    const e = this.entries.get(key(destination));
    return e !== undefined && e.until > this.now();
  }

  /** True when `destination` answered last time it was tried (or sent us a signed request). */
  isKnownAlive(destination: string): boolean {
    return this.alive.has(key(destination));
  }

  failed(destination: string): void {
    const k = key(destination);
    this.alive.delete(k);
    const failures = (this.entries.get(k)?.failures ?? 0) + 1;
    const wait = Math.min(BACKOFF_FIRST_MS * 2 ** Math.min(failures - 1, 30), BACKOFF_MAX_MS);
    // Re-inserted, so the map's order is the order of last failure.
    this.entries.delete(k);
    this.entries.set(k, { failures, until: this.now() + wait });
    if (this.entries.size > BACKOFF_MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
  }

  succeeded(destination: string): void {
    const k = key(destination);
    this.entries.delete(k);
    // Re-inserted, so the set's order is the order of last answer.
    this.alive.delete(k);
    this.alive.add(k);
    if (this.alive.size > ALIVE_MAX_ENTRIES) this.alive.delete(this.alive.values().next().value!);
  }

  get size(): number {
    return this.entries.size;
  }
}

function key(destination: string): string {
  return destination.toLowerCase();
}
