/**
 * A bounded cache that keeps what was used recently, in two generations of up to capacity/2
 * each: new entries and entries read from the old generation go to the young one; when the young
 * one is full it becomes the old one, and the old one is dropped whole.
 *
 * Capacity counts entries, or with `weigh` the sum of the entries' weights (say, the size of a
 * state map), so that a cache of values of very different sizes is bounded in memory too.
 *
 * Not one Map kept in least-recently-used order: V8's Map leaves a hole for every delete until it
 * next rehashes, and keys().next() walks those holes from the front, so once such a cache was
 * full, each eviction cost more than the one before (10-25 µs with 20,000 entries, measured).
 */
export class Lru<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();
  private youngWeight = 0;
  private oldWeight = 0;
  private readonly half: number;
  /** Called after a generation was dropped (its entries are gone). */
  private readonly onDrop: (() => void) | undefined;
  private readonly weigh: (value: V) => number;

  constructor(capacity: number, onDrop?: () => void, weigh?: (value: V) => number) {
    this.half = Math.max(1, Math.ceil(capacity / 2));
    this.onDrop = onDrop;
    this.weigh = weigh ?? (() => 1);
  }

  get(key: K): V | undefined {
    const v = this.young.get(key);
    if (v !== undefined) return v;
    const o = this.old.get(key);
    if (o !== undefined) {
      this.old.delete(key);
      this.oldWeight -= this.weigh(o);
      this.addYoung(key, o);
    }
    return o;
  }

  set(key: K, value: V): void {
    const current = this.young.get(key);
    if (current !== undefined) {
      this.youngWeight += this.weigh(value) - this.weigh(current);
      this.young.set(key, value);
      return;
    }
    this.deleteOld(key);
    this.addYoung(key, value);
  }

  delete(key: K): void {
    const v = this.young.get(key);
    if (v !== undefined) {
      this.young.delete(key);
      this.youngWeight -= this.weigh(v);
    }
    this.deleteOld(key);
  }

  clear(): void {
    this.young.clear();
    this.old.clear();
    this.youngWeight = 0;
    this.oldWeight = 0;
  }

  get size(): number {
    return this.young.size + this.old.size;
  }

  /** The sum of the entries' weights (their number without `weigh`). */
  get weight(): number {
    return this.youngWeight + this.oldWeight;
  }

  private deleteOld(key: K): void {
    const v = this.old.get(key);
    if (v === undefined) return;
    this.old.delete(key);
    this.oldWeight -= this.weigh(v);
  }

  private addYoung(key: K, value: V): void {
    const w = this.weigh(value);
    if (this.young.size > 0 && this.youngWeight + w > this.half) {
      const dropped = this.old.size > 0;
      this.old = this.young;
      this.oldWeight = this.youngWeight;
      this.young = new Map();
      this.youngWeight = 0;
      if (dropped) this.onDrop?.();
    }
    this.young.set(key, value);
    this.youngWeight += w;
  }
}
