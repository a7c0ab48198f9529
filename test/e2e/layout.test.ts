// Layout rules of issue #16 that any screen can break: timestamps stay on one line in German,
// Japanese and Egyptian Arabic, wide and at 390 px; the reconnecting indicator never covers the
// composer (the server is stopped for real).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { assertPrerequisites, launchChromium, roomButton, screenshot, signInInUi, startHearth, timeline, useHearth, type Hearth } from './helpers.ts';
import { assertInsideWindow, NARROW, openVariant, seedConversation } from './screens-helpers.ts';

describe('timestamps in German, Japanese and Egyptian Arabic', () => {
  let hearth: Hearth;
  let browser: Browser;
  before(async () => {
    assertPrerequisites();
    hearth = await startHearth();
    browser = await launchChromium();
    await seedConversation(hearth);
  });
  after(async () => {
    await browser?.close();
    await hearth?.stop();
  });

  for (const locale of ['de-DE', 'ja-JP', 'ar-EG']) {
    test(`every time in the room list and the timeline stays on one line in ${locale}, at 1280 and 390 px`, async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale, timezoneId: 'UTC' });
      context.setDefaultTimeout(10_000);
      try {
        const page = await context.newPage();
        await page.goto(hearth.url);
        await signInInUi(page, 'alice');
        await roomButton(page, 'Design team').click();
        await timeline(page).getByText('Thanks!').waitFor();
        for (const size of [undefined, NARROW]) {
          if (size) await page.setViewportSize(size);
          // Lines of text per time: the distinct tops of the boxes its text is laid out in.
          const lines = await page.evaluate(() =>
            Array.from(document.querySelectorAll('time, .time')).map((el) => {
              const range = document.createRange();
              range.selectNodeContents(el);
              const tops = new Set(
                Array.from(range.getClientRects())
                  .filter((r) => r.width > 0)
                  .map((r) => Math.round(r.top)),
              );
              return { text: el.textContent, lines: tops.size };
            }),
          );
          assert.ok(lines.length >= 4, `times are shown (${lines.length})`);
          const wrapped = lines.filter((t) => t.lines > 1);
          assert.deepEqual(wrapped, [], `no time wraps at ${size ? size.width : 1280} px in ${locale}`);
        }
        await screenshot(page, `layout-times-${locale}-390`);
      } finally {
        await context.close();
      }
    });
  }
});

describe('the reconnecting indicator', () => {
  const { hearth, open, problems } = useHearth();
  const pages: Page[] = [];
  before(async () => {
    await seedConversation(hearth());
  });
  after(() => assert.deepEqual(problems(), []));

  test('with the server stopped it shows, and the composer stays visible and usable, at 1280 and 390 px', async () => {
    for (const v of ['light', '390'] as const) {
      const { page } = await openVariant(open, v);
      await signInInUi(page, 'alice');
      await roomButton(page, 'Design team').click();
      await timeline(page).getByText('Thanks!').waitFor();
      pages.push(page);
    }
    await hearth().stop();
    for (const [i, page] of pages.entries()) {
      const indicator = page.getByRole('status').filter({ hasText: 'Reconnecting' });
      await indicator.waitFor({ timeout: 30_000 });
      const composer = page.locator('#composer-input');
      await assertInsideWindow(page, page.locator('form.composer'), 'the composer');
      const a = (await indicator.boundingBox())!;
      const b = (await page.locator('form.composer').boundingBox())!;
      const overlap = a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
      assert.equal(overlap, false, `the indicator (${JSON.stringify(a)}) does not cover the composer (${JSON.stringify(b)})`);
      // A real click: Playwright checks that the composer itself receives it.
      await composer.click({ timeout: 3_000 });
      await composer.pressSequentially('still here');
      assert.equal(await composer.inputValue(), 'still here');
      await screenshot(page, `layout-reconnecting-${i === 0 ? 'light' : '390'}`);
    }
  });
});
