#!/usr/bin/env node
// The `hearth` command. See homeserver/cli/main.ts for the commands and exit codes.

const [major, minor] = process.versions.node.split('.').map(Number);
// As isNodeNewEnough in bin/lib/node22.js, without loading it (and child_process) on every start.
const nodeNewEnough = major === 22 ? minor >= 18 : major === 23 ? minor >= 6 : major > 23;

if (!nodeNewEnough) {
  const { ensureNode22 } = await import('./lib/node22.js');
  await ensureNode22(import.meta.url);
}

// V8 keeps the bytecode it compiled for our modules and our dependencies on disk (in the OS temp
// folder, checked against each file's contents), so a start after the first compiles little.
const { enableCompileCache } = await import('node:module');
enableCompileCache?.();

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
