// The sidebar's "People nearby" section (issue #16) on a real `hearth serve` with `lan` configured
// and sharing OFF: it shows, its switch reads off, an admin may use it and anyone else sees it
// disabled with the reason; on a server without `lan` it is not there. The switch is never turned
// on here: that would announce this machine on its real LAN (the nearby list itself is tested in
// test/renderer/nearby.test.ts).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { assertAccessible, registerInUi, registerOverHttp, ROOT, screenshot, signInInUi, useHearth } from './helpers.ts';

const LAN_SHARING_OFF = ['registration: open', 'federation:', '  listen: "127.0.0.1:0"', '  policy: lan', 'lan:', '  sharing: false', ''].join('\n');

function nearbySection(page: import('playwright-core').Page) {
  return page.getByRole('region', { name: 'People nearby' });
}

describe('people nearby on a server with LAN sharing configured but off', () => {
  const { hearth, open, problems } = useHearth(LAN_SHARING_OFF, null);

  before(async () => {
    const hs = hearth();
    await registerOverHttp(hs, 'alice');
    await registerOverHttp(hs, 'bob');
    await promisify(execFile)(process.execPath, [path.join(ROOT, 'bin', 'hearth.js'), 'admin', 'grant', 'alice', '--data-dir', hs.dataDir], { cwd: ROOT });
  });

  after(() => assert.deepEqual(problems(), []));

  test('an admin sees the section with the sharing switch off and usable', async () => {
    const { page } = await open();
    await signInInUi(page, 'alice');
    const section = nearbySection(page);
    await section.waitFor();
    const toggle = section.getByRole('switch', { name: 'Share on this network' });
    assert.equal(await toggle.getAttribute('aria-checked'), 'false');
    assert.equal(await toggle.isEnabled(), true);
    assert.equal(await section.getByText('Only a server admin').count(), 0);
    await section.getByText('Sharing is off').waitFor();
    await screenshot(page, 'people-nearby-admin');
    await assertAccessible(page, 'people nearby');
  });

  test('a non-admin sees the switch off and disabled, with the reason', async () => {
    const { page } = await open('dark');
    await signInInUi(page, 'bob');
    const section = nearbySection(page);
    await section.waitFor();
    const toggle = section.getByRole('switch', { name: 'Share on this network' });
    assert.equal(await toggle.getAttribute('aria-checked'), 'false');
    assert.equal(await toggle.isDisabled(), true);
    await section.getByText('Only a server admin can switch LAN sharing on or off.').waitFor();
    await screenshot(page, 'people-nearby-non-admin-dark');
  });
});

describe('people nearby on a server without LAN sharing', () => {
  const { open } = useHearth();

  test('the section is not shown (the server answers 404)', async () => {
    const { page } = await open();
    // The section asks once, when the room list appears: wait for that answer before looking.
    const answered = page.waitForResponse((r) => r.url().includes('/org.hearth.lan/sharing'));
    await registerInUi(page, 'carol');
    assert.equal((await answered).status(), 404);
    assert.equal(await nearbySection(page).count(), 0);
  });
});
