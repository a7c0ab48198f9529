// Promise wrappers over one sqlite3 connection, with a cache of prepared statements, and writes
// that wait for the connection's next statement so that many travel in one hop to SQLite's thread.
import sqlite3 from 'sqlite3';

export type SqlValue = string | number | bigint | null | Buffer;
export type Row = Record<string, SqlValue>;

/** Methods shared by the writer (inside a transaction) and the reader. */
export interface Queryable {
  get<T = Row>(sql: string, ...params: SqlValue[]): Promise<T | undefined>;
  all<T = Row>(sql: string, ...params: SqlValue[]): Promise<T[]>;
  run(sql: string, ...params: SqlValue[]): Promise<{ lastID: number; changes: number }>;
  /**
   * Queues a write whose result the caller does not need. Queued writes run in order, before
   * anything else this connection runs next, most of them together in one hop to SQLite's thread.
   * In a write job they run at the latest when the job ends, and if one fails the job fails
   * (storage/database.ts): as if it had been awaited, only later.
   */
  defer(sql: string, ...params: SqlValue[]): void;
  /**
   * The key SQLite would give the next row inserted into `table` (one more than the largest
   * `column`, its INTEGER PRIMARY KEY), for a row that names its own key because its insert is
   * deferred. Each call reserves one more; a transaction that rolls back hands them out again.
   */
  nextKey(table: string, column: string): Promise<number>;
}

/**
 * Result codes after which SQLite may have rolled back the whole transaction, not only the
 * statement that failed (https://www.sqlite.org/lang_transaction.html "Response To Errors Within A
 * Transaction"). The driver names the primary code; IOERR's extended codes share its prefix.
 */
function mayHaveEndedTransaction(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code === 'SQLITE_FULL' || code === 'SQLITE_BUSY' || code === 'SQLITE_NOMEM' || code.startsWith('SQLITE_IOERR'));
}

/**
 * A statement refused because an earlier one may have ended the transaction (see
 * Connection.guardTransactions()). It keeps that failure's code and cause, so a full disk still
 * reads as one (storage/disk-errors.ts).
 */
export class TransactionLostError extends Error {
  readonly code: unknown;
  constructor(failure: unknown) {
    super(`refused: an earlier statement failed (${String((failure as Error)?.message ?? failure)}) and SQLite may have rolled the transaction back`, {
      cause: failure,
    });
    this.code = (failure as { code?: unknown } | null)?.code;
  }
}

/** A queued write: SQL text with its values written in, or a statement to run prepared. */
type Queued = string | { sql: string; params: SqlValue[] };

export class Connection implements Queryable {
  private readonly db: sqlite3.Database;
  private readonly statements = new Map<string, sqlite3.Statement>();
  /** Queued writes in order, each with its number (see sent()). */
  private queued: Array<{ seq: number; item: Queued }> = [];
  private nextSeq = 1;
  /** Queued writes numbered up to this have been handed to SQLite (or failed on the way). */
  private sentThrough = 0;
  /** Settles once the queued writes taken so far have run; statements wait for it, in order. */
  private flushing: Promise<void> | undefined;
  /** Per `table.column`, the last key nextKey() handed out. */
  private readonly keys = new Map<string, number>();
  /** The first failure of a flush since takeFlushFailure() last asked (see kick()). */
  private flushFailure: { error: unknown } | undefined;
  /** Set by guardTransactions(): statements go one at a time, and none after a failure that may have ended the transaction. */
  private guarded = false;
  /** That failure, until the next ROLLBACK. */
  private lost: { error: unknown } | undefined;
  /** Settles when the statement last sent on a guarded connection has run. */
  private tail: Promise<void> | undefined;

  private constructor(db: sqlite3.Database) {
    this.db = db;
  }

  static open(file: string, readOnly = false): Promise<Connection> {
    const mode = readOnly ? sqlite3.OPEN_READONLY : sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE;
    return new Promise((resolve, reject) => {
      const db = new sqlite3.Database(file, mode, (err) => (err ? reject(err) : resolve(new Connection(db))));
    });
  }

  /**
   * For the connection that writes in transactions. SQLITE_FULL (and IOERR, BUSY, NOMEM) in the
   * middle of a transaction may roll the whole of it back; the statements after would then run in
   * autocommit mode and each commit on its own, while the jobs they belong to are failed and run
   * again (written twice), or told that they succeeded without their earlier writes. So after such
   * a failure every statement is refused with a TransactionLostError until the next ROLLBACK, and
   * statements are sent one at a time, so that none is already on its way when one fails.
   */
  guardTransactions(): void {
    this.guarded = true;
  }

