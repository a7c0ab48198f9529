// UIA sessions are bounded (issue #13, class 3): every request without `auth` (an unauthenticated
// POST /register) starts one, and they were kept for ever. They now expire after 48 hours, as in
// Synapse, and at most MAX_UIA_SESSIONS are kept, the oldest going first. A real database in a
// temp dir; no clock is faked: an expired session is one whose row says it was created long ago.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Database } from '../../../homeserver/storage/database.ts';
import { UIA_SESSION_LIFETIME_MS, UiaRequired, UiaSessions } from '../../../homeserver/users/uia.ts';

let dir: string;
let db: Database;
let uia: UiaSessions;
const LIMIT = 100;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hearth-uia-'));
  db = await Database.open(join(dir, 'hearth.sqlite'));
  // A small bound in place of the default (MAX_UIA_SESSIONS, 10,000), so that passing it takes 150 requests.
  uia = new UiaSessions(db, LIMIT);
});
after(async () => {
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
});

const request = (auth: unknown) => ({
  auth,
  flows: [{ stages: ['m.login.dummy'] }, { stages: ['m.login.password', 'm.login.email.identity'] }],
  fingerprint: 'register',
  checkStage: async () => {},
});

/** Starts a session the way a request without `auth` does, and returns its id. */
async function start(): Promise<string> {
  try {
    await uia.require(request(undefined));
  } catch (err) {
    assert.ok(err instanceof UiaRequired);
    return (err.toBody() as { session: string }).session;
  }
  assert.fail('expected UiaRequired');
}

const count = async () => (await db.reader.get<{ n: number }>('SELECT COUNT(*) AS n FROM uia_sessions'))!.n;

describe('UIA session bounds', () => {
  test('an expired session is unknown: M_UNKNOWN', async () => {
    const session = await start();
    await db.write((tx) => tx.run('UPDATE uia_sessions SET created_ts = ? WHERE session_id = ?', Date.now() - UIA_SESSION_LIFETIME_MS - 1, session));
    await assert.rejects(uia.require(request({ session, type: 'm.login.password' })), (err: any) => err.errcode === 'M_UNKNOWN' && err.status === 400);
  });

  test(`${LIMIT + 50} requests without auth leave at most ${LIMIT} sessions at any time; the newest still works`, async () => {
    let last = '';
    let peak = 0;
    for (let i = 0; i < LIMIT + 50; i++) {
      last = await start();
      peak = Math.max(peak, await count());
    }
    assert.ok(peak <= LIMIT, `${peak} sessions kept`);
    assert.ok(peak >= LIMIT / 2, 'recent sessions are kept');
    // The newest session completes its flow.
    assert.deepEqual(await uia.require(request({ session: last, type: 'm.login.dummy' })), ['m.login.dummy']);
  });
});
