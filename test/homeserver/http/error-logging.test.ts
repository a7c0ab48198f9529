// Issue #13 classes 2 and 6: every 500 goes through the error middleware and the log, including
// one thrown while the answer is serialised, and the log line says method and path with the
// stack, never the access token or the body.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHomeserver, type Homeserver } from '../../../homeserver/index.ts';
import { createLogger } from '../../../homeserver/log/logger.ts';
import { Connection } from '../../../homeserver/storage/sqlite.ts';
import { accountDataStore } from '../../../homeserver/storage/rooms-store.ts';
import { registerUser, type TestServer, type TestUser } from '../../helpers/server.ts';

const lines: Array<Record<string, any>> = [];
let hs: Homeserver;
let server: TestServer;
let alice: TestUser;
const dataDir = mkdtempSync(join(tmpdir(), 'hearth-error-log-'));

before(async () => {
  const logger = createLogger({ destination: { write: (line) => void lines.push(JSON.parse(line)) } });
  hs = createHomeserver(
    {
      dataDir,
      serverName: 'localhost',
      listen: { host: '127.0.0.1', port: 0 },
      registration: 'open',
      registrationTokens: [],
      allowedHosts: [],
      rateLimit: { perSecond: 1000, burst: 10_000 },
    },
    { logger },
  );
  const { clientUrl } = await hs.start();
  server = { url: clientUrl, api: `${clientUrl}/_matrix/client/v3`, dataDir, serverName: 'localhost', hs, stop: () => hs.stop() };
  alice = await registerUser(server, 'alice');
});
after(async () => {
  await hs?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('an answer that cannot be serialised is a logged 500 M_UNKNOWN with method, path and stack, without the token', async () => {
  // Account data nested far too deep, as a server before the depth limit could have stored it:
  // JSON.parse reads it back, JSON.stringify overflows the stack writing the answer.
  const conn = await Connection.open(join(dataDir, 'hearth.sqlite'));
  try {
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    await accountDataStore.put(conn, alice.userId, '', 'm.deep', deep);
  } finally {
    await conn.close();
  }
  const path = `/_matrix/client/v3/user/${encodeURIComponent(alice.userId)}/account_data/m.deep`;
  const res = await fetch(`${server.url}${path}?access_token=${alice.accessToken}`);
  assert.equal(res.status, 500);
  assert.deepEqual(await res.json(), { errcode: 'M_UNKNOWN', error: 'Internal server error' });
  const logged = lines.find((l) => l.status === 500 && l.path === path);
  assert.ok(logged, `no log line for the 500: ${JSON.stringify(lines)}`);
  assert.equal(logged.level, 50, 'error level');
  assert.equal(logged.method, 'GET');
  assert.match(logged.err.stack, /RangeError/);
  assert.ok(!JSON.stringify(lines).includes(alice.accessToken), 'the access token is never logged');
  // And the server goes on.
  assert.equal((await fetch(`${server.url}/_matrix/client/versions`)).status, 200);
});

test('the logger never throws: a destination that throws, a value that cannot be serialised', () => {
  const log = createLogger({
    destination: {
      write() {
        throw Object.assign(new Error('EPIPE'), { code: 'EPIPE' });
      },
    },
  });
  log('a line into a broken pipe');
  log.error('an error into a broken pipe', new Error('boom'), { big: 1n });
  const seen: string[] = [];
  const ok = createLogger({ destination: { write: (l) => void seen.push(l) } });
  const hostile = {
    get trap() {
      throw new Error('getter');
    },
  };
  ok.warn('hostile fields', 'not an error', { hostile });
  ok.info('with a bigint', { n: 1n });
  assert.ok(seen.length >= 1);
});