  /** Sends one statement (or SQL text) through the guard, when there is one. */
  private send<T>(start: () => Promise<T>, isRollback = false): Promise<T> {
    if (!this.guarded) return start();
    const go = (): Promise<T> => {
      if (isRollback && this.lost) {
        // The transaction may be gone already: "no transaction is active" is the expected answer.
        this.lost = undefined;
        return start().catch(() => undefined as T);
      }
      if (this.lost) return Promise.reject(new TransactionLostError(this.lost.error));
      return start().catch((err: unknown) => {
        if (mayHaveEndedTransaction(err)) this.lost ??= { error: err };
        throw err;
      });
    };
    const sent = this.tail ? this.tail.then(go) : go();
    const tail = sent.then(
      () => {},
      () => {},
    );
    this.tail = tail;
    void tail.then(() => {
      if (this.tail === tail) this.tail = undefined;
    });
    return sent;
  }

  private statement(sql: string): sqlite3.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  get<T = Row>(sql: string, ...params: SqlValue[]): Promise<T | undefined> {
    return this.all<T>(sql, ...params).then((rows) => rows[0]);
  }

  all<T = Row>(sql: string, ...params: SqlValue[]): Promise<T[]> {
    // get() comes through here too: all() steps the statement to the end, which resets it in the
    // same hop to SQLite's thread. get() would leave it mid-step, pinning an old WAL snapshot
    // until a second reset() hop.
    const barrier = this.barrier();
    if (barrier) return barrier.then(() => this.all<T>(sql, ...params));
    return this.send(
      () =>
        new Promise((resolve, reject) => {
          this.statement(sql).all(params, (err: Error | null, rows: T[]) => (err ? reject(err) : resolve(rows)));
        }),
    );
  }

  run(sql: string, ...params: SqlValue[]): Promise<{ lastID: number; changes: number }> {
    const barrier = this.barrier();
    if (barrier) return barrier.then(() => this.run(sql, ...params));
    return this.send(
      () =>
        new Promise((resolve, reject) => {
          this.statement(sql).run(params, function (this: sqlite3.RunResult, err: Error | null) {
            if (err) reject(err);
            else resolve({ lastID: this.lastID, changes: this.changes });
          });
        }),
    );
  }

  /** Returns the write's number, for sent() and discardQueued(). */
  defer(sql: string, ...params: SqlValue[]): number {
    const seq = this.nextSeq++;
    this.queued.push({ seq, item: inlineValues(sql, params) ?? { sql, params } });
    return seq;
  }

  async nextKey(table: string, column: string): Promise<number> {
    if (!/^\w+$/.test(table) || !/^\w+$/.test(column)) throw new Error(`bad table or column name: ${table}.${column}`);
    const name = `${table}.${column}`;
    if (!this.keys.has(name)) {
      const row = await this.get<{ max: number | null }>(`SELECT MAX(${column}) AS max FROM ${table}`);
      if (!this.keys.has(name)) this.keys.set(name, row?.max ?? 0);
    }
    const key = this.keys.get(name)! + 1;
    this.keys.set(name, key);
    return key;
  }

  /** Forgets the keys nextKey() handed out: the writes that used them were rolled back (or never sent). */
  forgetKeys(): void {
    this.keys.clear();
  }

  /** Whether queued write `seq` has left the queue for SQLite. */
  sent(seq: number): boolean {
    return seq <= this.sentThrough;
  }

  /** Drops the queued writes numbered `from` and later that have not been sent: their job failed. */
  discardQueued(from = 0): void {
    this.queued = this.queued.filter((q) => q.seq < from);
  }

  /**
   * Runs SQL without a prepared statement: pragmas, transaction control, migrations. Queued writes
   * run first, in the same hop when they can.
   */
  exec(sql: string): Promise<void> {
    if (this.flushing) return this.flushing.then(() => this.exec(sql));
    if (this.queued.length === 0) return this.execNow(sql);
    this.queued.push({ seq: this.nextSeq++, item: sql });
    return this.flush();
  }

  /**
   * Starts sending the queued writes now, rather than with the next statement, so that SQLite runs
   * them while the caller goes on; undefined when nothing is queued or a flush is already on its way
   * (the writes then go with the next one). Nobody may learn of a failure from the returned promise:
   * takeFlushFailure() does.
   */
  kick(): Promise<void> | undefined {
    if (this.flushing || this.queued.length === 0) return undefined;
    return this.flush();
  }

