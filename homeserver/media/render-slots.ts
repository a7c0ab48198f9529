// A bound on thumbnail renders running at once. sharp decodes into memory (a 100-megapixel source
// is hundreds of MB) and each render occupies a libvips thread; without a bound, a burst of
// requests for different media multiplies both. Waiters queue in order of arrival.

/**
 * Two renders at once: the machine Hearth targets (a desktop, often 2 to 4 cores) keeps cores for
 * everything else, and a render of a standard size takes tens of milliseconds, so the queue drains
 * fast. Renders of one thumbnail share one job before they get here (MediaService.rendered).
 */
export const MAX_CONCURRENT_RENDERS = 2;

export class RenderSlots {
  private readonly limit: number;
  private running = 0;
  private readonly queue: Array<() => void> = [];

  constructor(limit = MAX_CONCURRENT_RENDERS) {
    this.limit = Math.max(1, limit);
  }

  /** Runs `fn` once a slot is free. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.queue.push(resolve));
    else this.running++;
    try {
      return await fn();
    } finally {
      // Hand the slot straight to the next waiter, so that `running` never drops below what runs.
      const next = this.queue.shift();
      if (next) next();
      else this.running--;
    }
  }

  /** Renders running now (for tests and diagnostics). */
  get active(): number {
    return this.running;
  }
}
