// The web client's figures, measured in Debian's Chromium against a `hearth serve` in its own
// process: the initial JavaScript and CSS (gzip), page load to an interactive room list of 50
// rooms (cold and warm), the time to render 1,000 messages of back-pagination, and the frame
// times while scrolling through them. Needs `npm run build:renderer` first.
//   node bench/renderer.ts        prints the JSON result
// bench/run.ts may call benchRenderer() and fold the result into its report.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, HEARTH_BIN, WEB_ROOT } from './lib/browser.ts';
import { startServer } from './lib/process.ts';
import { median, percentile, round } from './lib/stats.ts';

/** Rooms besides the History room: 50 in the list in all (issue 16: "50 rooms, cold and warm"). */
const ROOMS = 49;
/** Messages in the History room, all loaded by back-pagination (issue 16: "1,000 messages"). */
const HISTORY = Number(process.env.BENCH_HISTORY ?? 1000);
/** Pixels per frame of the scripted scroll: a brisk flick of the wheel, ~7,000 px a second at 60 Hz. */
const SCROLL_STEP_PX = 120;
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
  /** First scroll to the top until all earlier messages are in the DOM and the room's start shows. */
  backPaginationMs: { median: number; runs: number; messages: number };
  /**
   * requestAnimationFrame deltas while a script scrolls those messages from the bottom to the top
   * (SCROLL_STEP_PX a frame), every run's frames together. At 60 Hz a frame that keeps up is
   * 16.7 ms; a late one is a multiple of it. `dropped`: deltas over 1.5 frames.
   */
  scrollFrameMs: { p50: number; p95: number; max: number; frames: number; dropped: number; stepPx: number; targetP95Ms: 16.7 };
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
  // Seeding 1,000 messages meets the server's rate limit for one sender: wait as told, and resend.
  if (res.status === 429) {
    await new Promise((r) => setTimeout(r, Number(json.retry_after_ms ?? 100)));
    return call(base, user, method, path, body);
  }
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

const TRACE_DIR = process.env.BENCH_TRACE_DIR;
const TRACE_CATEGORIES = [
  'devtools.timeline',
  'disabled-by-default-devtools.timeline',
  'toplevel',
  'v8.execute',
  'blink',
  'cc',
  'viz',
  // BENCH_TRACE_JS=1: V8's sampling profiler too, for bench/diag/trace-profile.ts (it slows the page).
  ...(process.env.BENCH_TRACE_JS ? ['disabled-by-default-v8.cpu_profiler'] : []),
];

/** One frame at 60 Hz. */
const FRAME_MS = 1000 / 60;

/**
 * From the first scroll to the top until every one of the room's HISTORY messages is in the DOM
 * and the room's start shows: the timeline fetches older messages while its top is in view, and
 * the script keeps it there.
 */
async function backPaginate(page: Page): Promise<number> {
  return page.evaluate(
    (total) =>
      new Promise<number>((resolve) => {
        const log = document.querySelector('[role=log]')!;
        const t0 = performance.now();
        const done = () =>
          log.querySelectorAll('.msg .body').length >= total &&
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
}

/**
 * The timeline scrolled by script from its bottom to its top, SCROLL_STEP_PX a frame, as a
 * person flicking the wheel would; returns the requestAnimationFrame deltas. Each delta is the
 * time between two frames the browser began: 16.7 ms at 60 Hz when the page keeps up.
 */
async function scrollFrames(page: Page): Promise<number[]> {
  return page.evaluate(
    (step) =>
      new Promise<number[]>((resolve) => {
        const log = document.querySelector<HTMLElement>('[role=log]')!;
        log.scrollTop = log.scrollHeight;
        const deltas: number[] = [];
        let last: number | undefined;
        const frame = (t: number) => {
          if (last !== undefined) deltas.push(t - last);
          last = t;
          if (log.scrollTop <= 0) return resolve(deltas);
          log.scrollTop -= step;
          requestAnimationFrame(frame);
        };
        // Two frames to settle at the bottom before the first measured one.
        requestAnimationFrame(() => requestAnimationFrame(frame));
      }),
    SCROLL_STEP_PX,
  );
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
    const frames: number[] = [];
    for (let run = 0; run < PAGINATION_RUNS; run++) {
      const { context, page } = await signedInPage(browser, base, reader);
      await page.goto(base);
      await page.locator('nav button.room', { hasText: 'History' }).click();
      await page.getByText(`History ${HISTORY}`, { exact: true }).waitFor();
      // BENCH_TRACE_DIR: a Chrome trace of each phase of the first run (bench/diag/trace-summary.ts).
      const traced = async <T>(name: string, phase: () => Promise<T>): Promise<T> => {
        if (!TRACE_DIR || run > 0) return phase();
        await browser.startTracing(page, { path: join(TRACE_DIR, `${name}.json`), categories: TRACE_CATEGORIES });
        try {
          return await phase();
        } finally {
          await browser.stopTracing();
        }
      };
      paginations.push(await traced('back-pagination', () => backPaginate(page)));
      frames.push(...(await traced('scroll', () => scrollFrames(page))));
      await context.close();
    }
    log(`${HISTORY} messages of back-pagination: ${paginations.map((v) => Math.round(v)).join(', ')} ms`);
    const dropped = frames.filter((d) => d > 1.5 * FRAME_MS).length;
    log(
      `scrolling them: ${frames.length} frames, p50 ${round(median(frames))} ms, p95 ${round(percentile(frames, 95))} ms, max ${round(Math.max(...frames))} ms, ${dropped} dropped`,
    );

    return {
      bundle,
      roomListInteractiveMs: {
        cold: { median: round(median(cold), 1), p95: round(percentile(cold, 95), 1) },
        warm: { median: round(median(warm), 1), p95: round(percentile(warm, 95), 1) },
        runs: LOAD_RUNS,
        rooms: ROOMS + 1,
        targetMs: 1000,
      },
      backPaginationMs: { median: round(median(paginations), 1), runs: PAGINATION_RUNS, messages: HISTORY },
      scrollFrameMs: {
        p50: round(median(frames), 1),
        p95: round(percentile(frames, 95), 1),
        max: round(Math.max(...frames), 1),
        frames: frames.length,
        dropped,
        stepPx: SCROLL_STEP_PX,
        targetP95Ms: 16.7,
      },
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
