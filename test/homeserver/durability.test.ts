// Crash durability: `hearth serve` as a real child process is killed with SIGKILL in the middle of
// a stream of sends. Every send it acknowledged with 200 must be there after a restart on the same
// data dir, in each sender's order, and the SQLite file must pass PRAGMA integrity_check.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sqlite3 from 'sqlite3';
import { allMessages, checked, type ServerLike } from '../helpers/checked-call.ts';
import type { TestUser } from '../helpers/server.ts';

const hearth = fileURLToPath(new URL('../../bin/hearth.js', import.meta.url));
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-durability-'));
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  fs.rmSync(scratch, { recursive: true, force: true });
});

const SENDERS = 8;
const SEND_MS = 1500;
/** The kill comes this long into the stream, or later (up to SEND_MS) on a slow machine until MIN_ACKED were acknowledged. */
const KILL_AFTER_MS = 750;
const MIN_ACKED = 40;

interface Running extends ServerLike {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `hearth serve` on a free port and resolves once it printed its ready line. */
async function serve(dataDir: string): Promise<Running> {
  const child = spawn(process.execPath, [hearth, 'serve', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--server-name', 'localhost'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      const m = /^hearth ready client=(\S+)/m.exec(stdout);
      if (m) resolve(m[1]!);
    });
    void exited.then(({ code, signal }) => reject(new Error(`hearth exited (${code ?? signal}) before ready:\n${stderr}`)));
  });
  return { url, child, exited };
}

async function register(server: ServerLike, username: string): Promise<TestUser> {
  const body = { username, password: 'durable password 1' };
  const first = await checked(server, undefined, 'POST', '/register', body);
  assert.equal(first.status, 401);
  const res = await checked(server, undefined, 'POST', '/register', { ...body, auth: { type: 'm.login.dummy', session: first.body.session } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return { userId: res.body.user_id, accessToken: res.body.access_token, deviceId: res.body.device_id };
}

function integrityCheck(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(file, sqlite3.OPEN_READWRITE, (err) => {
      if (err) return reject(err);
      db.all('PRAGMA integrity_check', (err2: Error | null, rows: Array<{ integrity_check: string }>) => {
        db.close();
        if (err2) reject(err2);
        else resolve(rows.map((r) => r.integrity_check).join('\n'));
      });
    });
  });
}

test("after kill -9 mid-stream, a restart keeps every acknowledged send in each sender's order, and the db passes integrity_check", async (t) => {
  const dataDir = path.join(scratch, 'data');
  // The default per-client rate limit would refuse most of this stream; this test is about the disk.
  fs.mkdirSync(dataDir);
  fs.writeFileSync(path.join(dataDir, 'hearth.yaml'), 'rate_limit:\n  per_second: 1000000\n  burst: 1000000\n');

  const first = await serve(dataDir);
  const alice = await register(first, 'alice');
  const created = await checked(first, alice, 'POST', '/createRoom', { preset: 'private_chat' });
  assert.equal(created.status, 200);
  const roomId: string = created.body.room_id;
  const sendPath = (txnId: string) => `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${txnId}`;
  // Warm up (the response validator compiles its schema on first use) so the stream starts at full speed.
  assert.equal((await checked(first, alice, 'PUT', sendPath('warm-up'), { msgtype: 'm.text', body: 'warm-up' })).status, 200);

  // Each sender sends s<i>-0, s<i>-1, ... one after another until the server stops answering.
  const acked: Array<Array<{ n: number; eventId: string }>> = Array.from({ length: SENDERS }, () => []);
  const attempted = new Array<number>(SENDERS).fill(0);
  const start = Date.now();
  const deadline = start + SEND_MS;
  const ackedSoFar = () => acked.reduce((sum, a) => sum + a.length, 0);
  const sender = async (i: number) => {
    for (let n = 0; Date.now() < deadline; n++) {
      attempted[i] = n + 1;
      let res;
      try {
        res = await checked(first, alice, 'PUT', sendPath(`s${i}-${n}`), { msgtype: 'm.text', body: `s${i}-${n}` });
      } catch (err) {
        // The connection died with the server: this send was never acknowledged.
        if (err instanceof TypeError) return;
        throw err;
      }
      assert.equal(res.status, 200, JSON.stringify(res.body));
      acked[i]!.push({ n, eventId: res.body.event_id });
    }
  };
  const killer = (async () => {
    await new Promise((r) => setTimeout(r, KILL_AFTER_MS));
    while (ackedSoFar() < MIN_ACKED && Date.now() < deadline - 100) await new Promise((r) => setTimeout(r, 10));
    first.child.kill('SIGKILL');
  })();
  await Promise.all([killer, ...Array.from({ length: SENDERS }, (_, i) => sender(i))]);
  assert.equal((await first.exited).signal, 'SIGKILL');
  const ackedCount = ackedSoFar();
  t.diagnostic(`${ackedCount} sends acknowledged by ${SENDERS} senders in ${Date.now() - start} ms before the kill`);
  assert.ok(ackedCount >= 2 * SENDERS, `only ${ackedCount} sends were acknowledged before the kill`);
  assert.ok(
    acked.every((a, i) => a.length < attempted[i]!),
    'the kill came while every sender was still sending',
  );

  const second = await serve(dataDir);
  const events = (await allMessages(second, alice, roomId)).filter((e) => e.type === 'm.room.message');
  const position = new Map<string, number>(events.map((e, index) => [e.event_id, index]));
  for (let i = 0; i < SENDERS; i++) {
    const missing = acked[i]!.filter((a) => !position.has(a.eventId));
    assert.deepEqual(missing, [], `sender ${i}: acknowledged events lost in the crash`);
    const order = acked[i]!.map((a) => position.get(a.eventId)!);
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
      `sender ${i}: acknowledged events out of order`,
    );
    // What survived of this sender is s<i>-0..s<i>-k with no gap: the acknowledged sends plus at most
    // the one in flight at the kill.
    const survived = events.filter((e) => e.content.body.startsWith(`s${i}-`)).map((e) => Number(e.content.body.split('-')[1]));
    assert.deepEqual(
      survived,
      survived.map((_, k) => k),
      `sender ${i}: stored sends are not s${i}-0..s${i}-${survived.length - 1} in order`,
    );
    assert.ok(survived.length - acked[i]!.length <= 1, `sender ${i}: ${survived.length} stored, ${acked[i]!.length} acknowledged`);
  }
  // A retry of an acknowledged send after the restart is still recognised by its txnId.
  const last = acked[0]!.at(-1)!;
  const retry = await checked(second, alice, 'PUT', sendPath(`s0-${last.n}`), { msgtype: 'm.text', body: `s0-${last.n}` });
  assert.equal(retry.body.event_id, last.eventId);

  second.child.kill('SIGTERM');
  assert.equal((await second.exited).code, 0);
  assert.equal(await integrityCheck(path.join(dataDir, 'hearth.sqlite')), 'ok');
});
