// Deferred writes (Queryable.defer) on a real SQLite file: they store exactly what a bound
// statement stores, run in order before anything else on the connection, are committed before
// write() resolves, and a failing one fails its own job only.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection, inlineValues, type SqlValue } from '../../../homeserver/storage/sqlite.ts';
import { Database } from '../../../homeserver/storage/database.ts';

const dir = mkdtempSync(join(tmpdir(), 'hearth-deferred-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('a deferred write stores what a bound statement stores', () => {
  let conn: Connection;
  before(async () => {
    conn = await Connection.open(join(dir, 'values.sqlite'));
    // Untyped and TEXT columns keep the difference between INTEGER, REAL, TEXT and BLOB visible.
    await conn.exec('CREATE TABLE v (k INTEGER, untyped, txt TEXT, num INTEGER)');
  });
  after(() => conn.close());

  const values: Array<[string, SqlValue]> = [
    ['null', null],
    ['zero', 0],
    ['negative zero', -0],
    ['a 32-bit integer', 2147483647],
    ['a negative integer', -5],
    ['an integer past 32 bits (bound as a double)', 1_700_000_000_123],
    ['a negative integer past 32 bits', -1_700_000_000_123],
    ['the largest safe integer', Number.MAX_SAFE_INTEGER],
    ['a fraction', 0.1],
    ['a float past 2^53', 2 ** 60],
    ['text with quotes', "it's a \"quoted\" 'word' ''"],
    ['text that looks like SQL', "x'); DROP TABLE v; --"],
    ['text with a placeholder', 'what? ?1 :name @x $y'],
    ['text with newlines and a comment opener', 'a\n-- b\n/* c'],
    ['unicode and an emoji', 'héllo 世界 🎉'],
    ['a lone surrogate', 'a\uD800b'],
    ['text holding NUL', 'a\u0000b'],
    ['empty text', ''],
    ['a buffer', Buffer.from([0, 1, 2, 255])],
    ['an empty buffer', Buffer.alloc(0)],
  ];
  for (const [name, value] of values) {
    test(name, async () => {
      await conn.run('DELETE FROM v');
      await conn.run('INSERT INTO v (k, untyped, txt, num) VALUES (?, ?, ?, ?)', 1, value, value, value);
      conn.defer('INSERT INTO v (k, untyped, txt, num) VALUES (?, ?, ?, ?)', 2, value, value, value);
      const rows = await conn.all<Record<string, unknown>>(
        'SELECT k, typeof(untyped) AS tu, quote(untyped) AS qu, typeof(txt) AS tt, quote(txt) AS qt, typeof(num) AS tn, quote(num) AS qn, length(CAST(txt AS BLOB)) AS n FROM v ORDER BY k',
      );
      assert.equal(rows.length, 2);
      const { k: _a, ...bound } = rows[0]!;
      const { k: _b, ...deferred } = rows[1]!;
      assert.deepEqual(deferred, bound);
    });
  }

  test('values with no exact literal, and SQL that cannot be scanned simply, are left to the prepared path', () => {
    assert.equal(inlineValues('INSERT INTO v (k) VALUES (?)', [0.5]), undefined);
    assert.equal(inlineValues('INSERT INTO v (k) VALUES (?)', ['a\u0000']), undefined);
    assert.equal(inlineValues('INSERT INTO v (k) VALUES (?)', [10n]), undefined);
    assert.equal(inlineValues("INSERT INTO v (k, txt) VALUES (?, 'x')", [1]), undefined);
    assert.equal(inlineValues('INSERT INTO v (k) VALUES (:k)', [1]), undefined);
    assert.equal(inlineValues('INSERT INTO v (k) VALUES (?1)', [1]), undefined);
    assert.equal(inlineValues('INSERT INTO v (k) VALUES (?, ?)', [1]), undefined, 'too few values');
    assert.equal(inlineValues('UPDATE v SET k = k -?', [-5]), 'UPDATE v SET k = k -(-5)', 'no `--` comment out of a minus sign');
  });

  test('deferred writes run in order, before a statement issued after them', async () => {
    await conn.run('DELETE FROM v');
    for (let i = 0; i < 50; i++) conn.defer('INSERT INTO v (k, txt) VALUES (?, ?)', i, i % 2 ? 'odd' : 'even');
    conn.defer('UPDATE v SET txt = ? WHERE k < ?', 'first', 10);
    conn.defer('INSERT INTO v (k, untyped) VALUES (?, ?)', 100, 0.25); // prepared, between texts
    conn.defer('DELETE FROM v WHERE k = ?', 49);
    const rows = await conn.all<{ k: number; txt: string | null }>('SELECT k, txt FROM v ORDER BY k');
    assert.equal(rows.length, 50);
    assert.equal(rows[0]!.txt, 'first');
    assert.equal(rows[9]!.txt, 'first');
    assert.equal(rows[10]!.txt, 'even');
    assert.equal(rows.at(-1)!.k, 100);
  });

  test('a failing deferred write rejects the statement that sent it', async () => {
    conn.defer('INSERT INTO no_such_table (k) VALUES (?)', 1);
    await assert.rejects(conn.get('SELECT 1 AS one'), /no such table/);
    assert.deepEqual(await conn.get('SELECT 1 AS one'), { one: 1 }, 'the connection goes on');
  });
});

