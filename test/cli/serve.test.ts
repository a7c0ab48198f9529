// The `hearth` command as a user runs it: a real child process, real loopback HTTP, real SQLite.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const hearth = fileURLToPath(new URL('../../bin/hearth.js', import.meta.url));
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-cli-test-'));
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  fs.rmSync(scratch, { recursive: true, force: true });
});

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(args: string[]): Run {
  const child = spawn(process.execPath, [hearth, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Resolves with the first stdout line; rejects with stderr if the process exits first. */
function readyLine(r: Run): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const newline = r.stdout().indexOf('\n');
      if (newline >= 0) resolve(r.stdout().slice(0, newline));
    };
    r.child.stdout!.on('data', check);
    r.exited.then(({ code, signal }) => reject(new Error(`hearth exited (code ${code}, signal ${signal}) before ready; stderr:\n${r.stderr()}`)));
  });
}

test('serve prints one ready line, answers /versions, and exits 0 on SIGTERM', async () => {
  const dataDir = path.join(scratch, 'serve');
  const r = run(['serve', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--server-name', 'test.local']);
  const line = await readyLine(r);
  const match = /^hearth ready client=(http:\/\/127\.0\.0\.1:(\d+)) server_name=test\.local$/.exec(line);
  assert.ok(match, `unexpected ready line: ${JSON.stringify(line)}`);
  assert.notEqual(Number(match[2]), 0, 'port 0 must be replaced by the port actually bound');

  const response = await fetch(`${match[1]}/_matrix/client/versions`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /application\/json/);
  const body = (await response.json()) as { versions?: unknown };
  assert.ok(Array.isArray(body.versions) && body.versions.length > 0, JSON.stringify(body));

  r.child.kill('SIGTERM');
  const { code, signal } = await r.exited;
  assert.equal(signal, null, `killed by ${signal}; stderr:\n${r.stderr()}`);
  assert.equal(code, 0, `stderr:\n${r.stderr()}`);
  assert.equal(r.stdout(), `${line}\n`, 'stdout must hold exactly the ready line');
  assert.ok(fs.existsSync(dataDir), 'serve creates its data dir');
});

test('a second serve on the same port fails to start with exit 1 and says the port is in use', async () => {
  const first = run(['serve', '--data-dir', path.join(scratch, 'first'), '--listen', '127.0.0.1:0']);
  const port = /:(\d+) /.exec(await readyLine(first))![1];
  const second = run(['serve', '--data-dir', path.join(scratch, 'second'), '--listen', `127.0.0.1:${port}`]);
  const { code } = await second.exited;
  assert.equal(code, 1);
  assert.match(second.stderr(), /already in use/);
  assert.equal(second.stdout(), '');
  first.child.kill('SIGINT');
  assert.equal((await first.exited).code, 0);
});

test('--help prints usage to stdout and exits 0', async () => {
  const r = run(['--help']);
  const { code } = await r.exited;
  assert.equal(code, 0);
  assert.match(r.stdout(), /^Usage: hearth <command>/);
  assert.match(r.stdout(), /--registration MODE/);
});

test('--version prints the package version', async () => {
  const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  const r = run(['--version']);
  assert.equal((await r.exited).code, 0);
  assert.equal(r.stdout(), `hearth ${pkg.version}\n`);
});

test('an invalid --registration value is a usage error (exit 2) naming the choices', async () => {
  const r = run(['serve', '--data-dir', path.join(scratch, 'bad'), '--registration', 'maybe']);
  assert.equal((await r.exited).code, 2);
  assert.equal(r.stdout(), '');
  assert.match(r.stderr(), /--registration: expected one of 'open', 'token', 'closed', got "maybe"/);
});

test('an unknown command or option is a usage error (exit 2)', async () => {
  const command = run(['frobnicate']);
  assert.equal((await command.exited).code, 2);
  assert.match(command.stderr(), /unknown command 'frobnicate'/);
  const option = run(['serve', '--port', '1']);
  assert.equal((await option.exited).code, 2);
  assert.match(option.stderr(), /unknown option '--port'/);
});

test('a bad config file stops serve with exit 1 and names the file and key', async () => {
  const dataDir = path.join(scratch, 'bad-file');
  fs.mkdirSync(dataDir);
  fs.writeFileSync(path.join(dataDir, 'hearth.yaml'), 'rate_limit:\n  burst: lots\n');
  const r = run(['serve', '--data-dir', dataDir]);
  assert.equal((await r.exited).code, 1);
  assert.ok(r.stderr().includes(`${path.join(dataDir, 'hearth.yaml')}: rate_limit.burst: expected`), r.stderr());
});
