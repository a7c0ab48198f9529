// Indexes new events for search (storage/search-store.ts) behind the timeline, rather than in
// each event's own transaction: a send's SQL skips FTS5 (measured: about a sixth of a message's
// SQL), and the index is brought up to date in batches, once the server has been quiet for a
// moment, once enough has piled up, and always before a search reads it.
import type { Database } from '../storage/database.ts';
import { searchStore } from '../storage/search-store.ts';

/** Events indexed per write job: short enough not to hold up sends behind it for long. */
const BATCH = 500;
/** Indexing starts this long after the last event when nothing more came. */
const QUIET_MS = 250;
/** ...or at once when this many events are waiting. */
const MAX_BACKLOG = 2_000;

export class SearchIndexer {
  private readonly db: Database;
  private readonly log: (msg: string, err?: unknown) => void;
  private backlog = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  /** A background catch-up is queued or running: another would find nothing more. */
  private queued = false;

  constructor(db: Database, log: (msg: string, err?: unknown) => void) {
    this.db = db;
    this.log = log;
  }

  /** At start: what the last run left unindexed is indexed once the server is quiet. */
  resume(): void {
    this.schedule();
  }

  /** `count` events were committed: index them soon. */
  appended(count: number): void {
    if (count === 0) return;
    this.backlog += count;
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    if (this.backlog >= MAX_BACKLOG) {
      this.inBackground();
      return;
    }
    this.timer = setTimeout(() => this.inBackground(), QUIET_MS);
    this.timer.unref();
  }

  /** Settles once every event committed before the call is indexed. */
  catchUp(): Promise<void> {
    const run = this.running.catch(() => {}).then(() => this.indexAll());
    this.running = run;
    return run;
  }

  /** Stops scheduling; waits for indexing under way. What is left is indexed after the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running.catch(() => {});
  }

  private inBackground(): void {
    if (this.queued) return;
    this.queued = true;
    this.catchUp()
      .catch((err: unknown) => this.log('search indexing failed', err))
      .finally(() => {
        this.queued = false;
        // Events committed while it ran, after it had read past them or not.
        if (this.backlog > 0) this.schedule();
      });
  }

  private async indexAll(): Promise<void> {
    clearTimeout(this.timer);
    this.backlog = 0;
    while (!this.stopped && (await this.db.write((tx) => searchStore.indexNext(tx, BATCH))) === BATCH);
  }
}
