// People nearby with a real peer (issue #16): two Hearth desktops sharing on a LAN made of network
// namespaces (test/helpers/netns.ts; sharing is on only there, never in the root namespace), the
// browser signed in to desktop A over the bridge. Bob, on desktop B, is listed by his display name
// and one click on "Message" invites him to a new DM over LAN federation.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { createLan, lanTestsSkipped, type Lan } from '../helpers/netns.ts';
import { invitedRooms, lanDesktop, lanOk, registerLanUser, type LanDesktop, type LanUser } from '../helpers/lan-desktop.ts';
import { waitForAsync } from '../helpers/poll.ts';
import { openSettings } from './settings-helpers.ts';
import { assertAccessible, assertPrerequisites, launchChromium, openWindow, registerInUi, ROOT, screenshot, WEB_ROOT, type Window } from './helpers.ts';

/** Discovery and the first profile fetch over LAN federation, on a shared 2-core machine. */
const LISTED_WITHIN_MS = 30_000;

const skip = await lanTestsSkipped('the people-nearby browser test (test/e2e/people-nearby-lan.test.ts)');

describe('people nearby between two desktops on a LAN', { skip, timeout: 300_000 }, () => {
  let lan: Lan;
  let scratch: string;
  let A: LanDesktop;
  let B: LanDesktop;
  let bob: LanUser;
  let browser: Browser;
  let alice: Window;

  before(async () => {
    assertPrerequisites();
    lan = await createLan({ hosts: 2 });
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-e2e-nearby-'));
    A = lanDesktop(lan, 0, { dataDir: path.join(scratch, 'a'), sharing: true, webRoot: WEB_ROOT });
    B = lanDesktop(lan, 1, { dataDir: path.join(scratch, 'b'), sharing: true });
    await Promise.all([A.start(), B.start()]);
    bob = await registerLanUser(B, 'bob');
    await lanOk(bob, 'PUT', `/client/v3/profile/${encodeURIComponent(bob.userId)}/displayname`, { displayname: 'Bob Chen' });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await Promise.all([A, B].map((d) => d?.stop()));
    await lan?.destroy();
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  });

  test('a user of the other desktop is listed by display name, and one click invites them to a DM', async () => {
    alice = await openWindow(browser, A.url());
    const { page } = alice;
    await registerInUi(page, 'alice');
    const section = page.getByRole('region', { name: 'People nearby' });
    assert.equal(await section.getByRole('switch', { name: 'Share on this network' }).getAttribute('aria-checked'), 'true');
    // Listed once A has seen B's announcement and fetched Bob's profile: the list follows the
    // org.hearth.lan.nearby account data the server pushes.
    const message = section.getByRole('button', { name: 'Message Bob Chen' });
    await message.waitFor({ timeout: LISTED_WITHIN_MS });
    await section.getByText(bob.userId, { exact: false }).waitFor();
    await message.click();
    const [roomId] = await waitForAsync('the DM invite to reach Bob on desktop B', async () => {
      const rooms = await invitedRooms(bob);
      return rooms.length > 0 ? rooms : undefined;
    });
    assert.ok(roomId);
    assert.deepEqual(alice.problems, []);
  });

  test('an admin forgets desktop B after confirming: the DELETE of its pin is answered 200, and B is trusted again at its next announcement', async () => {
    const { page } = alice;
    await promisify(execFile)(process.execPath, [path.join(ROOT, 'bin', 'hearth.js'), 'admin', 'grant', 'alice', '--data-dir', A.dataDir], { cwd: ROOT });
    await page.reload();
    const section = page.getByRole('region', { name: 'People nearby' });
    // Offered to admins only, once the page has read the capabilities.
    const forget = section.getByRole('button', { name: `Forget ${B.serverName}` });
    await forget.waitFor({ timeout: LISTED_WITHIN_MS });
    await forget.click();
    const confirm = page.getByRole('dialog', { name: `Forget ${B.serverName}?` });
    await confirm.getByText('trusted again, with the certificate it has then', { exact: false }).waitFor();
    await assertAccessible(page, 'forget a nearby desktop');
    await screenshot(page, 'lan-forget-desktop-light');
    await page.emulateMedia({ colorScheme: 'dark' });
    await screenshot(page, 'lan-forget-desktop-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, 'lan-forget-desktop-390');
    await page.setViewportSize({ width: 1280, height: 800 });
    // Cancel forgets nothing.
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'detached' });
    await forget.click();
    const deleted = page.waitForResponse((r) => r.request().method() === 'DELETE' && r.url().includes('/org.hearth.lan/peers/'));
    await page
      .getByRole('dialog', { name: `Forget ${B.serverName}?` })
      .getByRole('button', { name: 'Forget', exact: true })
      .click();
    const answer = await deleted;
    assert.equal(answer.status(), 200);
    assert.equal(decodeURIComponent(answer.url().split('/peers/')[1]!), B.serverName);
    await page.getByRole('dialog', { name: `Forget ${B.serverName}?` }).waitFor({ state: 'detached' });
    // Pinned afresh at its next announcement: Bob is listed (again).
    await section.getByRole('button', { name: 'Message Bob Chen' }).waitFor({ timeout: LISTED_WITHIN_MS });
    assert.deepEqual(alice.problems, []);
  });

  test('an admin switches sharing off from the page: the switch reads off and nobody is listed', async () => {
    const { page } = alice;
    await promisify(execFile)(process.execPath, [path.join(ROOT, 'bin', 'hearth.js'), 'admin', 'grant', 'alice', '--data-dir', A.dataDir], { cwd: ROOT });
    await page.reload();
    const section = page.getByRole('region', { name: 'People nearby' });
    const toggle = section.getByRole('switch', { name: 'Share on this network' });
    await section.getByRole('button', { name: 'Message Bob Chen' }).waitFor({ timeout: LISTED_WITHIN_MS });
    // Enabled once the page has read the admin's capabilities, which may come after the list.
    await section.getByRole('switch', { name: 'Share on this network', disabled: false }).waitFor();
    await toggle.click();
    await section.getByText('Sharing is off').waitFor();
    assert.equal(await toggle.getAttribute('aria-checked'), 'false');
    assert.equal(await section.getByRole('button', { name: 'Message Bob Chen' }).count(), 0);
    assert.equal((await lanOk(bob, 'GET', '/client/unstable/org.hearth.lan/sharing')).enabled, true, "B's own sharing is untouched");
    assert.deepEqual(alice.problems, []);
  });

  test('sharing switched on again in Settings → LAN: the sidebar switch follows without a reload, and Bob is listed again', async () => {
    const { page } = alice;
    const d = await openSettings(page, 'LAN');
    const toggle = d.getByRole('switch', { name: 'Share on this network', disabled: false });
    assert.equal(await toggle.getAttribute('aria-checked'), 'false');
    await toggle.click();
    await d.getByRole('switch', { name: 'Share on this network', checked: true }).waitFor();
    await d.getByRole('button', { name: 'Close' }).click();
    const section = page.getByRole('region', { name: 'People nearby' });
    await section.getByRole('switch', { name: 'Share on this network', checked: true }).waitFor();
    await section.getByRole('button', { name: 'Message Bob Chen' }).waitFor({ timeout: LISTED_WITHIN_MS });
    assert.deepEqual(alice.problems, []);
  });
});
