// Settings → LAN (issue #16, part R5) on a real `hearth serve` with `lan` configured, policy 'lan'
// and sharing OFF (switching it on would announce this machine on its real LAN; the label switch
// is only persisted while sharing is off): an admin adds a domain (a bad one is refused in words
// first), removes it, and switches the label; each change is read back from the server. A
// non-admin sees the same settings read-only; a server without `lan` has no LAN tab.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { registerInUi, registerOverHttp, ROOT, signInInUi, useHearth, type ApiUser, type Hearth } from './helpers.ts';
import { captureAll, dialog, openSettings } from './settings-helpers.ts';

const LAN_SHARING_OFF = [
  'registration: open',
  'federation:',
  '  listen: "127.0.0.1:0"',
  '  policy: lan',
  '  domains: [configured.example]',
  'lan:',
  '  sharing: false',
  '',
].join('\n');

/** Reads an org.hearth.lan endpoint as `user`. */
async function lanGet(hs: Hearth, user: ApiUser, endpoint: string): Promise<any> {
  const res = await fetch(`${hs.url}/_matrix/client/unstable/org.hearth.lan${endpoint}`, { headers: { authorization: `Bearer ${user.accessToken}` } });
  assert.equal(res.status, 200);
  return res.json();
}

describe('Settings → LAN on a server with LAN sharing configured but off', () => {
  const { hearth, open, problems } = useHearth(LAN_SHARING_OFF, null);
  let alice: ApiUser;

  before(async () => {
    const hs = hearth();
    alice = await registerOverHttp(hs, 'alice');
    await registerOverHttp(hs, 'bob');
    await promisify(execFile)(process.execPath, [path.join(ROOT, 'bin', 'hearth.js'), 'admin', 'grant', 'alice', '--data-dir', hs.dataDir], { cwd: ROOT });
  });

  after(() => assert.deepEqual(problems(), []));

  test('an admin adds a domain (a bad name is refused with the reason), removes it, and switches the label; the server has each change', async () => {
    const { page } = await open();
    await signInInUi(page, 'alice');
    const d = await openSettings(page, 'LAN');
    await d.getByText('configured.example').waitFor();
    await d.getByRole('switch', { name: 'Share on this network', disabled: false }).waitFor();
    await captureAll(page, 'lan');

    const field = d.getByLabel('Add a server');
    await field.fill('https://bad.example');
    await d.getByRole('button', { name: 'Add', exact: true }).click();
    await d.getByRole('alert').getByText('without https://').waitFor();
    assert.equal(await field.getAttribute('aria-invalid'), 'true');
    assert.deepEqual((await lanGet(hearth(), alice, '/domains')).domains, ['configured.example'], 'nothing was sent');

    await field.fill('matrix.example.org:8448');
    await d.getByRole('button', { name: 'Add', exact: true }).click();
    await d.getByRole('button', { name: 'Remove matrix.example.org:8448' }).waitFor();
    assert.equal(await field.inputValue(), '');
    assert.deepEqual((await lanGet(hearth(), alice, '/domains')).domains, ['configured.example', 'matrix.example.org:8448']);

    await d.getByRole('button', { name: 'Remove configured.example' }).click();
    await d.getByRole('button', { name: 'Remove configured.example' }).waitFor({ state: 'detached' });
    assert.deepEqual((await lanGet(hearth(), alice, '/domains')).domains, ['matrix.example.org:8448']);

    const label = d.getByRole('switch', { name: 'Show my name to nearby desktops' });
    assert.equal(await label.getAttribute('aria-checked'), 'false');
    await label.click();
    await d.getByRole('switch', { name: 'Show my name to nearby desktops', checked: true }).waitFor();
    assert.equal((await lanGet(hearth(), alice, '/sharing')).announce_label, true);

    // What was set is what the tab shows after a reload.
    await page.reload();
    const again = await openSettings(page, 'LAN');
    await again.getByRole('button', { name: 'Remove matrix.example.org:8448' }).waitFor();
    assert.equal(await again.getByText('configured.example').count(), 0);
    assert.equal(await again.getByRole('switch', { name: 'Show my name to nearby desktops' }).getAttribute('aria-checked'), 'true');
  });

  test('a non-admin sees the domains and switches read-only, with the reason', async () => {
    const { page } = await open('dark');
    await signInInUi(page, 'bob');
    const d = await openSettings(page, 'LAN');
    await d.getByText('Only a server admin can change these settings.').waitFor();
    await d.getByText('matrix.example.org:8448').waitFor();
    assert.equal(await d.getByRole('switch', { name: 'Show my name to nearby desktops' }).isDisabled(), true);
    assert.equal(await d.getByRole('switch', { name: 'Share on this network' }).isDisabled(), true);
    assert.equal(await d.getByLabel('Add a server').count(), 0);
    assert.equal(await d.getByRole('button', { name: /^Remove / }).count(), 0);
  });
});

describe('Settings on a server without LAN sharing', () => {
  const { open } = useHearth();

  test('there is no LAN tab (the server answers 404)', async () => {
    const { page } = await open();
    await registerInUi(page, 'carol');
    const answered = page.waitForResponse((r) => r.url().includes('/org.hearth.lan/sharing'));
    await page.getByRole('button', { name: 'Settings', exact: true }).click();
    assert.equal((await answered).status(), 404);
    await dialog(page, 'Settings').getByRole('tab', { name: 'Notifications' }).waitFor();
    assert.equal(await dialog(page, 'Settings').getByRole('tab', { name: 'LAN' }).count(), 0);
  });
});
