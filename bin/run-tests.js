#!/usr/bin/env node
// `npm test`: runs every test/**/*.test.ts with Node's test runner, streams the spec reporter to
// stdout, and ends with one line: `N passed, N failed[, N skipped]`. The browser tests in test/e2e/
// run when the web client is built (dist/renderer) and Chromium is installed; without them they
// are left out with a note, except under CI=true, where that is a failure.
//
//   node bin/run-tests.js                      all tests
//   node bin/run-tests.js test/homeserver/config 'test/**/sync*.test.ts' serve
//                                              a folder, a glob, or a substring of the path
//   node bin/run-tests.js --test-name-pattern=login
//                                              options starting with -- go to `node --test`
//
// Exit code: 0 only when tests ran and none failed (a cancelled test counts as failed).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNode22, waitForwardingSignals } from './lib/node22.js';

await ensureNode22(import.meta.url);

const root = fileURLToPath(new URL('..', import.meta.url));
const testDir = path.join(root, 'test');
const TEST_TIMEOUT_MS = 120_000;

const passThrough = process.argv.slice(2).filter((arg) => arg.startsWith('-'));
const filters = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));

const files = selectFiles(filters);
if (files.length === 0) {
  process.stderr.write(filters.length ? `no test files match ${filters.join(' ')}\n` : 'no test files found\n');
  finish({ pass: 0, fail: 0, skipped: 0 }, 1);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-tests-'));
const tapFile = path.join(tmp, 'report.tap');
const args = [
  '--test',
  // Test files are mostly servers on loopback plus SQLite: I/O-bound, so one per core is plenty.
  ...(passThrough.some((a) => a.startsWith('--test-concurrency')) ? [] : [`--test-concurrency=${Math.max(2, os.availableParallelism())}`]),
  ...(passThrough.some((a) => a.startsWith('--test-timeout')) ? [] : [`--test-timeout=${TEST_TIMEOUT_MS}`]),
  '--test-reporter=spec',
  '--test-reporter-destination=stdout',
  '--test-reporter=tap',
  `--test-reporter-destination=${tapFile}`,
  ...passThrough,
  ...files.map((file) => path.relative(root, file)),
];

const child = spawn(process.execPath, args, {
  cwd: root,
  stdio: ['ignore', 'inherit', 'inherit'],
  detached: process.platform !== 'win32',
});
const code = await waitForwardingSignals(child);

const counts = readSummary(tapFile);
fs.rmSync(tmp, { recursive: true, force: true });
if (counts === undefined) {
  process.stderr.write(`the test runner stopped before reporting a summary (exit code ${code})\n`);
  finish({ pass: 0, fail: 1, skipped: 0 }, 1);
}
if (code !== 0 && counts.fail === 0) {
  // Counted as a failure so that the summary line never looks green on a broken run.
  process.stderr.write(`the test runner exited with code ${code} although no test failed\n`);
  counts.fail = 1;
}
if (counts.pass + counts.fail === 0) process.stderr.write('no tests ran\n');
finish(counts, counts.fail > 0 || counts.pass + counts.fail === 0 ? 1 : 0);

function finish({ pass, fail, skipped }, exitCode) {
  process.stdout.write(`${pass} passed, ${fail} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  process.exit(exitCode);
}

/** `# pass N` etc. from the end of the TAP report; undefined when the run never got there. */
function readSummary(file) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const totals = {};
  for (const match of text.matchAll(/^# (tests|pass|fail|cancelled|skipped|todo) (\d+)$/gm)) {
    totals[match[1]] = Number(match[2]);
  }
  if (totals.tests === undefined) return undefined;
  return {
    pass: totals.pass ?? 0,
    // A cancelled test (its parent failed or the file timed out) did not pass.
    fail: (totals.fail ?? 0) + (totals.cancelled ?? 0),
    // A todo is a known gap, reported with the skips; it never fails the run.
    skipped: (totals.skipped ?? 0) + (totals.todo ?? 0),
  };
}

function selectFiles(filters) {
  const all = walk(testDir).filter((file) => file.endsWith('.test.ts'));
  const rel = (file) => path.relative(root, file).split(path.sep).join('/');
  if (filters.length === 0) {
    const missing = missingForBrowserTests();
    if (missing.length === 0) return all;
    const why = missing.join('; ');
    if (process.env.CI === 'true') {
      process.stderr.write(`the browser tests (test/e2e) cannot run: ${why}\n`);
      finish({ pass: 0, fail: 1, skipped: 0 }, 1);
    }
    process.stderr.write(`leaving out the browser tests (test/e2e): ${why}\n`);
    return all.filter((file) => !rel(file).startsWith('test/e2e/'));
  }
  // An explicit filter may select test/e2e/ too.
  return all.filter((file) =>
    filters.some((filter) => {
      const f = filter.replace(/^\.\//, '').replace(/\/$/, '');
      if (/[*?[{]/.test(f)) return path.matchesGlob(rel(file), f);
      return rel(file).includes(f);
    }),
  );
}

/** What test/e2e needs that is not there: the built web client and Debian's Chromium. */
function missingForBrowserTests() {
  const missing = [];
  if (!fs.existsSync(path.join(root, 'dist', 'renderer', 'index.html'))) {
    missing.push("the web client is not built (run 'npm run build:renderer')");
  }
  const chromium = process.env.HEARTH_CHROMIUM ?? '/usr/bin/chromium';
  if (!fs.existsSync(chromium)) missing.push(`no Chromium at ${chromium} (apt-get install chromium)`);
  return missing;
}

function walk(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : walk(full);
      return entry.isFile() ? [full] : [];
    })
    .sort();
}
