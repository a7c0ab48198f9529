// The sidebar's people nearby section in light, dark and 390 px wide: screenshots
// (`layout-people-nearby-*.png`) and axe-core, on a server with `lan` configured and sharing off.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { registerOverHttp, signInInUi, useHearth } from './helpers.ts';
import { assertInsideWindow, capture, openVariant, VARIANTS } from './screens-helpers.ts';

describe('people nearby in light, dark and at 390 px', () => {
  // As in people-nearby.test.ts: `lan` configured with sharing off, so nothing is announced.
  const LAN_SHARING_OFF = ['registration: open', 'federation:', '  listen: "127.0.0.1:0"', '  policy: lan', 'lan:', '  sharing: false', ''].join('\n');
  const { hearth, open, problems } = useHearth(LAN_SHARING_OFF, null);
  before(async () => {
    await registerOverHttp(hearth(), 'alice');
  });
  after(() => assert.deepEqual(problems(), []));

  test('the people nearby section: screenshots and axe in light, dark and 390 px', async () => {
    for (const v of VARIANTS) {
      const { page } = await openVariant(open, v);
      await signInInUi(page, 'alice');
      const section = page.getByRole('region', { name: 'People nearby' });
      await section.getByText('Sharing is off').waitFor();
      await section.scrollIntoViewIfNeeded();
      await assertInsideWindow(page, section.getByRole('switch', { name: 'Share on this network' }), 'the sharing switch');
      await capture(page, 'people-nearby', v);
    }
  });
});
