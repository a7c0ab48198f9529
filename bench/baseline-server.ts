// The bench's baseline: the least a Koa + sqlite3 server can do per message. One POST handler
// reads a JSON body, inserts it as one row (its own durable transaction: WAL with
// synchronous=FULL, as Hearth's storage opens the database) and answers JSON.
// Hearth's throughput is reported as a fraction of this server's, measured in the same run.
//
// Usage: node bench/baseline-server.ts DB_FILE
// Prints `baseline ready url=http://127.0.0.1:PORT` on stdout once listening; SIGTERM stops it.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import sqlite3 from 'sqlite3';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node bench/baseline-server.ts DB_FILE\n');
  process.exit(2);
}

function exec(db: sqlite3.Database, sql: string): Promise<void> {
  return new Promise((resolve, reject) => db.exec(sql, (err) => (err ? reject(err) : resolve())));
}

function readBody(req: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const db = await new Promise<sqlite3.Database>((resolve, reject) => {
  const d = new sqlite3.Database(file, (err) => (err ? reject(err) : resolve(d)));
});
await exec(db, 'PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;');
await exec(db, 'CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, json TEXT NOT NULL, ts INTEGER NOT NULL)');
const insert = db.prepare('INSERT INTO messages (json, ts) VALUES (?, ?)');

const app = new Koa();
app.use(async (ctx) => {
  if (ctx.method !== 'POST' || ctx.path !== '/send') {
    ctx.status = 404;
    ctx.body = { errcode: 'M_UNRECOGNIZED' };
    return;
  }
  let content: unknown;
  try {
    content = JSON.parse(await readBody(ctx.req));
  } catch {
    ctx.status = 400;
    ctx.body = { errcode: 'M_NOT_JSON' };
    return;
  }
  const id = await new Promise<number>((resolve, reject) =>
    insert.run([JSON.stringify(content), Date.now()], function (this: sqlite3.RunResult, err: Error | null) {
      if (err) reject(err);
      else resolve(this.lastID);
    }),
  );
  ctx.body = { id: String(id) };
});

const server = createServer(app.callback());
server.keepAliveTimeout = 65_000; // as Hearth's listener
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
const { port } = server.address() as AddressInfo;
process.stdout.write(`baseline ready url=http://127.0.0.1:${port}\n`);

process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  insert.finalize(() => db.close(() => process.exit(0)));
});
