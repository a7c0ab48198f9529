// The room's dialogs (invite, leave) and the create-room dialog in light, dark and 390 px wide:
// screenshots (`layout-<dialog>-*.png`), axe-core, and each dialog inside the window.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { roomButton, signInInUi, useHearth, type Window } from './helpers.ts';
import { assertInsideWindow, capture, openVariant, seedConversation, VARIANTS, type Variant } from './screens-helpers.ts';

describe('the dialogs in light, dark and at 390 px', () => {
  const { hearth, open, problems } = useHearth();
  const windows = new Map<Variant, Window>();

  before(async () => {
    await seedConversation(hearth());
    for (const v of VARIANTS) {
      const w = await openVariant(open, v);
      await signInInUi(w.page, 'alice');
      await roomButton(w.page, 'Design team').click();
      await w.page.getByRole('heading', { name: 'Design team', level: 1 }).waitFor();
      windows.set(v, w);
    }
  });
  after(() => assert.deepEqual(problems(), [], 'no Content-Security-Policy violation or uncaught error'));

  test('invite and leave dialogs fit the window, in light, dark and 390 px', async () => {
    for (const [v, { page }] of windows) {
      await page.getByRole('button', { name: 'Invite someone' }).click();
      const invite = page.getByRole('dialog', { name: 'Invite to Design team' });
      await invite.getByLabel('User ID').fill('@carol:localhost');
      await assertInsideWindow(page, invite, 'the invite dialog');
      await capture(page, 'invite-dialog', v);
      await invite.getByRole('button', { name: 'Cancel' }).click();

      await page.getByRole('button', { name: 'Leave room' }).click();
      const leave = page.getByRole('dialog', { name: 'Leave Design team?' });
      await leave.waitFor();
      await assertInsideWindow(page, leave, 'the leave dialog');
      await capture(page, 'leave-dialog', v);
      await leave.getByRole('button', { name: 'Cancel' }).click();
    }
  });

  test('create-room dialog fits the window, in light, dark and 390 px', async () => {
    for (const [v, { page }] of windows) {
      if (v === '390') await page.getByRole('button', { name: 'Back to rooms' }).click();
      await page.getByRole('button', { name: 'New room' }).click();
      const dialog = page.getByRole('dialog', { name: 'New room' });
      await dialog.getByLabel('Name').fill('Weekend hike');
      await dialog.getByLabel('Topic (optional)').fill('Routes, weather and who brings the thermos');
      await assertInsideWindow(page, dialog, 'the create-room dialog');
      await capture(page, 'create-room-dialog', v);
      await dialog.getByRole('button', { name: 'Cancel' }).click();
    }
  });
});
