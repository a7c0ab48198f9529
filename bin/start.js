#!/usr/bin/env node
// `npm start`: runs the desktop app with Electron when its binary is installed (building dist/
// first when it is missing or older than the sources); otherwise runs `hearth serve` and opens the
// web client in the default browser (or prints its URL). Extra arguments go to `hearth serve`,
// e.g. `npm start -- --listen 127.0.0.1:9000`; the desktop app takes none.

import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensureNode22, runForwardingSignals, waitForwardingSignals } from './lib/node22.js';

await ensureNode22(import.meta.url);

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

const electron = findElectron();
if (electron.binary) {
  const stale = staleness(desktopOutputs());
  if (stale) {
    console.log(`Building Hearth first (${stale}): npm run build`);
    const code = await npmRun('build');
    if (code !== 0) {
      console.error(`npm run build failed (exit code ${code}); not starting Electron.`);
      process.exit(code);
    }
  }
  if (args.length > 0) console.log(`(the desktop app takes no options; ignoring ${args.join(' ')})`);
  console.log(`Starting Hearth with Electron (${electron.binary})`);
  // Inherited from a parent that runs Electron as plain Node, it would stop the app from starting.
  const env = { ...process.env };
  delete env.ELECTRON_RUN_AS_NODE;
  process.exit(await runForwardingSignals(electron.binary, [root], { stdio: 'inherit', env }));
}
console.log(`Electron is not available (${electron.reason}); running the homeserver for your browser.`);

// The browser needs only the built web client; `hearth serve` runs the TypeScript sources, or the
// compiled dist/ when `npm run build:main` built it from them (bin/lib/compiled.js).
if (pkg.scripts?.['build:renderer'] && hasFiles(path.join(root, 'renderer'))) {
  const stale = staleness([path.join('dist', 'renderer', 'index.html')], ['renderer']);
  if (stale) {
    console.log(`Building the web client first (${stale}): npm run build:renderer`);
    const code = await npmRun('build:renderer');
    if (code !== 0) console.error(`npm run build:renderer failed (exit code ${code}); serving without a fresh web client.`);
  }
}

const webRoot = path.join(root, 'dist', 'renderer');
const hasWebClient = fs.existsSync(path.join(webRoot, 'index.html'));
const serve = spawn(process.execPath, [path.join(root, 'bin', 'hearth.js'), 'serve', ...(hasWebClient ? ['--web-root', webRoot] : []), ...args], {
  stdio: ['ignore', 'pipe', 'inherit'],
  detached: process.platform !== 'win32',
});
const exited = waitForwardingSignals(serve);

let buffered = '';
serve.stdout.setEncoding('utf8').on('data', (chunk) => {
  process.stdout.write(chunk);
  if (buffered === null) return;
  buffered += chunk;
  const ready = /^hearth ready client=(\S+)/m.exec(buffered);
  if (ready) {
    buffered = null;
    announce(ready[1]).catch((error) => console.error(error));
  }
});
process.exit(await exited);

async function announce(url) {
  if (!hasWebClient) {
    console.log(
      `The homeserver is at ${url}. The web client is not built (no dist/renderer/index.html), ` +
        'so there is nothing to open; any Matrix client can connect to that URL. Ctrl-C stops it.',
    );
    return;
  }
  const how = await openInBrowser(url);
  console.log(
    how
      ? `Opened ${url} in your browser (${how}). Ctrl-C stops Hearth.`
      : `Open ${url} in your browser (no way to open it automatically here). Ctrl-C stops Hearth.`,
  );
}

/**
 * The Electron binary, if it has been downloaded. Looked up on disk first: the electron package
 * (45 and later at least) downloads a missing binary when required, which `npm start` must not
 * do behind the user's back (nor can on machines without access to GitHub's releases).
 */
