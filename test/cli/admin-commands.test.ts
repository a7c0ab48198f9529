// `hearth admin` and `hearth reports` as an admin runs them, beside a running server.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerUser, startTestServer, type TestServer } from '../helpers/server.ts';

const hearth = fileURLToPath(new URL('../../bin/hearth.js', import.meta.url));

function run(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [hearth, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let server: TestServer;
before(async () => {
  server = await startTestServer();
  await registerUser(server, 'alice');
  await registerUser(server, 'bob');
});
after(async () => {
  await server?.stop();
});

test('admin grant, list and revoke change who is an admin, by localpart or user id', () => {
  const dir = ['--data-dir', server.dataDir];
  assert.equal(run(['admin', 'grant', 'alice', ...dir]).code, 0);
  assert.equal(run(['admin', 'grant', '@bob:localhost', ...dir]).code, 0);
  assert.deepEqual(
    run(['admin', 'list', ...dir])
      .stdout.trim()
      .split('\n')
      .map((l) => JSON.parse(l)),
    [{ user_id: '@alice:localhost' }, { user_id: '@bob:localhost' }],
  );
  assert.deepEqual(JSON.parse(run(['admin', 'revoke', 'bob', ...dir]).stdout), { user_id: '@bob:localhost', admin: false });
  assert.deepEqual(JSON.parse(run(['admin', 'list', ...dir]).stdout), { user_id: '@alice:localhost' });
});

test('an unknown account or data dir is an error (exit 1); a missing action or a bad --limit a usage error (exit 2)', () => {
  const unknown = run(['admin', 'grant', 'nobody', '--data-dir', server.dataDir]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no account @nobody:localhost/);
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-cli-admin-'));
  const noDb = run(['reports', '--data-dir', empty]);
  assert.equal(noDb.code, 1);
  assert.match(noDb.stderr, /no Hearth database/);
  assert.equal(fs.existsSync(path.join(empty, 'hearth.sqlite')), false, 'a wrong data dir gets no new database');
  fs.rmSync(empty, { recursive: true, force: true });
  assert.equal(run(['admin', '--data-dir', server.dataDir]).code, 2);
  assert.equal(run(['reports', '--limit', 'lots', '--data-dir', server.dataDir]).code, 2);
  assert.equal(run(['admin', 'grant', 'a', 'b', '--data-dir', server.dataDir]).code, 2);
});
