// Waits shared by the encryption browser tests: the crypto works in the background.
import assert from 'node:assert/strict';
import type { BrowserContext, Page, Route } from 'playwright-core';
import { api, type ApiUser, type Hearth } from './helpers.ts';

/** Asks `check` again every `everyMs` until it holds; gives up (failing) after `tries`, so a broken client ends the test. */
export async function until(what: string, check: () => Promise<boolean>, tries = 300, everyMs = 100): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  assert.fail(`never happened: ${what}`);
}

/** Waits until the server lists a device key for each of the user's sessions (its crypto is up). */
export async function waitForDeviceKeys(hearth: Hearth, asUser: ApiUser, userId: string, count = 1): Promise<void> {
  await until(`${count} device key(s) of ${userId} on the server`, async () => {
    const res = await api(hearth, asUser, 'POST', '/keys/query', { device_keys: { [userId]: [] } });
    return Object.keys(res.device_keys?.[userId] ?? {}).length >= count;
  });
}

export interface ShownNotification {
  title: string;
  body: string;
}

/**
 * Grants notifications to the window's profile and wraps window.Notification to record each one
 * (as search-notify.test.ts does); takes effect from the next page load.
 */
export async function recordNotifications(context: BrowserContext, url: string): Promise<void> {
  await context.grantPermissions(['notifications'], { origin: url });
  await context.addInitScript(() => {
    const Real = window.Notification;
    const shown: ShownNotification[] = [];
    (globalThis as unknown as { __shown: ShownNotification[] }).__shown = shown;
    class Recorded extends Real {
      constructor(title: string, options?: NotificationOptions) {
        shown.push({ title, body: options?.body ?? '' });
        super(title, options);
      }
    }
    Object.defineProperty(window, 'Notification', { value: Recorded, writable: true, configurable: true });
  });
}

export function notificationsShown(page: Page): Promise<ShownNotification[]> {
  return page.evaluate(() => (globalThis as unknown as { __shown?: ShownNotification[] }).__shown ?? []);
}

/**
 * Holds the crypto's WebAssembly download until release() is called: the crypto of a window then
 * stays "loading" for as long as a test needs. `asked` resolves when the page has asked for it.
 */
export async function holdCryptoWasm(page: Page): Promise<{ asked: Promise<void>; release: () => Promise<void> }> {
  let release!: () => void;
  let markAsked!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const asked = new Promise<void>((r) => (markAsked = r));
  const handler = async (route: Route) => {
    markAsked();
    await released;
    await route.continue().catch(() => {});
  };
  await page.route('**/*.wasm', handler);
  return {
    asked,
    release: async () => {
      release();
      await page.unroute('**/*.wasm', handler);
    },
  };
}
