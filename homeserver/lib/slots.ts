// A counting semaphore: at most `size` jobs run at once, the others wait in order of arrival.
// With `maxWaiting`, a caller past that many waiters is refused at once (`refuse()` makes its
// error) instead of queuing behind a flood. Used for password hashes (users/passwords.ts),
// thumbnail renders (media/media-service.ts) and initial /syncs (sync/sync-limiter.ts).

export interface SlotsOptions {
  /** Waiters allowed beyond the running jobs; unbounded when absent. */
  maxWaiting?: number;
  /** The error a caller past `maxWaiting` is refused with. */
  refuse?: () => Error;
}

export class Slots {
  private readonly size: number;
  private readonly maxWaiting: number;
  private readonly refuse: () => Error;
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(size: number, opts: SlotsOptions = {}) {
    this.size = Math.max(1, size);
    this.maxWaiting = opts.maxWaiting ?? Infinity;
    this.refuse = opts.refuse ?? (() => new Error('too many jobs waiting'));
  }

  /** Runs `job` once a slot is free; throws `refuse()` when the wait queue is full. */
  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.running >= this.size) {
      if (this.waiting.length >= this.maxWaiting) throw this.refuse();
      // The slot is handed over by the job that ends, so `running` already counts this one.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await job();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  /** Jobs running now (for tests and diagnostics). */
  get active(): number {
    return this.running;
  }
}