function findElectron() {
  const requireHere = createRequire(import.meta.url);
  let packageDir;
  try {
    packageDir = path.dirname(requireHere.resolve('electron/package.json'));
  } catch {
    return { reason: 'the electron package is not installed' };
  }
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  const pathFile = path.join(packageDir, 'path.txt');
  const relative = fs.existsSync(pathFile) ? fs.readFileSync(pathFile, 'utf8').trim() : undefined;
  const candidate = path.join(override || path.join(packageDir, 'dist'), relative || electronExecutableName());
  if (!fs.statSync(candidate, { throwIfNoEntry: false })?.isFile()) {
    return {
      reason:
        'the Electron binary was not downloaded' +
        (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD ? ', as ELECTRON_SKIP_BINARY_DOWNLOAD asks' : '') +
        '; `npx install-electron` fetches it',
    };
  }
  // With its path.txt and binary in place, the package's own answer is safe to ask for: it
  // downloads only when one of them is missing.
  if (relative === undefined) return { binary: candidate };
  try {
    const binary = requireHere('electron');
    if (typeof binary === 'string' && fs.existsSync(binary)) return { binary };
  } catch {
    // fall through to the path found on disk
  }
  return { binary: candidate };
}

/** The executable's path inside node_modules/electron/dist, as electron's install.js lays it out. */
function electronExecutableName() {
  if (process.platform === 'darwin') return 'Electron.app/Contents/MacOS/Electron';
  if (process.platform === 'win32') return 'electron.exe';
  return 'electron';
}

/** What the desktop app loads from dist/: the main process, its preload, and the web client when there is one to build. */
function desktopOutputs() {
  const outputs = [pkg.main, path.join('dist', 'main', 'preload.cjs'), path.join('dist', 'homeserver', 'index.js')];
  if (pkg.scripts?.['build:renderer'] && hasFiles(path.join(root, 'renderer'))) {
    outputs.push(path.join('dist', 'renderer', 'index.html'));
  }
  return outputs;
}

/**
 * Why the outputs need building, or undefined when they are up to date: an output is missing,
 * or a source file (main/, homeserver/, renderer/, package.json, tsconfigs) is newer than the
 * oldest output.
 */
function staleness(outputs, sourceDirs = ['main', 'homeserver', 'renderer']) {
  let oldest = Infinity;
  for (const output of outputs) {
    const stat = fs.statSync(path.join(root, output), { throwIfNoEntry: false });
    if (!stat) return `${output} is missing`;
    oldest = Math.min(oldest, stat.mtimeMs);
  }
  const sources = [
    ...sourceDirs.flatMap((dir) => walk(path.join(root, dir))),
    ...['package.json', 'tsconfig.json', 'tsconfig.build.json'].map((file) => path.join(root, file)),
  ];
  for (const source of sources) {
    const stat = fs.statSync(source, { throwIfNoEntry: false });
    if (stat && stat.mtimeMs > oldest) return `${path.relative(root, source)} changed since the last build`;
  }
  return undefined;
}

function walk(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : walk(full);
    return entry.isFile() ? [full] : [];
  });
}

function hasFiles(dir) {
  return walk(dir).length > 0;
}

/** Runs an npm script with the npm that runs us (npm sets npm_execpath), else the npm on PATH. */
function npmRun(script) {
  const npmCli = process.env.npm_execpath;
  const [command, commandArgs] = npmCli ? [process.execPath, [npmCli, 'run', script]] : [process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', script]];
  return runForwardingSignals(command, commandArgs, {
    cwd: root,
    stdio: 'inherit',
    shell: !npmCli && process.platform === 'win32',
  });
}

/** Opens the URL with the platform's opener; resolves with the opener's name, or undefined. */
function openInBrowser(url) {
  let command;
  let commandArgs;
  if (process.platform === 'darwin') [command, commandArgs] = ['open', [url]];
  else if (process.platform === 'win32') [command, commandArgs] = ['cmd', ['/c', 'start', '""', url]];
  else if (process.env.DISPLAY || process.env.WAYLAND_DISPLAY) [command, commandArgs] = ['xdg-open', [url]];
  else return Promise.resolve(undefined); // no graphical session to open a browser in
  return new Promise((resolve) => {
    const opener = spawn(command, commandArgs, { stdio: 'ignore', detached: true });
    opener.on('error', () => resolve(undefined));
    opener.on('spawn', () => {
      opener.unref();
      resolve(command);
    });
  });
}
