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

/** Screenshots of what is open in light, dark and at 390 px, and axe in light and dark (the colours differ; the layout at 390 px is the narrow one's, checked by the screenshot). */
export async function captureAll(page: Page, name: string) {
  await assertAccessible(page, `${name} (light)`);
  await screenshot(page, `settings-${name}-light`);
  await page.emulateMedia({ colorScheme: 'dark' });
  await assertAccessible(page, `${name} (dark)`);
  await screenshot(page, `settings-${name}-dark`);
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, `settings-${name}-390`);
  await page.setViewportSize({ width: 1280, height: 800 });
}
