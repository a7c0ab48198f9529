// The timeline's jump buttons: Alice (the web client in Chromium) comes back to a room where
// Carol (matrix-js-sdk in this process) wrote 60 messages since Alice last read it, more than
// the page loads at first (30). Threads and read receipts are in threads-receipts.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient, type MatrixClient } from 'matrix-js-sdk';
import type { Locator, Page } from 'playwright-core';
import { fetchFn, quietLogger, registerWithSdk, startSyncing } from '../helpers/sdk.ts';
import { api, assertAccessible, registerOverHttp, roomButton, screenshot, signInInUi, timeline, useHearth, type ApiUser, type Window } from './helpers.ts';

const ROOM = 'Catch-up';

/** Polls a condition evaluated in the page until it holds; fails saying what was awaited. */
async function until(page: Page, what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await page.waitForTimeout(50);
  }
}

/** Whether the element's top edge is inside the timeline's visible area. */
async function inView(page: Page, target: Locator): Promise<boolean> {
  const [log, box] = await Promise.all([timeline(page).boundingBox(), target.boundingBox()]);
  return Boolean(log && box && box.y >= log.y - 1 && box.y < log.y + log.height);
}

async function atBottom(page: Page): Promise<boolean> {
  return timeline(page).evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight < 2);
}

describe('jump to first unread and to latest', () => {
  const { hearth, open, problems } = useHearth();
  let alice: ApiUser;
  let carol: MatrixClient;
  let roomId: string;
  let win: Window;

  before(async () => {
    const hs = hearth();
    alice = await registerOverHttp(hs, 'alice');
    const creds = await registerWithSdk(hs, 'carol');
    carol = createClient({ baseUrl: hs.url, ...creds, fetchFn, logger: quietLogger });
    await carol.setDisplayName('Carol Diaz');
    await startSyncing(carol);
    ({ room_id: roomId } = await carol.createRoom({ name: ROOM, invite: ['@alice:localhost'] }));
    await api(hs, alice, 'POST', `/join/${encodeURIComponent(roomId)}`, {});
    win = await open();
    await signInInUi(win.page, 'alice');
    await roomButton(win.page, ROOM).waitFor();
  });

  after(() => carol?.stopClient());

  test('60 unread: the room opens at the bottom, "Jump to first unread" brings the first into view, and "Jump to latest" returns to the bottom', async () => {
    const page = win.page;
    const { event_id: lastRead } = await carol.sendTextMessage(roomId, 'Read so far');
    await roomButton(page, ROOM).click();
    await timeline(page).getByText('Read so far', { exact: true }).waitFor();
    // Alice has read the room up to here: the server holds her fully-read marker there.
    const markerPath = `/user/${encodeURIComponent('@alice:localhost')}/rooms/${encodeURIComponent(roomId)}/account_data/m.fully_read`;
    await until(page, "Alice's fully-read marker to reach the server", async () => {
      const marker = await api(hearth(), alice, 'GET', markerPath).catch(() => null);
      return marker?.event_id === lastRead;
    });
    // The page is closed while the messages arrive.
    await page.goto('about:blank');
    for (let i = 1; i <= 60; i++) await carol.sendTextMessage(roomId, `Unread ${i}`);
    await page.goto(hearth().url);
    await roomButton(page, ROOM).click();
    const log = timeline(page);
    await log.getByText('Unread 60', { exact: true }).waitFor();
    await until(page, 'the room to open at the bottom', () => atBottom(page));
    const first = log.getByText('Unread 1', { exact: true });
    assert.ok((await first.count()) === 0 || !(await inView(page, first)), 'the first unread is not on screen at first');

    const jumpUnread = page.getByRole('button', { name: 'Jump to first unread' });
    await jumpUnread.waitFor();
    await screenshot(page, 'jump-unread-light');
    await assertAccessible(page, 'timeline with jump buttons');
    await jumpUnread.click();
    await first.waitFor();
    await until(page, '"Unread 1" to be in view', () => inView(page, first));
    await jumpUnread.waitFor({ state: 'detached' });

    const jumpLatest = page.getByRole('button', { name: 'Jump to latest' });
    await jumpLatest.waitFor();
    await screenshot(page, 'jump-latest-light');
    await jumpLatest.click();
    await until(page, 'the view to be back at the bottom', () => atBottom(page));
    assert.ok(await inView(page, log.getByText('Unread 60', { exact: true })), 'the latest message is on screen');
    await jumpLatest.waitFor({ state: 'detached' });
  });

  test('no Content-Security-Policy violation or uncaught error in the window', () => {
    assert.deepEqual(problems(), []);
  });
});
