// What the browser benchmarks (bench/renderer.ts, bench/renderer-crypto.ts) share: where the
// built client and `hearth serve` are, and how Debian's Chromium is started.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const HEARTH_BIN = join(ROOT, 'bin', 'hearth.js');
/** The built web client; HEARTH_WEB_ROOT measures another build (an older one, to compare). */
export const WEB_ROOT = process.env.HEARTH_WEB_ROOT ?? join(ROOT, 'dist', 'renderer');
export const CHROMIUM = process.env.HEARTH_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];
