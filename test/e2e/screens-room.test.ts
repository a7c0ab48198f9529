// A room and its member list in light, dark and 390 px wide: screenshots (`layout-room-*.png`,
// `layout-members-*.png`), axe-core, and at 390 px the room alone with a Back button to the list,
// its header and composer inside the window, and the member list over the room.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { roomButton, signInInUi, timeline, useHearth, type Window } from './helpers.ts';
import { assertInsideWindow, capture, NARROW, openVariant, seedConversation, VARIANTS, type Variant } from './screens-helpers.ts';

describe('a room and its member list in light, dark and at 390 px', () => {
  const { hearth, open, problems } = useHearth();
  const windows = new Map<Variant, Window>();

  before(async () => {
    await seedConversation(hearth());
    for (const v of VARIANTS) {
      const w = await openVariant(open, v);
      await signInInUi(w.page, 'alice');
      await roomButton(w.page, 'Design team').waitFor();
      windows.set(v, w);
    }
  });
  after(() => assert.deepEqual(problems(), [], 'no Content-Security-Policy violation or uncaught error'));

  test('room: at 390 px the room replaces the list, its header and composer fit, and Back returns to the list', async () => {
    for (const [v, { page }] of windows) {
      await roomButton(page, 'Design team').click();
      await page.getByRole('heading', { name: 'Design team', level: 1 }).waitFor();
      await timeline(page).getByText('Thanks!').waitFor();
      const back = page.getByRole('button', { name: 'Back to rooms' });
      if (v === '390') {
        assert.equal(await roomButton(page, 'Design team').isVisible(), false, 'the room list is hidden while a room is open');
        await assertInsideWindow(page, page.locator('form.composer'), 'the composer');
        await assertInsideWindow(page, page.locator('.room-header'), 'the room header');
        for (const name of ['Back to rooms', 'Invite someone', 'Members', 'Leave room'])
          await assertInsideWindow(page, page.getByRole('button', { name, exact: true }), `the ${name} button`);
      } else {
        assert.equal(await back.isVisible(), false, 'no Back button when both panes fit');
        assert.equal(await roomButton(page, 'Design team').isVisible(), true, 'the room list stays beside the room');
      }
      await capture(page, 'room', v);
      if (v === '390') {
        await back.click();
        await roomButton(page, 'Design team').waitFor();
        assert.equal(await page.getByRole('heading', { name: 'Design team', level: 1 }).count(), 0, 'the room closed');
        assert.equal(await page.evaluate(() => document.activeElement?.textContent?.includes('Design team')), true, 'focus returns to the room in the list');
        await roomButton(page, 'Design team').click();
        await page.getByRole('heading', { name: 'Design team', level: 1 }).waitFor();
      }
    }
  });

  test('member list: at 390 px it opens over the room and closes back to it', async () => {
    for (const [v, { page }] of windows) {
      await page.getByRole('button', { name: 'Members' }).click();
      const members = page.getByRole('complementary', { name: /Members/ });
      await members.getByText('Alice Martin (you)').waitFor();
      await assertInsideWindow(page, members, 'the member list');
      if (v === '390') {
        const box = (await members.boundingBox())!;
        assert.ok(box.width >= NARROW.width - 1, `the member list covers the room's width (${box.width} px)`);
      }
      await capture(page, 'members', v);
      await page.getByRole('button', { name: 'Close members' }).click();
      await members.waitFor({ state: 'detached' });
      await page.locator('#composer-input').waitFor();
    }
  });
});
