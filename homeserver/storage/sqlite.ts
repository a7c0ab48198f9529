// Promise wrappers over one sqlite3 connection, with a cache of prepared statements.
import sqlite3 from 'sqlite3';

export type SqlValue = string | number | bigint | null | Buffer;
export type Row = Record<string, SqlValue>;

/** Methods shared by the writer (inside a transaction) and the reader. */
export interface Queryable {
  get<T = Row>(sql: string, ...params: SqlValue[]): Promise<T | undefined>;
  all<T = Row>(sql: string, ...params: SqlValue[]): Promise<T[]>;
  run(sql: string, ...params: SqlValue[]): Promise<{ lastID: number; changes: number }>;
}

export class Connection implements Queryable {
  private readonly db: sqlite3.Database;
  private readonly statements = new Map<string, sqlite3.Statement>();

  private constructor(db: sqlite3.Database) {
    this.db = db;
  }

  static open(file: string, readOnly = false): Promise<Connection> {
    const mode = readOnly ? sqlite3.OPEN_READONLY : sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE;
    return new Promise((resolve, reject) => {
      const db = new sqlite3.Database(file, mode, (err) => (err ? reject(err) : resolve(new Connection(db))));
    });
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
    // Through all(): it steps the statement to the end, which resets it in the same hop to SQLite's
    // thread. get() would leave it mid-step, pinning an old WAL snapshot until a second reset() hop.
    return new Promise((resolve, reject) => {
      this.statement(sql).all(params, (err: Error | null, rows: T[]) => (err ? reject(err) : resolve(rows[0])));
    });
  }

  all<T = Row>(sql: string, ...params: SqlValue[]): Promise<T[]> {
    return new Promise((resolve, reject) => {
      this.statement(sql).all(params, (err: Error | null, rows: T[]) => (err ? reject(err) : resolve(rows)));
    });
  }

  run(sql: string, ...params: SqlValue[]): Promise<{ lastID: number; changes: number }> {
    return new Promise((resolve, reject) => {
      this.statement(sql).run(params, function (this: sqlite3.RunResult, err: Error | null) {
        if (err) reject(err);
        else resolve({ lastID: this.lastID, changes: this.changes });
      });
    });
  }

  /** Runs SQL without a prepared statement: pragmas, transaction control, migrations. */
  exec(sql: string): Promise<void> {
    return new Promise((resolve, reject) => this.db.exec(sql, (err) => (err ? reject(err) : resolve())));
  }

  async close(): Promise<void> {
    for (const st of this.statements.values()) await new Promise<void>((r) => st.finalize(() => r()));
    this.statements.clear();
    await new Promise<void>((resolve, reject) => this.db.close((err) => (err ? reject(err) : resolve())));
  }
}
