// Keeps a timeline row's object from one update to the next while nothing it shows has changed.
// Every update rebuilds all the rows (the SDK mutates its events in place, so the rows are plain
// copies); Svelte's keyed {#each} compares each row with the one it had by identity, so a new but
// equal object reruns that row's template for nothing. With 1,000 messages loaded, each page of
// back-pagination re-rendered every row already there; reusing the equal ones leaves Svelte only
// the new and changed rows.

/**
 * Same value for a row's field: identical, or plain arrays and objects (a list of lines, a
 * message's content, its readers) with the same values all the way down. Anything else, such as
 * the SDK's event, counts as the same only when identical.
 */
function sameField(a: unknown, b: unknown, depth = 0): boolean {
  if (a === b) return true;
  if (depth > 4 || typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((item, i) => sameField(item, b[i], depth + 1));
  if (Array.isArray(b) || Object.getPrototypeOf(a) !== Object.prototype || Object.getPrototypeOf(b) !== Object.prototype) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => sameField((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], depth + 1));
}

function sameRow(a: object, b: object): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => sameField((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

export class RowReuse<T extends { key: string }> {
  private last = new Map<string, T>();

  /** `rows`, each replaced by the previous update's object for its key when all fields are the same. */
  reuse(rows: T[]): T[] {
    const kept = new Map<string, T>();
    const out = rows.map((row) => {
      const prev = this.last.get(row.key);
      const r = prev !== undefined && sameRow(prev, row) ? prev : row;
      kept.set(row.key, r);
      return r;
    });
    this.last = kept;
    return out;
  }
}
