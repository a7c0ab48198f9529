// Wakes long-polling /sync and /events requests when something arrives for their user.
// Positions only move forward after the data they name is committed.

interface Waiter {
  resolve: () => void;
  timer: NodeJS.Timeout;
}

export class Notifier {
  private readonly waiters = new Map<string, Set<Waiter>>();
  /** Bumped on every change; a waiter that saw version v returns at once when it moved. */
  private version = 0;
  private stopped = false;

  /** Resolves when `userId` is notified, after `timeoutMs`, or at shutdown; whichever comes first. */
  wait(userId: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.stopped || timeoutMs <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      let set = this.waiters.get(userId);
      if (!set) this.waiters.set(userId, (set = new Set()));
      const mine = set;
      let done = false;
      const onAbort = () => waiter.resolve();
      const waiter: Waiter = {
        // Once only: a waiter is ended by whichever comes first (notify, timeout, abort), and the
        // others may still fire. A second run must not touch the map: by then the user's set may be
        // a newer one, and deleting it would leave that long-poll deaf to every later notify and to
        // shutdown (a /sync woken by a notify whose client then went away did exactly that to the
        // same user's /events).
        resolve: () => {
          if (done) return;
          done = true;
          clearTimeout(waiter.timer);
          signal?.removeEventListener('abort', onAbort);
          mine.delete(waiter);
          if (mine.size === 0 && this.waiters.get(userId) === mine) this.waiters.delete(userId);
          resolve();
        },
        timer: setTimeout(() => waiter.resolve(), timeoutMs),
      };
      mine.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  notifyUsers(userIds: Iterable<string>): void {
    this.version++;
    for (const u of userIds) {
      const set = this.waiters.get(u);
      if (set) for (const w of [...set]) w.resolve();
    }
  }

  get changeVersion(): number {
    return this.version;
  }

  /** Ends every long-poll so that shutdown can finish in-flight requests promptly. */
  stop(): void {
    this.stopped = true;
    for (const set of [...this.waiters.values()]) for (const w of [...set]) w.resolve();
  }
}
