// User settings end to end (profile, theme, notifications): Alice changes things in Chromium and
// Bob (a second browser profile) sees the result; the server's state is read back over HTTP.
// The tests run in order and build on each other. Sessions and the password: sessions.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { api, assertAccessible, registerInUi, screenshot, sessionOf, timeline, useHearth, type ApiUser, type Window } from './helpers.ts';
import { captureAll, openSettings } from './settings-helpers.ts';

/** An 8x8 PNG in Hearth's orange. */
const PNG_8X8 = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEUlEQVR4nGM45MiDFTEMLQkAps5DwRGu074AAAAASUVORK5CYII=', 'base64');

let alice: Window;
let bob: Window;
let aliceApi: ApiUser;

describe('user settings', () => {
  const { hearth, open, problems } = useHearth();

  test('Alice and Bob (two browsers) share a room Alice created', async () => {
    alice = await open();
    bob = await open();
    await registerInUi(alice.page, 'alice');
    await registerInUi(bob.page, 'bob');
    aliceApi = await sessionOf(alice.page);
    await api(hearth(), aliceApi, 'POST', '/createRoom', { name: 'Garden club', preset: 'private_chat', invite: ['@bob:localhost'] });
    const invites = bob.page.getByRole('region', { name: 'Invites' });
    await invites.getByRole('button', { name: 'Accept' }).click();
    await bob.page.getByRole('heading', { name: 'Garden club', level: 1 }).waitFor();
  });

  test("Alice's new display name, set in Settings > Profile, shows in Bob's member list and timeline", async () => {
    const d = await openSettings(alice.page, 'Profile');
    await d.getByLabel('Display name').fill('Alice Martin');
    await d.getByRole('button', { name: 'Save' }).click();
    await d.getByRole('status').getByText('Display name saved.').waitFor();
    await captureAll(alice.page, 'profile');
    await d.getByRole('button', { name: 'Close' }).click();

    await timeline(bob.page).getByText('alice is now Alice Martin').waitFor();
    await bob.page.getByRole('button', { name: 'Members' }).click();
    await bob.page
      .getByRole('complementary', { name: /Members/ })
      .getByText('Alice Martin', { exact: true })
      .waitFor();
    // The sidebar's own name follows too.
    await alice.page.getByRole('complementary', { name: 'Conversations' }).getByText('Alice Martin', { exact: true }).waitFor();
  });

  test('an avatar picked in Settings > Profile is uploaded and set in the profile, and shown from the authenticated media API on reopening', async () => {
    let d = await openSettings(alice.page, 'Profile');
    await d.locator('input[type=file]').setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: PNG_8X8 });
    await d.getByRole('status').getByText('Avatar saved.').waitFor();
    const profile = await api(hearth(), aliceApi, 'GET', '/profile/@alice:localhost');
    assert.match(profile.avatar_url, /^mxc:\/\/localhost\/\S+$/);
    await d.getByRole('button', { name: 'Close' }).click();
    d = await openSettings(alice.page, 'Profile');
    // Media needs the access token (v1 media): the image is fetched and shown as a blob: URL.
    assert.match((await d.getByRole('img', { name: 'Your avatar' }).getAttribute('src')) ?? '', /^blob:/);
    await d.getByRole('button', { name: 'Close' }).click();
  });

  test('the dark theme, picked in Settings > Appearance, changes the colours at once and survives a reload, set before the first paint', async () => {
    const background = () => alice.page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(await background(), 'rgb(255, 255, 255)', 'light to begin with (the window follows a light OS)');
    const d = await openSettings(alice.page, 'Appearance');
    await d.getByLabel('Dark').check();
    assert.equal(await background(), 'rgb(21, 23, 28)', 'the page turned dark');
    await assertAccessible(alice.page, 'settings, Appearance tab');

    // Record the theme when the page's parsing ends (DOMContentLoaded), before the client's
    // module scripts have mounted anything: only a script that runs before the first paint has set it by then.
    await alice.page.addInitScript(() => {
      document.addEventListener('DOMContentLoaded', () => {
        (window as unknown as { themeAtParse: string | undefined }).themeAtParse = document.documentElement.dataset.theme;
      });
    });
    await alice.page.reload();
    await alice.page.getByRole('heading', { name: 'Rooms', exact: true }).waitFor();
    await screenshot(alice.page, 'settings-dark-theme-on-light-os');
    assert.equal(await alice.page.evaluate(() => (window as unknown as { themeAtParse?: string }).themeAtParse), 'dark');
    assert.equal(await background(), 'rgb(21, 23, 28)', 'still dark after the reload');

    const again = await openSettings(alice.page, 'Appearance');
    assert.ok(await again.getByLabel('Dark').isChecked(), 'the choice shows as picked');
    await again.getByLabel('Match the system').check();
    assert.equal(await background(), 'rgb(255, 255, 255)', 'back to the light OS theme');
    await again.getByRole('button', { name: 'Close' }).click();
  });

  test('Settings > Notifications: the account switch turns the master push rule on and off', async () => {
    const d = await openSettings(alice.page, 'Notifications');
    const account = d.getByRole('switch', { name: 'Notifications for this account' });
    assert.equal(await account.getAttribute('aria-checked'), 'true');
    await assertAccessible(alice.page, 'settings, Notifications tab');
    await account.click();
    await d.locator('[role=switch][aria-checked=false]').and(account).waitFor();
    assert.equal((await api(hearth(), aliceApi, 'GET', '/pushrules/global/override/.m.rule.master/enabled')).enabled, true);
    await account.click();
    await d.locator('[role=switch][aria-checked=true]').and(account).waitFor();
    assert.equal((await api(hearth(), aliceApi, 'GET', '/pushrules/global/override/.m.rule.master/enabled')).enabled, false);
    await d.getByRole('button', { name: 'Close' }).click();
  });

  test('the desktop notifications switch asks for permission, then keeps on/off in hearth.notifications (what lib/notify.ts reads)', async () => {
    const kept = () => alice.page.evaluate(() => localStorage.getItem('hearth.notifications'));
    let d = await openSettings(alice.page, 'Notifications');
    const os = () => d.getByRole('switch', { name: 'Desktop notifications' });
    assert.equal(await os().getAttribute('aria-checked'), 'false', 'off while the browser has not allowed notifications');
    // Without a grant the browser refuses: the switch stays off and says why.
    await os().click();
    await d
      .getByRole('status')
      .getByText(/Notifications are blocked for Hearth/)
      .waitFor();
    assert.equal(await os().getAttribute('aria-checked'), 'false');
    assert.equal(await kept(), null);
    await d.getByRole('button', { name: 'Close' }).click();

    await alice.context.grantPermissions(['notifications']);
    d = await openSettings(alice.page, 'Notifications');
    assert.equal(await os().getAttribute('aria-checked'), 'true', 'on by default once permission is granted');
    await os().click();
    await d.locator('[aria-checked=false]').and(os()).waitFor();
    assert.equal(await kept(), 'off');
    await os().click();
    await d.locator('[aria-checked=true]').and(os()).waitFor();
    assert.equal(await kept(), 'on');
    await d.getByRole('button', { name: 'Close' }).click();
  });

  test('no page error or CSP violation', () => {
    assert.deepEqual(problems(), []);
  });
});
