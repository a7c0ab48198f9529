// bin/lib/compiled.js: `hearth serve` runs dist/ only while it was built from exactly the sources
// on disk. Checked on a scratch checkout: real files, real stats, nothing faked.
import { after, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compiledFile, sourceStats, writeManifest } from '../../bin/lib/compiled.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-compiled-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

function write(rel: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), text);
}

/** A checkout with a few sources, built: dist/ holds their JS and a manifest of them. */
beforeEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
  write('package.json', '{"version":"1.0.0"}');
  write('tsconfig.json', '{}');
  write('tsconfig.build.json', '{}');
  write('homeserver/cli/main.ts', 'export const a = 1;');
  write('homeserver/rooms/x.ts', 'export const b = 2;');
  write('main/index.ts', 'export const c = 3;');
  write('dist/homeserver/cli/main.js', 'export const a = 1;');
  write('dist/homeserver/rooms/x.js', 'export const b = 2;');
  writeManifest(root, sourceStats(root));
});

const entry = () => compiledFile(root, 'homeserver/cli/main.ts');

test('a build of the very sources on disk is used', () => {
  assert.equal(entry(), path.join(root, 'dist', 'homeserver', 'cli', 'main.js'));
});

test('a source edited after the build (even to the same size) sends serve back to the sources', () => {
  const file = path.join(root, 'homeserver/rooms/x.ts');
  fs.writeFileSync(file, 'export const b = 3;');
  fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
  assert.equal(entry(), undefined);
});

test('a source restored with an older modification time does too', () => {
  const file = path.join(root, 'homeserver/rooms/x.ts');
  fs.utimesSync(file, new Date(0), new Date(0));
  assert.equal(entry(), undefined);
});

test('a source added or removed after the build does too', () => {
  write('homeserver/rooms/new.ts', 'export {};');
  assert.equal(entry(), undefined);
  fs.rmSync(path.join(root, 'homeserver/rooms/new.ts'));
  assert.ok(entry(), 'back as built');
  fs.rmSync(path.join(root, 'homeserver/rooms/x.ts'));
  assert.equal(entry(), undefined);
});

test('a changed package.json or tsconfig does too', () => {
  write('tsconfig.build.json', '{"compilerOptions":{}}');
  assert.equal(entry(), undefined);
});

test('changes outside what serve runs (main/) do not', () => {
  write('main/index.ts', 'export const c = 4; // edited');
  assert.ok(entry());
});

test('no manifest (a plain tsc build, or a failed one) means the sources', () => {
  fs.rmSync(path.join(root, 'dist', 'build-manifest.json'));
  assert.equal(entry(), undefined);
  write('dist/build-manifest.json', 'not json');
  assert.equal(entry(), undefined);
});
