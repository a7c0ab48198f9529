// What the settings browser tests share: opening the dialogs, and the screenshots + axe sweep.
import type { Page } from 'playwright-core';
import { assertAccessible, screenshot } from './helpers.ts';

/** The open dialog called `name` (a regular expression for titles with the room's name). */
export const dialog = (page: Page, name: string | RegExp) => page.getByRole('dialog', { name });

export async function openSettings(page: Page, tab: string) {
  await page.getByRole('button', { name: 'Settings', exact: true }).click();
  const d = dialog(page, 'Settings');
  await d.getByRole('tab', { name: tab }).click();
  return d;
}

/**
 * axe on what is open, and screenshots of it in light, dark and at 390 px. axe runs once: the
 * files must stay under the runner's 120 s on a loaded machine, and the dark tokens are the app's
 * own, which the screens sweep checks (these screens passed axe in dark when written).
 */
export async function captureAll(page: Page, name: string) {
  await assertAccessible(page, `${name} (light)`);
  await screenshot(page, `settings-${name}-light`);
  await page.emulateMedia({ colorScheme: 'dark' });
  await screenshot(page, `settings-${name}-dark`);
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, `settings-${name}-390`);
  await page.setViewportSize({ width: 1280, height: 800 });
}
