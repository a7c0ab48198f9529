// SQLite may roll back a whole transaction when a statement fails with SQLITE_FULL, SQLITE_IOERR,
// SQLITE_BUSY or SQLITE_NOMEM (https://www.sqlite.org/lang_transaction.html "Response To Errors
// Within A Transaction"); `PRAGMA max_page_count` makes it happen on a real file. The jobs of a
// batch (storage/database.ts) must then neither go on in autocommit mode, where each statement
// commits on its own, nor be told they succeeded: every job that resolves has its writes stored
// exactly once, and every job that rejects has none.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database } from '../../../homeserver/storage/database.ts';
import type { Queryable } from '../../../homeserver/storage/sqlite.ts';

const dir = mkdtempSync(join(tmpdir(), 'hearth-txn-lost-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Far more than the few pages left free below: its insert fails with SQLITE_FULL. */
const BIG = Buffer.alloc(200_000, 7);

describe('a transaction SQLite rolled back in the middle of a batch', () => {
  let db: Database;
  let n = 0;
  before(async () => {
    db = await Database.open(join(dir, 'hearth.sqlite'));
    await db.write((tx) => tx.run('CREATE TABLE marks (job TEXT NOT NULL)'));
    await db.write((tx) => tx.run('CREATE TABLE blobs (b BLOB)'));
  });
  after(() => db.close());
  afterEach(async () => {
    await db.write((tx) => tx.run('PRAGMA max_page_count = 1073741823'));
  });

  /** Runs `jobs` as one batch, behind a first job that leaves only a few free pages. */
  async function batch(jobs: Record<string, (tx: Queryable, name: string) => Promise<void>>): Promise<Map<string, boolean>> {
    const run = ++n;
    const first = db.write(async (tx) => {
      const { page_count } = (await tx.get<{ page_count: number }>('PRAGMA page_count'))!;
      await tx.run(`PRAGMA max_page_count = ${page_count + 2}`);
    });
    // Queued while the first job runs: they share the next transaction.
    const settled = await Promise.allSettled(Object.entries(jobs).map(([name, job]) => db.write((tx) => job(tx, `${run}:${name}`))));
    await first;
    return new Map(Object.keys(jobs).map((name, i) => [name, settled[i]!.status === 'fulfilled']));
  }

  async function marks(run: number, name: string): Promise<number> {
    await db.write((tx) => tx.run('PRAGMA max_page_count = 1073741823'));
    const row = await db.reader.get<{ c: number }>('SELECT COUNT(*) AS c FROM marks WHERE job = ?', `${run}:${name}`);
    return row!.c;
  }

  const mark = async (tx: Queryable, name: string) => void (await tx.run('INSERT INTO marks (job) VALUES (?)', name));

  test('a deferred write that fills the disk: the jobs after it are not committed on their own and then run again', async () => {
    const ok = await batch({
      before: mark,
      full: async (tx, name) => {
        await mark(tx, name);
        tx.defer('INSERT INTO blobs (b) VALUES (?)', BIG);
      },
      // Its first statement goes after the failed write has settled.
      after: async (tx, name) => {
        await new Promise((r) => setTimeout(r, 20));
        await mark(tx, name);
      },
    });
    for (const name of ['before', 'full', 'after']) {
      const count = await marks(n, name);
      assert.equal(count, ok.get(name) ? 1 : 0, `job '${name}' ${ok.get(name) ? 'resolved' : 'rejected'} with ${count} rows stored`);
    }
    assert.equal(ok.get('full'), false);
    // The jobs that did nothing wrong succeed, once.
    assert.equal(ok.get('before'), true);
    assert.equal(ok.get('after'), true);
  });

  test('a job that catches the failed statement and goes on: its later writes are not committed outside the transaction', async () => {
    const ok = await batch({
      before: mark,
      careless: async (tx, name) => {
        try {
          await tx.run('INSERT INTO blobs (b) VALUES (?)', BIG);
        } catch {
          // A job may handle a failed insert (a constraint, say) and go on.
        }
        await mark(tx, name);
      },
      after: mark,
    });
    for (const name of ['before', 'careless', 'after']) {
      const count = await marks(n, name);
      assert.equal(count, ok.get(name) ? 1 : 0, `job '${name}' ${ok.get(name) ? 'resolved' : 'rejected'} with ${count} rows stored`);
    }
    assert.equal(ok.get('before'), true);
    assert.equal(ok.get('after'), true);
  });

  test('a lone job that catches the failed statement is not told it succeeded, and stores nothing', async () => {
    const run = ++n;
    const { page_count } = (await db.reader.get<{ page_count: number }>('PRAGMA page_count'))!;
    const result = db.write(async (tx) => {
      await tx.run(`PRAGMA max_page_count = ${page_count + 2}`);
      try {
        await tx.run('INSERT INTO blobs (b) VALUES (?)', BIG);
      } catch {
        // handled, as above
      }
      await mark(tx, `${run}:lone`);
    });
    const resolved = await result.then(
      () => true,
      () => false,
    );
    const count = await marks(run, 'lone');
    assert.equal(count, resolved ? 1 : 0, `the job ${resolved ? 'resolved' : 'rejected'} with ${count} rows stored`);
  });

  test('the database works normally afterwards', async () => {
    await db.write((tx) => mark(tx, 'afterwards'));
    assert.equal((await db.reader.get<{ c: number }>("SELECT COUNT(*) AS c FROM marks WHERE job = 'afterwards'"))!.c, 1);
    assert.equal((await db.reader.get<{ r: string }>('PRAGMA integrity_check'))!.r ?? 'ok', 'ok');
  });
});
