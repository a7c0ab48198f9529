// Issue #13 class 6: logging never kills. `hearth serve` runs as a child process whose stderr is a
// pipe we then close; requests that log must still be answered, and SIGTERM still exits 0.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../helpers/server.ts';

const hearth = fileURLToPath(new URL('../../bin/hearth.js', import.meta.url));
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-logging-test-'));
let child: ChildProcess | undefined;
after(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  fs.rmSync(scratch, { recursive: true, force: true });
});

function readyUrl(c: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    c.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const m = /^hearth ready client=(\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    c.on('close', (code, signal) => reject(new Error(`hearth exited (code ${code}, signal ${signal}) before ready`)));
  });
}

test('with its stderr a closed pipe, serve keeps answering requests that log, and exits 0 on SIGTERM', async () => {
  const fedPort = await freePort();
  const c = spawn(
    process.execPath,
    [
      hearth,
      'serve',
      '--data-dir',
      path.join(scratch, 'hs'),
      '--listen',
      '127.0.0.1:0',
      '--server-name',
      `127.0.0.1:${fedPort}`,
      '--federation-listen',
      `127.0.0.1:${fedPort}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child = c;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => c.on('exit', (code, signal) => resolve({ code, signal })));
  const url = await readyUrl(c);
  // Nobody reads the log any more: the next write to it fails with EPIPE.
  c.stderr!.destroy();

  const reg = await fetch(`${url}/_matrix/client/v3/register`, {
    method: 'POST',
    body: JSON.stringify({ username: 'logger', password: 'correct horse battery staple', auth: { type: 'm.login.dummy' } }),
  });
  assert.equal(reg.status, 200);
  const { access_token: token } = (await reg.json()) as { access_token: string };
  // A join through a server that is not there: answered with an error, and logged.
  for (let i = 0; i < 3; i++) {
    const join = await fetch(`${url}/_matrix/client/v3/join/${encodeURIComponent('!nowhere:127.0.0.1:1')}?server_name=127.0.0.1:1`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: '{}',
    });
    assert.ok(join.status >= 400, `join answered ${join.status}`);
  }
  const versions = await fetch(`${url}/_matrix/client/versions`);
  assert.equal(versions.status, 200, 'still answering after logging into a closed pipe');
  assert.equal(c.exitCode, null, 'still running');

  c.kill('SIGTERM');
  const { code, signal } = await exited;
  assert.equal(signal, null);
  assert.equal(code, 0);
});
