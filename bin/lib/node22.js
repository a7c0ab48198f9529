// Hearth's scripts run TypeScript through Node's type stripping, on by default from Node 22.18.
// When an older node runs a script, re-run it with the Node 22 that `npm install` puts in
// node_modules (the npm `node` package), or explain what to do.
// Plain JS with only node: imports, so that any Node version can load it.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

export const REQUIRED = '22.18';

export function isNodeNewEnough(version = process.versions.node) {
  const [major, minor] = version.split('.').map(Number);
  if (major === 22) return minor >= 18;
  if (major === 23) return minor >= 6; // type stripping became default in 23.6
  return major > 23;
}

/** The repo's own Node 22 binary, if `npm install` has put it there. */
export const repoNode = fileURLToPath(new URL('../../node_modules/node/bin/node', import.meta.url));

/**
 * Returns when the running node is new enough. Otherwise re-runs `script` (a file URL) with the
 * repo's node, passing signals on, and exits with its exit code; or prints an error and exits 1.
 */
export async function ensureNode22(script) {
  if (isNodeNewEnough()) return;
  if (!fs.existsSync(repoNode) || process.env.HEARTH_REEXEC === '1') {
    process.stderr.write(
      `Hearth needs Node.js ${REQUIRED} or newer; this is ${process.version} (${process.execPath}).\n` +
        'Run `npm install` in the repository (it fetches Node 22 into node_modules), or install Node 22.\n',
    );
    process.exit(1);
  }
  const code = await runForwardingSignals(repoNode, [...process.execArgv, fileURLToPath(script), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, HEARTH_REEXEC: '1' },
  });
  process.exit(code);
}

/**
 * Spawns a child in its own process group and forwards SIGINT, SIGTERM and SIGHUP to it, so that
 * it sees each signal exactly once (a terminal's Ctrl-C reaches only us, and we pass it on).
 * Resolves with the child's exit code (128 + signal number when it was killed by a signal).
 */
export function runForwardingSignals(command, args, options = {}) {
  const child = spawn(command, args, { ...options, detached: process.platform !== 'win32' });
  return waitForwardingSignals(child);
}

export function waitForwardingSignals(child) {
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const forward = (signal) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  for (const signal of signals) process.on(signal, forward);
  return new Promise((resolve) => {
    child.on('error', (error) => {
      process.stderr.write(`could not run ${child.spawnfile}: ${error.message}\n`);
      resolve(1);
    });
    child.on('exit', (code, signal) => {
      for (const s of signals) process.off(s, forward);
      resolve(code ?? 128 + (os.constants.signals[signal] ?? 0));
    });
  });
}
