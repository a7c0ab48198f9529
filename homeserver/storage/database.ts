// The database: one writer connection that batches transactions (group commit) and one reader.
// Every write job's changes are durable (COMMIT with synchronous=FULL) before its promise resolves,
// so a handler that awaits its write and then answers never acknowledges anything a crash can lose.
import { Connection, type Queryable } from './sqlite.ts';
import { runMigrations } from './migrations/run.ts';

export type WriteJob<T> = (tx: Queryable) => Promise<T>;

interface Pending {
  job: WriteJob<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  /** Runs in a transaction of its own: its batch failed in SQLite, and each job now goes alone. */
  alone?: boolean;
}

type Outcome = { ok: boolean; value: unknown };

/** A batch whose jobs have run, waiting for its COMMIT. */
interface Committing {
  batch: Pending[];
  outcomes: Outcome[];
  commit: Promise<void>;
}

/** Jobs taken into one transaction at most; bounds latency of the first job in a busy batch. */
const MAX_BATCH = 64;

export class Database {
  readonly reader: Connection;
  private readonly writer: Connection;
  private queue: Pending[] = [];
  private draining = false;
  private closed = false;
  private idleWaiters: Array<() => void> = [];
  /** Called after a batch failed to commit: in-memory caches built on its writes are stale. */
  onCommitFailure: () => void = () => {};

  private constructor(writer: Connection, reader: Connection) {
    this.writer = writer;
    this.reader = reader;
  }

  static async open(file: string): Promise<Database> {
    const writer = await Connection.open(file);
    // WAL lets the reader run beside the writer; FULL makes each COMMIT durable across power loss too.
    // Migrations commit with NORMAL, sparing a new data dir a sync per migration: in WAL mode that
    // is still atomic and consistent (a crash can only undo whole migrations, which run again at the
    // next start), and the first FULL commit syncs the log they went to as well.
    await writer.exec('PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;');
    await runMigrations(writer);
    await writer.exec('PRAGMA synchronous=FULL');
    // From here on the writer runs jobs in transactions: see guardTransactions() for why.
    writer.guardTransactions();
    const reader = await Connection.open(file);
    await reader.exec('PRAGMA busy_timeout=5000; PRAGMA query_only=ON;');
    return new Database(writer, reader);
  }

