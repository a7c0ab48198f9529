// Shared by the browser tests: a real `hearth serve` child process with the built web client,
// Debian's Chromium driven by playwright-core, screenshots, and the accessibility check.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const WEB_ROOT = path.join(ROOT, 'dist', 'renderer');
export const CHROMIUM = process.env.HEARTH_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.join(ROOT, 'test-results', 'screenshots');
export const PASSWORD = 'correct horse battery staple';

/** Fails at once, naming the missing piece, rather than timing out later. */
export function assertPrerequisites(): void {
  assert.ok(existsSync(path.join(WEB_ROOT, 'index.html')), `the web client is not built: run 'npm run build:renderer' (no ${WEB_ROOT}/index.html)`);
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: run 'apt-get install chromium' (or set HEARTH_CHROMIUM)`);
}

export interface Hearth {
  url: string;
  /** The server's data dir, for `hearth admin` beside it. */
  dataDir: string;
  api: string;
  stop(): Promise<void>;
}

/**
 * Starts `hearth serve` on a free loopback port with a fresh data dir and the built client;
 * `configYaml`, when given, is the data dir's hearth.yaml; `serverName` null names none (a config
 * with `lan` takes the name bound to the signing key).
 */
export async function startHearth(configYaml?: string, serverName: string | null = 'localhost'): Promise<Hearth> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'hearth-e2e-'));
  if (configYaml !== undefined) writeFileSync(path.join(dataDir, 'hearth.yaml'), configYaml);
  const child: ChildProcess = spawn(
    process.execPath,
    [
      path.join(ROOT, 'bin', 'hearth.js'),
      'serve',
      '--data-dir',
      dataDir,
      '--listen',
      '127.0.0.1:0',
      ...(serverName === null ? [] : ['--server-name', serverName]),
      '--web-root',
      WEB_ROOT,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`hearth serve did not get ready in 20 s\n${stderr}`)), 20_000);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /^hearth ready client=(\S+)/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`hearth serve exited with ${code} before it was ready\n${stderr}`));
    });
  });
  return {
    url,
    dataDir,
    api: `${url}/_matrix/client/v3`,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
}

/**
 * One `hearth serve` and one Chromium for a test file, started in `before` and stopped in `after`,
 * plus every window opened through it (checked at the end for CSP violations and page errors).
 */
export function useHearth(
  configYaml?: string,
  serverName: string | null = 'localhost',
): { hearth: () => Hearth; open: (colorScheme?: 'light' | 'dark') => Promise<Window>; problems: () => string[] } {
  let hearth: Hearth | undefined;
  let browser: Browser | undefined;
  const windows: Window[] = [];
  before(async () => {
    assertPrerequisites();
    hearth = await startHearth(configYaml, serverName);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await hearth?.stop();
  });
  return {
    hearth: () => hearth!,
    async open(colorScheme = 'light') {
      const w = await openWindow(browser!, hearth!.url, colorScheme);
      windows.push(w);
      return w;
    },
    problems: () => windows.flatMap((w) => w.problems),
  };
}

export interface Window {
  context: BrowserContext;
  page: Page;
  /** Content-Security-Policy violations and uncaught errors seen by the page. */
  problems: string[];
}

/** A separate browser profile (its own localStorage): one per simulated person. */
export async function openWindow(browser: Browser, url: string, colorScheme: 'light' | 'dark' = 'light'): Promise<Window> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme, locale: 'en-GB', timezoneId: 'UTC' });
  // Fail fast: everything here is on loopback, and a file must finish within the runner's timeout.
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`uncaught: ${err.message}`));
  page.on('console', (msg) => {
    if (/Content.Security.Policy|Refused to (load|execute|apply)/i.test(msg.text())) problems.push(`CSP: ${msg.text()}`);
  });
  await page.goto(url);
  return { context, page, problems };
}

export async function registerInUi(page: Page, username: string, password = PASSWORD): Promise<void> {
  await page.getByRole('button', { name: 'Create an account' }).click();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel('Confirm password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'Rooms', exact: true }).waitFor();
}

export async function signInInUi(page: Page, username: string, password = PASSWORD): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** The room list's entry for a room (a button whose name starts with the room's name). */
export function roomButton(page: Page, name: string) {
  return page.getByRole('navigation', { name: 'Rooms' }).getByRole('button', { name: new RegExp(`^${escapeRegExp(name)}\\b`) });
}

export function timeline(page: Page) {
  return page.getByRole('log', { name: 'Messages' });
}

export async function send(page: Page, text: string): Promise<void> {
  const composer = page.locator('#composer-input');
  await composer.fill(text);
  await composer.press('Enter');
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
}

/** axe-core on the page as it is; fails on any serious or critical violation, listing them. */
export async function assertAccessible(page: Page, screen: string): Promise<void> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    bad.map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`),
    [],
    `accessibility violations on the ${screen} screen`,
  );
}

// --- Over HTTP, for seeding: the same API any client uses. ------------------------------------

export interface ApiUser {
  userId: string;
  accessToken: string;
}

export async function api(hearth: Hearth, user: ApiUser | undefined, method: string, apiPath: string, body?: unknown): Promise<any> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (user) headers.authorization = `Bearer ${user.accessToken}`;
  const res = await fetch(`${hearth.api}${apiPath}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${apiPath}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

export async function registerOverHttp(hearth: Hearth, username: string, password = PASSWORD): Promise<ApiUser> {
  const first = await fetch(`${hearth.api}/register`, { method: 'POST', body: JSON.stringify({ username, password }) });
  const { session } = (await first.json()) as { session: string };
  const res = await api(hearth, undefined, 'POST', '/register', { username, password, auth: { type: 'm.login.dummy', session } });
  return { userId: res.user_id, accessToken: res.access_token };
}

/** The session the page keeps in localStorage, to act as the same user over HTTP. */
export async function sessionOf(page: Page): Promise<ApiUser> {
  const raw = await page.evaluate(() => localStorage.getItem('hearth.session'));
  assert.ok(raw, 'the page keeps a session in localStorage');
  return JSON.parse(raw) as ApiUser;
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
