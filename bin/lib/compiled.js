// Whether dist/ holds a build of exactly the sources on disk. `npm run build:main` (bin/build-main.js)
// records each source file's size and modification time in dist/build-manifest.json; `hearth serve`
// runs the compiled JS only when every file still matches, and otherwise the TypeScript sources.
// Compiled JS starts faster and smaller: no type stripping of every module at start.
// Plain JS with only node: imports, as bin/lib/node22.js.

import fs from 'node:fs';
import path from 'node:path';

export const MANIFEST = 'build-manifest.json';

/** What tsconfig.build.json compiles, and the files that shape its output. */
export const SOURCE_DIRS = ['homeserver', 'main'];
export const CONFIG_FILES = ['package.json', 'tsconfig.json', 'tsconfig.build.json'];

/**
 * Size and modification time of every file under `dirs` and of the config files, keyed by path
 * relative to `root` with `/` separators.
 * @returns {Record<string, [number, number]>}
 */
export function sourceStats(root, dirs = SOURCE_DIRS) {
  const out = {};
  const note = (rel) => {
    const stat = fs.statSync(path.join(root, rel), { throwIfNoEntry: false });
    if (stat?.isFile()) out[rel] = [stat.size, stat.mtimeMs];
  };
  const walk = (rel) => {
    for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const child = `${rel}/${entry.name}`;
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) note(child);
    }
  };
  for (const dir of dirs) if (fs.existsSync(path.join(root, dir))) walk(dir);
  for (const file of CONFIG_FILES) note(file);
  return out;
}

export function writeManifest(root, stats) {
  fs.writeFileSync(path.join(root, 'dist', MANIFEST), JSON.stringify({ sources: stats }) + '\n');
}

/**
 * The compiled counterpart of `source` (a path under one of `dirs`, e.g. homeserver/cli/main.ts)
 * as a file path, when dist/ was built from the sources under `dirs` exactly as they are now;
 * otherwise undefined.
 */
export function compiledFile(root, source, dirs = ['homeserver']) {
  let manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(root, 'dist', MANIFEST), 'utf8')).sources;
  } catch {
    return undefined;
  }
  if (!manifest || typeof manifest !== 'object') return undefined;
  const now = sourceStats(root, dirs);
  const inScope = (rel) => CONFIG_FILES.includes(rel) || dirs.some((dir) => rel.startsWith(`${dir}/`));
  const built = Object.keys(manifest).filter(inScope);
  if (built.length !== Object.keys(now).length) return undefined;
  for (const rel of built) {
    const [size, mtime] = now[rel] ?? [];
    if (size !== manifest[rel][0] || mtime !== manifest[rel][1]) return undefined;
  }
  const file = path.join(root, 'dist', source.replace(/\.([cm]?)ts$/, '.$1js'));
  return fs.existsSync(file) ? file : undefined;
}