describe('Database.write with deferred writes', () => {
  let db: Database;
  let commitFailures = 0;
  before(async () => {
    db = await Database.open(join(dir, 'jobs.sqlite'));
    db.onCommitFailure = () => commitFailures++;
    await db.write(async (tx) => {
      await tx.run('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)');
    });
  });
  after(() => db.close());

  const keys = async () => (await db.reader.all<{ k: number }>('SELECT k FROM t ORDER BY k')).map((r) => r.k);

  test('a job sees its own deferred writes, and they are committed when write() resolves', async () => {
    await db.write(async (tx) => {
      await tx.run('DELETE FROM t');
      tx.defer('INSERT INTO t (k, v) VALUES (?, ?)', 1, 'one');
      const row = await tx.get<{ v: string }>('SELECT v FROM t WHERE k = ?', 1);
      assert.equal(row?.v, 'one');
      tx.defer('INSERT INTO t (k, v) VALUES (?, ?)', 2, 'two');
    });
    assert.deepEqual(await keys(), [1, 2], 'read through the other connection right after');
  });

  test('a lone job whose deferred write fails is rejected and leaves nothing behind', async () => {
    const before = commitFailures;
    await assert.rejects(
      db.write(async (tx) => {
        tx.defer('INSERT INTO t (k, v) VALUES (?, ?)', 3, 'three');
        tx.defer('INSERT INTO t (k, v) VALUES (?, ?)', 1, 'duplicate key');
      }),
      /UNIQUE constraint failed/,
    );
    assert.deepEqual(await keys(), [1, 2]);
    assert.equal(commitFailures, before + 1, 'caches built by the job are dropped');
  });

  // The batch's transaction fails as a whole; each of its jobs then runs again alone, and only the
  // one at fault fails. The last job shows it: in the batch it saw 12, which its rerun does not.
  test('in a batch, a job whose deferred write fails is undone alone; the jobs around it commit', async () => {
    const before = commitFailures;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // The first job holds the writer, so the next four share one transaction.
    const first = db.write(async (tx) => {
      await gate;
      tx.defer('INSERT INTO t (k) VALUES (?)', 10);
    });
    const jobs = [
      db.write(async (tx) => tx.defer('INSERT INTO t (k) VALUES (?)', 11)),
      db.write(async (tx) => {
        tx.defer('INSERT INTO t (k) VALUES (?)', 12);
        tx.defer('INSERT INTO t (k) VALUES (?)', 1); // duplicate: fails when sent
      }),
      db.write(async (tx) => {
        tx.defer('INSERT INTO t (k) VALUES (?)', 13);
        throw new Error('job failed before its writes were sent');
      }),
      db.write(async (tx) => {
        tx.defer('INSERT INTO t (k) VALUES (?)', 14);
        assert.equal((await tx.get<{ n: number }>('SELECT COUNT(*) AS n FROM t WHERE k IN (11, 12, 13)'))?.n, 1, 'sees 11 only');
      }),
    ];
    release();
    await first;
    const outcomes = await Promise.allSettled(jobs);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['fulfilled', 'rejected', 'rejected', 'fulfilled'],
    );
    assert.match(String((outcomes[1] as PromiseRejectedResult).reason), /UNIQUE constraint failed/);
    assert.match(String((outcomes[2] as PromiseRejectedResult).reason), /before its writes were sent/);
    assert.deepEqual(await keys(), [1, 2, 10, 11, 14]);
    assert.equal(commitFailures, before + 2, 'caches are dropped for the failed batch, and for the job that failed alone');
  });

  // While a batch's COMMIT is on its way, the next batch's jobs already run on top of it. When that
  // COMMIT fails, what they did is undone too, and they run again.
  test('a job that ran while the batch before it was committing runs again when that commit fails', async () => {
    const before = commitFailures;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let runs = 0;
    const failing = db.write(async (tx) => {
      await gate;
      tx.defer('INSERT INTO t (k) VALUES (?)', -30);
      tx.defer('INSERT INTO t (k) VALUES (?)', 1); // duplicate: fails in the COMMIT's hop
    });
    const next = db.write(async (tx) => {
      runs++;
      tx.defer('INSERT INTO t (k) VALUES (?)', -31);
      return runs;
    });
    release();
    const [a, b] = await Promise.allSettled([failing, next]);
    assert.equal(a.status, 'rejected');
    assert.match(String((a as PromiseRejectedResult).reason), /UNIQUE constraint failed/);
    assert.deepEqual(b, { status: 'fulfilled', value: 2 }, 'ran once on top of the failed batch, then again');
    // Negative keys, to leave the largest key (and nextKey below) as it was.
    assert.deepEqual(
      (await keys()).filter((k) => k <= -30),
      [-31],
    );
    assert.ok(commitFailures > before);
  });

  test('nextKey names the row SQLite would have made, and a failed job hands its keys out again', async () => {
    const max = async () => (await db.reader.get<{ m: number }>('SELECT MAX(k) AS m FROM t'))!.m;
    const top = await max();
    const auto = await db.write(async (tx) => (await tx.run('INSERT INTO t (v) VALUES (?)', 'auto')).lastID);
    assert.equal(auto, top + 1, "SQLite's own choice, for comparison");
    const named = await db.write(async (tx) => {
      const a = await tx.nextKey('t', 'k');
      const b = await tx.nextKey('t', 'k');
      tx.defer('INSERT INTO t (k, v) VALUES (?, ?)', a, 'a');
      tx.defer('INSERT INTO t (k, v) VALUES (?, ?)', b, 'b');
      return [a, b];
    });
    assert.deepEqual(named, [auto + 1, auto + 2]);
    await assert.rejects(
      db.write(async (tx) => {
        tx.defer('INSERT INTO t (k, v) VALUES (?, ?)', await tx.nextKey('t', 'k'), 'rolled back');
        throw new Error('no');
      }),
    );
    const after = await db.write(async (tx) => {
      const k = await tx.nextKey('t', 'k');
      tx.defer('INSERT INTO t (k, v) VALUES (?, ?)', k, 'c');
      return k;
    });
    assert.equal(after, auto + 3, 'no gap left by the failed job');
    assert.equal(await max(), auto + 3);
    const next = await db.write(async (tx) => (await tx.run('INSERT INTO t (v) VALUES (?)', 'auto again')).lastID);
    assert.equal(next, auto + 4, 'SQLite agrees with what nextKey handed out');
  });

  test('a batch whose first jobs fail before sending anything still commits the later ones in one transaction', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = db.write(async () => {
      await gate;
    });
    const jobs = [
      db.write(async (tx) => {
        tx.defer('INSERT INTO t (k) VALUES (?)', 20);
        throw new Error('no');
      }),
      db.write(async (tx) => {
        tx.defer('INSERT INTO t (k) VALUES (?)', 21);
      }),
      db.write(async (tx) => {
        await tx.run('INSERT INTO t (k) VALUES (?)', 22);
      }),
    ];
    release();
    await first;
    const outcomes = await Promise.allSettled(jobs);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['rejected', 'fulfilled', 'fulfilled'],
    );
    assert.deepEqual(
      (await keys()).filter((k) => k >= 20),
      [21, 22],
    );
  });
});
