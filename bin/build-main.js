#!/usr/bin/env node
// `npm run build:main`: compiles the Electron main process and the homeserver to dist/
// (tsconfig.build.json), then records which sources it compiled (dist/build-manifest.json), so that
// `hearth serve` knows when dist/ may stand in for the TypeScript sources (bin/lib/compiled.js).
// Also writes dist/package.json: compiled modules find the package's version one folder up, as the
// sources do (homeserver/index.ts, homeserver/cli/main.ts).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNode22, runForwardingSignals } from './lib/node22.js';
import { MANIFEST, sourceStats, writeManifest } from './lib/compiled.js';

await ensureNode22(import.meta.url);

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');

// Taken before compiling: a source saved during the build then no longer matches, and counts as unbuilt.
const before = sourceStats(root);
fs.rmSync(path.join(root, 'dist', MANIFEST), { force: true });
const code = await runForwardingSignals(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (code !== 0) process.exit(code);

const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
fs.writeFileSync(
  path.join(root, 'dist', 'package.json'),
  JSON.stringify({ name: `${pkg.name}-dist`, version: pkg.version, private: true, type: 'module' }, null, 2) + '\n',
);
const after = sourceStats(root);
if (JSON.stringify(after) !== JSON.stringify(before)) {
  process.stderr.write('build:main: sources changed while compiling; `hearth serve` will run the TypeScript sources until the next build.\n');
  process.exit(0);
}
writeManifest(root, before);
