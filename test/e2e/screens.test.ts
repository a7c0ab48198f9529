// The sweep of the web client's main screens (issue #16 "Layout"): sign-in and the room list, each
// in light, in dark and 390 px wide,
// with a screenshot (`layout-<screen>-light|dark|390.png`) and axe-core. At 390 px the client
// shows one pane at a time (the room list, or the room with a back button), nothing scrolls
// sideways. A room and its member list: screens-room.test.ts; dialogs: screens-dialogs.test.ts; people nearby: screens-people-nearby.test.ts; timestamps in other
// locales and the reconnecting indicator: layout.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { roomButton, signInInUi, useHearth, type Window } from './helpers.ts';
import { assertInsideWindow, capture, openVariant, seedConversation, VARIANTS, type Variant } from './screens-helpers.ts';

describe('the main screens in light, dark and at 390 px', () => {
  const { hearth, open, problems } = useHearth();
  const windows = new Map<Variant, Window>();

  before(async () => {
    await seedConversation(hearth());
    for (const v of VARIANTS) windows.set(v, await openVariant(open, v));
  });
  after(() => assert.deepEqual(problems(), [], 'no Content-Security-Policy violation or uncaught error'));

  test('sign-in screen: screenshots and axe in light, dark and 390 px', async () => {
    for (const [v, { page }] of windows) {
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
      await capture(page, 'sign-in', v);
    }
  });

  test('room list: at 390 px it fills the window on its own, with no room shown beside it', async () => {
    for (const [v, { page }] of windows) {
      await signInInUi(page, 'alice');
      await roomButton(page, 'Design team').waitFor();
      await capture(page, 'room-list', v);
      if (v === '390') {
        await assertInsideWindow(page, page.getByRole('complementary', { name: 'Conversations' }), 'the room list');
        assert.equal(
          await page
            .getByRole('main')
            .isVisible()
            .catch(() => false),
          false,
          'no room pane beside the list',
        );
      }
    }
  });
});
