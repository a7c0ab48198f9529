// The web client's end-to-end encryption, measured in Debian's Chromium against a `hearth serve`
// in its own process: the time from a page load (signed in, this device's keys kept in IndexedDB)
// to the first decrypted message on screen, in the room list's preview. The crypto loads only
// after the room list shows (renderer/src/lib/crypto.ts), so this is the room list's time plus
// loading the crypto's chunk and WebAssembly (from the HTTP cache on a reload) and decrypting.
// Needs `npm run build:renderer` first.
//   node bench/renderer-crypto.ts        prints the JSON result
// bench/renderer.ts (or bench/run.ts) may call benchFirstDecryptedMessage() and fold it in.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, HEARTH_BIN, WEB_ROOT } from './lib/browser.ts';
import { startServer } from './lib/process.ts';
import { median, percentile, round } from './lib/stats.ts';

const RUNS = Number(process.env.BENCH_DECRYPT_RUNS ?? 5);
const SECRET = 'hearth-bench: the first decrypted message';
const SIGNAL = 'hearth-bench: decrypted at ';

export interface CryptoBenchResult {
  /** Page load (navigation start) to the encrypted room's last message shown decrypted, reloads of one profile. */
  firstDecryptedMessageMs: { median: number; p95: number; runs: number };
  /** The lazily loaded crypto: its JavaScript chunk and its WebAssembly, gzip (not part of the initial JS). */
  lazyCryptoGzipKiB: { js: number; wasm: number };
}

interface User {
  userId: string;
  accessToken: string;
  deviceId: string;
}

function log(msg: string): void {
  process.stderr.write(`[bench renderer-crypto] ${msg}\n`);
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

/** Until the server lists the user's device keys: the page's crypto is up. */
async function waitForKeys(base: string, user: User): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const res = await call(base, user, 'POST', '/keys/query', { device_keys: { [user.userId]: [] } });
    if (res.device_keys?.[user.userId]?.[user.deviceId]) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the crypto of ${user.userId} never uploaded its keys`);
}

async function signedInPage(browser: Browser, base: string, user: User): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript((session) => localStorage.setItem('hearth.session', session), JSON.stringify({ baseUrl: base, ...user }));
  // Stamped by the page the moment the room list's preview shows the plaintext (not polled:
  // Playwright's own polling script would run in the middle of the start-up being measured).
  await context.addInitScript(
    ([secret, signal]) => {
      new MutationObserver((_, observer) => {
        if (document.querySelector('nav')?.textContent?.includes(secret)) {
          observer.disconnect();
          console.debug(`${signal}${performance.now()}`);
        }
      }).observe(document, { childList: true, subtree: true, characterData: true });
    },
    [SECRET, SIGNAL] as const,
  );
  return context.newPage();
}

function lazyCryptoSizes(): CryptoBenchResult['lazyCryptoGzipKiB'] {
  const assets = join(WEB_ROOT, 'assets');
  const size = (re: RegExp) =>
    readdirSync(assets)
      .filter((f) => re.test(f))
      .reduce((s, f) => s + gzipSync(readFileSync(join(assets, f))).length / 1024, 0);
  return { js: round(size(/^rust-crypto-.*\.js$/), 1), wasm: round(size(/\.wasm$/), 1) };
}

export async function benchFirstDecryptedMessage(): Promise<CryptoBenchResult> {
  if (!existsSync(join(WEB_ROOT, 'index.html'))) throw new Error("the web client is not built: run 'npm run build:renderer'");
  const dataDir = mkdtempSync(join(tmpdir(), 'hearth-bench-crypto-'));
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
    const readerPage = await signedInPage(browser, base, reader);
    const writerPage = await signedInPage(browser, base, writer);
    await Promise.all([readerPage.goto(base), writerPage.goto(base)]);
    await Promise.all([waitForKeys(base, reader), waitForKeys(base, writer)]);
    const { room_id } = await call(base, writer, 'POST', '/createRoom', {
      name: 'Secrets',
      invite: [reader.userId],
      initial_state: [{ type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } }],
    });
    await call(base, reader, 'POST', `/join/${encodeURIComponent(room_id)}`, {});
    await writerPage.locator('nav button.room', { hasText: 'Secrets' }).click();
    await writerPage.locator('#composer-input').fill(SECRET);
    await writerPage.locator('#composer-input').press('Enter');
    await readerPage.locator('nav', { hasText: SECRET }).waitFor({ timeout: 60_000 });
    log('the reader decrypts the message');

    const runs: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const signal = readerPage.waitForEvent('console', { predicate: (m) => m.text().startsWith(SIGNAL), timeout: 60_000 });
      await readerPage.reload({ waitUntil: 'commit' });
      runs.push(Number((await signal).text().slice(SIGNAL.length)));
    }
    log(`first decrypted message: ${runs.map((v) => Math.round(v)).join(', ')} ms`);
    return {
      firstDecryptedMessageMs: { median: round(median(runs), 1), p95: round(percentile(runs, 95), 1), runs: RUNS },
      lazyCryptoGzipKiB: lazyCryptoSizes(),
    };
  } finally {
    await browser.close();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await benchFirstDecryptedMessage();
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
