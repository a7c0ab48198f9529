// The web client's figures, measured in Debian's Chromium against a `hearth serve` in its own
// process: the initial JavaScript and CSS (gzip), page load to an interactive room list, and the
// time to render 200 messages of back-pagination. Needs `npm run build:renderer` first.
//   node bench/renderer.ts        prints the JSON result
// bench/run.ts may call benchRenderer() and fold the result into its report.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer } from './lib/process.ts';
import { median, percentile, round } from './lib/stats.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HEARTH_BIN = join(ROOT, 'bin', 'hearth.js');
/** The built web client; HEARTH_WEB_ROOT measures another build (an older one, to compare). */
const WEB_ROOT = process.env.HEARTH_WEB_ROOT ?? join(ROOT, 'dist', 'renderer');
const CHROMIUM = process.env.HEARTH_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

const ROOMS = 20;
const HISTORY = 200;
const LOAD_RUNS = Number(process.env.BENCH_LOAD_RUNS ?? 7);
const PAGINATION_RUNS = Number(process.env.BENCH_PAGINATION_RUNS ?? 3);

export interface RendererResult {
  bundle: {
    /** What index.html loads before anything runs: its module script and what it preloads. */
    initialJsGzipKiB: number;
    initialCssGzipKiB: number;
    /** Every file under dist/renderer, for comparison (lazy chunks, fonts, images). */
    allFilesGzipKiB: number;
    targetInitialJsGzipKiB: 400;
  };
  /** Navigation start to the room list showing all rooms, signed in (session in localStorage). */
  roomListInteractiveMs: {
    cold: { median: number; p95: number };
    warm: { median: number; p95: number };
    runs: number;
    rooms: number;
    targetMs: 1000;
  };
  /** First scroll to the top until all 200 earlier messages are in the DOM and the room's start shows. */
  backPagination200Ms: { median: number; runs: number; messages: number };
}

function log(msg: string): void {
  process.stderr.write(`[bench renderer] ${msg}\n`);
}

const gzipKiB = (file: string) => gzipSync(readFileSync(file)).length / 1024;

/** Sizes of what index.html loads up front, and of everything that was built. */
export function measureBundle(webRoot = WEB_ROOT): RendererResult['bundle'] {
  const html = readFileSync(join(webRoot, 'index.html'), 'utf8');
  const refs = (re: RegExp) => [...html.matchAll(re)].map((m) => join(webRoot, m[1]!.replace(/^\//, '')));
  const js = [...refs(/<script[^>]+src="([^"]+)"/g), ...refs(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+)"/g)];
  const css = refs(/<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"/g);
  // The build's .br/.gz copies are other encodings of files already counted.
  const all = readdirRecursive(webRoot).filter((f) => !/\.(br|gz)$/.test(f));
  return {
    initialJsGzipKiB: round(
      js.reduce((s, f) => s + gzipKiB(f), 0),
      1,
    ),
    initialCssGzipKiB: round(
      css.reduce((s, f) => s + gzipKiB(f), 0),
      1,
    ),
    allFilesGzipKiB: round(
      all.reduce((s, f) => s + gzipKiB(f), 0),
      1,
    ),
    targetInitialJsGzipKiB: 400,
  };
}

function readdirRecursive(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? readdirRecursive(join(dir, e.name)) : [join(dir, e.name)]));
}

interface User {
  userId: string;
  accessToken: string;
  deviceId: string;
}

async function call(base: string, user: User | undefined, method: string, path: string, body?: unknown): Promise<any> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (user) headers.authorization = `Bearer ${user.accessToken}`;
  const res = await fetch(`${base}/_matrix/client/v3${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await res.json();
  if (!res.ok && res.status !== 401) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function registerUser(base: string, username: string): Promise<User> {
  const { session } = await call(base, undefined, 'POST', '/register', { username, password: 'bench password' });
  const r = await call(base, undefined, 'POST', '/register', { username, password: 'bench password', auth: { type: 'm.login.dummy', session } });
  return { userId: r.user_id, accessToken: r.access_token, deviceId: r.device_id };
}

async function say(base: string, user: User, roomId: string, body: string): Promise<void> {
  await call(base, user, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/b${Math.random().toString(36).slice(2)}`, {
    msgtype: 'm.text',
    body,
  });
}

/** A browser profile already signed in as `user`, as after a reload of the app. */
async function signedInPage(browser: Browser, base: string, user: User) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript((session) => localStorage.setItem('hearth.session', session), JSON.stringify({ baseUrl: base, ...user }));
  // Stamped by the page itself the moment the last room button is in the DOM, and told on the
  // console, which the page would not otherwise notice.
  await context.addInitScript(
    ([rooms, signal]) => {
      new MutationObserver((_, observer) => {
        if (document.querySelectorAll('nav button.room').length >= rooms) {
          observer.disconnect();
          console.debug(`${signal}${performance.now()}`);
        }
      }).observe(document, { childList: true, subtree: true });
    },
    [ROOMS + 1, INTERACTIVE_SIGNAL] as const,
  );
  return { context, page: await context.newPage() };
}

