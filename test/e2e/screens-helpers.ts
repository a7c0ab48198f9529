// Shared by the screen sweeps (screens.test.ts, screens-people-nearby.test.ts, layout.test.ts):
// the three variants every screen is captured in, the layout checks, and a seeded conversation.
import assert from 'node:assert/strict';
import type { Locator, Page } from 'playwright-core';
import { api, assertAccessible, registerOverHttp, screenshot, type ApiUser, type Hearth, type Window } from './helpers.ts';

export const NARROW = { width: 390, height: 844 };
export type Variant = 'light' | 'dark' | '390';
export const VARIANTS: Variant[] = ['light', 'dark', '390'];

/** A window per variant: light and dark at the default 1280 px, and a phone-sized light one. */
export async function openVariant(open: (scheme?: 'light' | 'dark') => Promise<Window>, variant: Variant): Promise<Window> {
  const w = await open(variant === 'dark' ? 'dark' : 'light');
  if (variant === '390') await w.page.setViewportSize(NARROW);
  return w;
}

/** Nothing on the page is wider than the window: no sideways scrolling. */
export async function assertNoHorizontalScroll(page: Page, screen: string): Promise<void> {
  const { scrollWidth, clientWidth } = await page.evaluate(() => ({
    scrollWidth: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth),
    clientWidth: document.documentElement.clientWidth,
  }));
  assert.ok(scrollWidth <= clientWidth, `${screen}: the page is ${scrollWidth} px wide in a ${clientWidth} px window`);
}

/** The element is on screen in full: inside the window on every side. */
export async function assertInsideWindow(page: Page, locator: Locator, what: string): Promise<void> {
  const box = await locator.boundingBox();
  assert.ok(box, `${what} is shown`);
  const { width, height } = page.viewportSize()!;
  assert.ok(
    box.x >= 0 && box.y >= 0 && box.x + box.width <= width + 0.5 && box.y + box.height <= height + 0.5,
    `${what} fits the ${width}x${height} window (${JSON.stringify(box)})`,
  );
}

/** Screenshot and axe-core, under the variant's name. */
export async function capture(page: Page, screen: string, variant: Variant): Promise<void> {
  await screenshot(page, `layout-${screen}-${variant}`);
  await assertAccessible(page, `${screen} (${variant})`);
  await assertNoHorizontalScroll(page, `${screen} (${variant})`);
}

/** A room the way a person would have it: a name, a topic, two people talking. */
export async function seedConversation(hearth: Hearth): Promise<{ alice: ApiUser; bob: ApiUser; roomId: string }> {
  const alice = await registerOverHttp(hearth, 'alice');
  const bob = await registerOverHttp(hearth, 'bob');
  await api(hearth, alice, 'PUT', '/profile/@alice:localhost/displayname', { displayname: 'Alice Martin' });
  // A long name: at 390 px it fills the line next to the message time.
  await api(hearth, bob, 'PUT', '/profile/@bob:localhost/displayname', { displayname: 'Bartholomew Fitzgerald-Oyelaran' });
  const { room_id: roomId } = await api(hearth, alice, 'POST', '/createRoom', {
    name: 'Design team',
    topic: 'Mockups, reviews and the odd cat picture',
    preset: 'private_chat',
    invite: [bob.userId],
  });
  await api(hearth, bob, 'POST', `/join/${encodeURIComponent(roomId)}`, {});
  const say = (user: ApiUser, body: string) =>
    api(hearth, user, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/t${Math.random().toString(36).slice(2)}`, { msgtype: 'm.text', body });
  await say(alice, 'Morning! The new mockups are up on the board.');
  // A second message in a row: grouped under the first, with its time in the narrow gutter.
  await say(alice, 'I moved the sidebar to the left, as we said on Friday.');
  await say(bob, 'Looks great. Can we try the darker accent on the buttons?');
  await say(alice, 'Sure, pushing a version with it now.');
  await say(bob, 'Thanks!');
  await api(hearth, alice, 'POST', '/createRoom', { name: 'Lobby', topic: 'Say hello', preset: 'public_chat' });
  return { alice, bob, roomId };
}
