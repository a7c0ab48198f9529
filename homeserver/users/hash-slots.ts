// A counting semaphore with a bounded wait queue, for work that holds a scarce resource (a libuv
// pool thread and 32 MiB for each scrypt). Past the queue's bound a caller is refused at once
// instead of waiting behind a flood.
import { MatrixError } from '../http/matrix-error.ts';

export class HashSlots {
  private readonly slots: number;
  private readonly maxWaiting: number;
  /** How long a refused caller is told to wait: about the time the queue ahead takes to drain. */
  private readonly retryAfterMs: number;
  private busy = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(slots: number, maxWaiting: number, retryAfterMs: number) {
    this.slots = slots;
    this.maxWaiting = maxWaiting;
    this.retryAfterMs = retryAfterMs;
  }

  /** Runs `job` once a slot is free; throws 429 M_LIMIT_EXCEEDED when the queue is full. */
  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.busy >= this.slots) {
      if (this.waiting.length >= this.maxWaiting) {
        // client-server-api "Rate limiting": 429 with retry_after_ms.
        throw new MatrixError(429, 'M_LIMIT_EXCEEDED', 'Too many password checks at once; try again shortly', {
          retry_after_ms: this.retryAfterMs,
        });
      }
      // The slot is handed over by release(), so `busy` already counts us when we wake.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.busy += 1;
    }
    try {
      return await job();
    } finally {
      this.release();
    }
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.busy -= 1;
  }
}