const INTERACTIVE_SIGNAL = 'hearth-bench: room list interactive at ';

/**
 * Loads the app and returns when, after navigation start, the page had every room button. It
 * waits for the page's console message rather than polling with page.waitForFunction, which
 * injects Playwright's own script into the page as soon as it has loaded: tens of milliseconds
 * of main-thread work, in the middle of the start-up being measured.
 */
async function loadToRoomList(page: Page, base: string): Promise<number> {
  const signal = page.waitForEvent('console', { predicate: (m) => m.text().startsWith(INTERACTIVE_SIGNAL), timeout: 30_000 });
  await page.goto(base, { waitUntil: 'commit' });
  return Number((await signal).text().slice(INTERACTIVE_SIGNAL.length));
}

export async function benchRenderer(): Promise<RendererResult> {
  if (!existsSync(join(WEB_ROOT, 'index.html'))) throw new Error("the web client is not built: run 'npm run build:renderer'");
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}`);
  const bundle = measureBundle();
  log(`initial JS ${bundle.initialJsGzipKiB} KiB gzip, CSS ${bundle.initialCssGzipKiB} KiB`);

  const dataDir = mkdtempSync(join(tmpdir(), 'hearth-bench-renderer-'));
  const server = await startServer(
    process.execPath,
    [HEARTH_BIN, 'serve', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--server-name', 'localhost', '--web-root', WEB_ROOT],
    /^hearth ready client=(\S+)/m,
  );
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const base = server.url;
    const reader = await registerUser(base, 'reader');
    const writer = await registerUser(base, 'writer');
    for (let i = 1; i <= ROOMS; i++) {
      const { room_id } = await call(base, writer, 'POST', '/createRoom', { name: `Room ${i}`, invite: [reader.userId] });
      await call(base, reader, 'POST', `/join/${encodeURIComponent(room_id)}`, {});
      for (let m = 1; m <= 3; m++) await say(base, writer, room_id, `Message ${m} in room ${i}`);
    }
    const { room_id: history } = await call(base, writer, 'POST', '/createRoom', { name: 'History', invite: [reader.userId] });
    await call(base, reader, 'POST', `/join/${encodeURIComponent(history)}`, {});
    for (let m = 1; m <= HISTORY; m++) await say(base, writer, history, `History ${m}`);
    log(`seeded ${ROOMS + 1} rooms`);

    // Cold: a fresh browser profile each time (nothing cached, all JavaScript compiled anew).
    // Warm: one profile reloaded, as the desktop app starts on later launches (HTTP cache and
    // V8's code cache kept); the first load of that profile is not counted.
    const cold: number[] = [];
    for (let run = 0; run < LOAD_RUNS; run++) {
      const { context, page } = await signedInPage(browser, base, reader);
      cold.push(await loadToRoomList(page, base));
      await context.close();
    }
    const warm: number[] = [];
    {
      const { context, page } = await signedInPage(browser, base, reader);
      await loadToRoomList(page, base);
      for (let run = 0; run < LOAD_RUNS; run++) warm.push(await loadToRoomList(page, base));
      await context.close();
    }
    log(`room list interactive, cold: ${cold.map((v) => Math.round(v)).join(', ')} ms; warm: ${warm.map((v) => Math.round(v)).join(', ')} ms`);

    const paginations: number[] = [];
    for (let run = 0; run < PAGINATION_RUNS; run++) {
      const { context, page } = await signedInPage(browser, base, reader);
      await page.goto(base);
      await page.locator('nav button.room', { hasText: 'History' }).click();
      await page.getByText(`History ${HISTORY}`, { exact: true }).waitFor();
      const ms = await page.evaluate(
        (total) =>
          new Promise<number>((resolve) => {
            const log = document.querySelector('[role=log]')!;
            const t0 = performance.now();
            const done = () =>
              Array.from(log.querySelectorAll('.msg .body')).filter((b) => b.textContent!.startsWith('History ')).length >= total &&
              log.textContent!.includes('This is the beginning of');
            const tick = () => {
              if (done()) return resolve(performance.now() - t0);
              log.scrollTop = 0;
              requestAnimationFrame(tick);
            };
            tick();
          }),
        HISTORY,
      );
      paginations.push(ms);
      await context.close();
    }
    log(`200 messages of back-pagination: ${paginations.map((v) => Math.round(v)).join(', ')} ms`);

    return {
      bundle,
      roomListInteractiveMs: {
        cold: { median: round(median(cold), 1), p95: round(percentile(cold, 95), 1) },
        warm: { median: round(median(warm), 1), p95: round(percentile(warm, 95), 1) },
        runs: LOAD_RUNS,
        rooms: ROOMS + 1,
        targetMs: 1000,
      },
      backPagination200Ms: { median: round(median(paginations), 1), runs: PAGINATION_RUNS, messages: HISTORY },
    };
  } finally {
    await browser.close();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await benchRenderer();
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