  /** Waits until no flush is on its way; failures are left to takeFlushFailure(). */
  async settled(): Promise<void> {
    while (this.flushing) await this.flushing.catch(() => {});
  }

  /** The first flush failure since the last call, and forgets it: a transaction that had one must not commit. */
  takeFlushFailure(): { error: unknown } | undefined {
    const f = this.flushFailure;
    this.flushFailure = undefined;
    return f;
  }

  /** Settles when queued writes have run; undefined when there is nothing to wait for. */
  private barrier(): Promise<void> | undefined {
    if (this.flushing) return this.flushing;
    if (this.queued.length > 0) return this.flush();
    return undefined;
  }

  /** Sends the queued writes: consecutive SQL texts as one exec, prepared ones one by one. */
  private flush(): Promise<void> {
    const items = this.queued.map((q) => q.item);
    this.sentThrough = this.queued[this.queued.length - 1]!.seq;
    this.queued = [];
    const done = (async () => {
      let text: string[] = [];
      for (const item of items) {
        if (typeof item === 'string') {
          text.push(item);
          continue;
        }
        if (text.length > 0) await this.execNow(text.join(';\n'));
        text = [];
        await this.runNow(item.sql, item.params);
      }
      if (text.length > 0) await this.execNow(text.join(';\n'));
    })();
    const flushing = done.finally(() => {
      if (this.flushing === flushing) this.flushing = undefined;
    });
    this.flushing = flushing;
    // A failure reaches whoever waits on this flush, and is kept for takeFlushFailure(); the copy
    // kept here must not count as unhandled.
    flushing.catch((error: unknown) => {
      this.flushFailure ??= { error };
    });
    return flushing;
  }

  private execNow(sql: string): Promise<void> {
    return this.send(() => new Promise((resolve, reject) => this.db.exec(sql, (err) => (err ? reject(err) : resolve()))), sql === 'ROLLBACK');
  }

  private runNow(sql: string, params: SqlValue[]): Promise<void> {
    return this.send(() => new Promise((resolve, reject) => this.statement(sql).run(params, (err: Error | null) => (err ? reject(err) : resolve()))));
  }

  async close(): Promise<void> {
    for (const st of this.statements.values()) await new Promise<void>((r) => st.finalize(() => r()));
    this.statements.clear();
    await new Promise<void>((resolve, reject) => this.db.close((err) => (err ? reject(err) : resolve())));
  }
}

/**
 * `sql` with each `?` replaced by its value as an SQL literal, stored exactly as the sqlite3
 * driver would bind it: a whole number that fits 32 bits as INTEGER, any other number as REAL,
 * text as UTF-8 TEXT, a Buffer as a BLOB. Undefined when a value has no exact literal (a fraction,
 * a bigint, text holding NUL, which would end the SQL text early), or when the SQL holds a quote
 * or a placeholder other than `?` and so cannot be scanned this simply: such a write then runs as
 * a prepared statement.
 */
export function inlineValues(sql: string, params: SqlValue[]): string | undefined {
  if (/['"`[$:@;]|--|\/\*|\?\d/.test(sql)) return undefined;
  const parts = sql.split('?');
  if (parts.length !== params.length + 1) return undefined;
  let out = parts[0]!;
  for (let i = 0; i < params.length; i++) {
    const literal = sqlLiteral(params[i]!);
    if (literal === undefined) return undefined;
    out += literal + parts[i + 1]!;
  }
  return out;
}

function sqlLiteral(v: SqlValue): string | undefined {
  if (v === null) return 'NULL';
  if (typeof v === 'string') return v.includes('\u0000') ? undefined : `'${v.replaceAll("'", "''")}'`;
  if (typeof v === 'number') {
    // Negative numbers in parentheses: `x -?` must not become `x --5`, a comment.
    if ((v | 0) === v) return v < 0 ? `(${v})` : String(v | 0);
    // The driver binds other numbers as doubles; an integral one within 2^53 is exact as `N.0`.
    if (!Number.isInteger(v) || Math.abs(v) > Number.MAX_SAFE_INTEGER) return undefined;
    return v < 0 ? `(${v}.0)` : `${v}.0`;
  }
  if (Buffer.isBuffer(v)) return `X'${v.toString('hex')}'`;
  return undefined;
}
