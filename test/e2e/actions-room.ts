// Shared by actions.test.ts and reactions.test.ts: Alice and Bob in two browser profiles and
// Carol on matrix-js-sdk (a client nobody here wrote) in one room, and ways to reach a message's
// row and its actions.
import assert from 'node:assert/strict';
import { createClient, type MatrixClient } from 'matrix-js-sdk';
import type { Page } from 'playwright-core';
import { fetchFn, quietLogger, registerWithSdk } from '../helpers/sdk.ts';
import { api, registerInUi, screenshot, sessionOf, timeline, type Hearth, type Window } from './helpers.ts';

export interface ActionsRoom {
  alice: Window;
  bob: Window;
  carol: MatrixClient;
  roomId: string;
}

/** Registers the three, puts them in "Weekend plans" (Alice's, so she has power 100), and opens it in both browsers. */
export async function meetInRoom(hearth: Hearth, open: () => Promise<Window>): Promise<ActionsRoom> {
  const alice = await open();
  const bob = await open();
  await registerInUi(alice.page, 'alice');
  await registerInUi(bob.page, 'bob');
  await api(hearth, await sessionOf(alice.page), 'PUT', '/profile/@alice:localhost/displayname', { displayname: 'Alice Martin' });
  await api(hearth, await sessionOf(bob.page), 'PUT', '/profile/@bob:localhost/displayname', { displayname: 'Bob Chen' });
  const creds = await registerWithSdk(hearth, 'carol');
  const carol = createClient({ baseUrl: hearth.url, ...creds, fetchFn, logger: quietLogger });
  await carol.setDisplayName('Carol Diaz');

  const { room_id: roomId } = await api(hearth, await sessionOf(alice.page), 'POST', '/createRoom', {
    name: 'Weekend plans',
    preset: 'private_chat',
    invite: ['@bob:localhost', '@carol:localhost'],
  });
  await api(hearth, await sessionOf(bob.page), 'POST', `/rooms/${encodeURIComponent(roomId)}/join`, {});
  await carol.joinRoom(roomId);
  for (const w of [alice, bob]) {
    await w.page.reload();
    await w.page
      .getByRole('navigation', { name: 'Rooms' })
      .getByRole('button', { name: /^Weekend plans\b/ })
      .click();
    await timeline(w.page).getByText('Carol Diaz joined').waitFor();
  }
  return { alice, bob, carol, roomId };
}

/** The timeline row of the message whose own text (not a quote of it) contains `text`. */
export function row(page: Page, text: string) {
  return timeline(page)
    .locator('.msg')
    .filter({ has: page.locator('.body').filter({ hasText: text }) });
}

export async function eventIdOf(page: Page, text: string): Promise<string> {
  const id = await row(page, text).getAttribute('data-event-id');
  assert.ok(id && id.startsWith('$'), `the row of "${text}" carries its event id`);
  return id;
}

/** Hovers a message and clicks one of its actions. */
export async function act(page: Page, text: string, action: string): Promise<void> {
  const r = row(page, text);
  await r.hover();
  await r.getByRole('toolbar').getByRole('button', { name: action, exact: true }).click();
}

/** Screenshots of the page in light, dark and at 390 px wide, as `actions-<name>-…png`. */
export async function threeScreenshots(page: Page, name: string): Promise<void> {
  await screenshot(page, `actions-${name}-light`);
  await page.emulateMedia({ colorScheme: 'dark' });
  await screenshot(page, `actions-${name}-dark`);
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, `actions-${name}-390`);
  await page.setViewportSize({ width: 1280, height: 800 });
}
