// Which keys (rooms, users) a stream changed for, and at what position, kept in memory from a
// known starting point: an incremental /sync asks "did anything change for this key after my
// token?" and skips the query when nothing did. Positions before the starting point (a token from
// before this process started, or before the cache was last emptied) are answered "maybe", and
// the caller queries as before. The idea is Synapse's StreamChangeCache.

/** Keys kept at most; past this the cache starts over from its current position. */
const MAX_KEYS = 100_000;

export class StreamChangeCache {
  private readonly latest = new Map<string, number>();
  /** Every change after this position is in `latest`. */
  private earliest: number;
  private current: number;

  constructor(position: number) {
    this.earliest = position;
    this.current = position;
  }

  /** The highest position recorded (or the starting one). */
  get position(): number {
    return this.current;
  }

  /** `key` changed at `position` (committed). Positions may arrive out of order. */
  record(key: string, position: number): void {
    if (position > this.current) this.current = position;
    if (position <= this.earliest) return;
    if ((this.latest.get(key) ?? -Infinity) < position) this.latest.set(key, position);
    if (this.latest.size > MAX_KEYS) {
      this.latest.clear();
      this.earliest = this.current;
    }
  }

  /** False only when certainly nothing changed for `key` after `since`. */
  mayHaveChanged(key: string, since: number): boolean {
    if (since < this.earliest) return true;
    return (this.latest.get(key) ?? -Infinity) > since;
  }

  /** The keys that changed after `since`, or undefined when the cache cannot tell. */
  changedSince(since: number): Set<string> | undefined {
    if (since < this.earliest) return undefined;
    const out = new Set<string>();
    if (since >= this.current) return out;
    for (const [key, position] of this.latest) if (position > since) out.add(key);
    return out;
  }
}
