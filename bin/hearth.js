#!/usr/bin/env node
// The `hearth` command. See homeserver/cli/main.ts for the commands and exit codes.

/**
 * `serve` tunes its memory before anything else, by re-executing itself (execve keeps the process:
 * pid, parent, stdio, signals, exit code), since both settings are read only at process start:
 * - glibc's malloc raises its mmap threshold once a large block is freed, and then keeps later blocks
 *   of that size in its arenas: password hashing's 16 MiB scrypt buffer stays resident for good, once
 *   per libuv thread that ran one. A fixed threshold hands such blocks back when freed. Fixing it
 *   also fixes the trim threshold at 128 KiB, and handing the heap's top back that eagerly costs a
 *   send about a tenth more CPU; 1 MiB does not.
 * - V8 lets its young generation grow to 16 MiB per semi-space after start-up's burst of
 *   allocation, and keeps it; 2 MiB holds a request's garbage, with more frequent but shorter
 *   scavenges (no cost measured in CPU per send).
 * Settings the user gave (in the environment, NODE_OPTIONS or node's own options) are kept.
 */
const MALLOC_ENV = { MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_TRIM_THRESHOLD_: '1048576' };
const V8_FLAGS = ['--max-semi-space-size=2'];
const serving = process.argv.slice(2).includes('serve');
const [major, minor] = process.versions.node.split('.').map(Number);
// As isNodeNewEnough in bin/lib/node22.js, without loading it (and child_process) on every start.
const nodeNewEnough = major === 22 ? minor >= 18 : major === 23 ? minor >= 6 : major > 23;
if (serving && process.platform === 'linux' && typeof process.execve === 'function' && process.env.HEARTH_SERVE_TUNED !== '1') {
  // Too old a node re-runs us with the repo's Node 22 below (ensureNode22), which then comes here.
  if (nodeNewEnough) {
    const env = { ...process.env, HEARTH_SERVE_TUNED: '1' };
    if (!mallocTuned(process.env)) Object.assign(env, MALLOC_ENV);
    const userFlags = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ');
    const flags = V8_FLAGS.filter((f) => !userFlags.includes(f.slice(0, f.indexOf('='))));
    try {
      const self = decodeURIComponent(new URL(import.meta.url).pathname);
      process.execve(process.execPath, [process.execPath, ...flags, ...process.execArgv, self, ...process.argv.slice(2)], env);
    } catch {
      // Not possible here: run with the defaults.
    }
  }
}

if (!nodeNewEnough) {
  const { ensureNode22 } = await import('./lib/node22.js');
  await ensureNode22(import.meta.url);
}

// The compiled JS in dist/ when `npm run build:main` built it from these very sources (it starts
// faster and smaller: no type stripping); else the TypeScript sources. HEARTH_FROM_SOURCE=1 insists
// on the sources.
const { fileURLToPath, pathToFileURL } = await import('node:url');
const { compiledFile } = await import('./lib/compiled.js');
const root = fileURLToPath(new URL('..', import.meta.url));
const compiled = process.env.HEARTH_FROM_SOURCE === '1' ? undefined : compiledFile(root, 'homeserver/cli/main.ts');

try {
  const { main } = await import(compiled ? pathToFileURL(compiled).href : '../homeserver/cli/main.ts');
  process.exit(await main(process.argv.slice(2)));
} catch (error) {
  process.stderr.write(`hearth: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
}

function mallocTuned(env) {
  return Object.keys(MALLOC_ENV).some((k) => env[k] !== undefined) || /mmap_threshold|trim_threshold/.test(env.GLIBC_TUNABLES ?? '');
}