  /**
   * Runs `job` inside a transaction on the writer. Jobs that arrive while a commit is in flight
   * share the next transaction, each in its own SAVEPOINT so one job's failure undoes only its own
   * changes. The promise settles after COMMIT returned.
   */
  write<T>(job: WriteJob<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('database is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ job: job as WriteJob<unknown>, resolve: resolve as (v: unknown) => void, reject });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    const w = this.writer;
    // The batch whose COMMIT is on its way to SQLite while the next batch's jobs run here: the
    // connection runs statements in order, so the next BEGIN follows that COMMIT.
    let committing: Committing | undefined;
    while (this.queue.length > 0 || committing) {
      if (this.queue.length === 0) {
        await this.finishCommit(committing!);
        committing = undefined;
        continue;
      }
      const batch = this.queue[0]!.alone ? this.queue.splice(0, 1) : this.queue.splice(0, this.batchSize());
      // Transaction control is queued like the jobs' own deferred writes (Queryable.defer), so it
      // reaches SQLite in the same hop as the statements around it.
      const begin = w.defer('BEGIN IMMEDIATE');
      let outcomes: Outcome[] | undefined;
      let thrown: { error: unknown } | undefined;
      try {
        if (batch.length === 1) {
          // Alone in its transaction, a job needs no savepoint: its failure rolls back the whole.
          outcomes = [{ ok: true, value: await batch[0]!.job(w) }];
        } else {
          outcomes = await this.runTogether(batch);
        }
      } catch (error) {
        thrown = { error };
      }
      // This batch ran on top of the previous one, uncommitted until now: if that one failed, so
      // does this one, whatever its own outcome.
      if (committing) {
        const previous = committing;
        committing = undefined;
        if (!(await this.finishCommit(previous, batch))) continue;
      }
      try {
        if (thrown) {
          if (batch.length > 1) throw thrown.error;
          // A lone job that threw: its transaction is undone, and it alone fails.
          w.discardQueued(begin);
          w.forgetKeys();
          await w.settled();
          w.takeFlushFailure();
          if (w.sent(begin)) await w.exec('ROLLBACK');
          batch[0]!.reject(thrown.error);
          continue;
        }
        // The jobs returned, so a write of theirs that failed on the way fails the commit.
        await this.failIfAFlushFailed();
        // The jobs' last deferred writes run in the COMMIT's hop; their failure is the commit's.
        const commit = w.exec('COMMIT');
        commit.catch(() => {});
        committing = { batch, outcomes: outcomes!, commit };
      } catch (error) {
        await this.rollBack();
        if (batch.length === 1) batch[0]!.reject(error);
        // Each job of a failed batch runs again in a transaction of its own, so that only the one
        // at fault fails (the others may have failed only because it did).
        else this.queue.unshift(...batch.map((p) => ({ ...p, alone: true })));
      }
    }
    this.draining = false;
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /**
   * Waits for a batch's COMMIT and settles its jobs. When it failed, everything since is rolled
   * back: a lone job fails; the jobs of a larger batch, and those of `after` (the batch that ran
   * on top of it), go back to the front of the queue. Returns whether it committed.
   */
  private async finishCommit(c: Committing, after: Pending[] = []): Promise<boolean> {
    try {
      await c.commit;
    } catch (error) {
      await this.rollBack();
      const again = [...(c.batch.length > 1 ? c.batch.map((p) => ({ ...p, alone: true })) : []), ...after];
      if (c.batch.length === 1) c.batch[0]!.reject(error);
      this.queue.unshift(...again);
      return false;
    }
    c.batch.forEach((p, i) => (c.outcomes[i]!.ok ? p.resolve(c.outcomes[i]!.value) : p.reject(c.outcomes[i]!.value)));
    return true;
  }

  /** Undoes the open transaction and forgets what jobs built in memory on its writes. */
  private async rollBack(): Promise<void> {
    const w = this.writer;
    w.discardQueued();
    w.forgetKeys();
    await w.settled();
    w.takeFlushFailure();
    await w.exec('ROLLBACK').catch(() => {});
    this.onCommitFailure();
  }

  /** Jobs at the head of the queue that may share a transaction (up to the first that must go alone). */
  private batchSize(): number {
    const n = this.queue.findIndex((p) => p.alone);
    return Math.min(MAX_BATCH, n === -1 ? this.queue.length : n);
  }

  /**
   * Runs several jobs in one transaction, each in its own SAVEPOINT so that a job that throws is
   * undone alone. A job's deferred writes leave for SQLite as soon as it returns, and run there
   * while the next job runs here. A write that fails in SQLite fails the batch: drain() then runs
   * each of its jobs again alone.
   */
  private async runTogether(batch: Pending[]): Promise<Outcome[]> {
    const w = this.writer;
    const outcomes: Outcome[] = [];
    for (const p of batch) {
      const savepoint = w.defer('SAVEPOINT job');
      let value: unknown;
      try {
        value = await p.job(w);
      } catch (err) {
        w.discardQueued(savepoint);
        w.forgetKeys();
        if (w.sent(savepoint)) await w.exec('ROLLBACK TO job; RELEASE job');
        outcomes.push({ ok: false, value: err });
        continue;
      }
      w.defer('RELEASE job');
      // Its failure is taken by failIfAFlushFailed() below.
      void w.kick();
      outcomes.push({ ok: true, value });
    }
    await this.failIfAFlushFailed();
    return outcomes;
  }

  /** Throws the failure of any write sent so far in this transaction: then it must not commit. */
  private async failIfAFlushFailed(): Promise<void> {
    await this.writer.settled();
    const failure = this.writer.takeFlushFailure();
    if (failure) throw failure.error;
  }

  /** Waits for queued writes, then closes both connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.draining) await new Promise<void>((r) => this.idleWaiters.push(r));
    await this.reader.close();
    await this.writer.exec('PRAGMA wal_checkpoint(TRUNCATE)').catch(() => {});
    await this.writer.close();
  }
}
