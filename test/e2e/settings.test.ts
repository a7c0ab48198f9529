// User settings end to end (profile, sessions, theme, notifications, password): Alice changes
// things in Chromium and Bob (a second browser profile) or a matrix-js-sdk client (a client nobody here
// wrote) sees the result; the server's state is read back over HTTP. The tests run in order and
// build on each other.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createClient, MatrixError, type MatrixClient } from 'matrix-js-sdk';
import { fetchFn, quietLogger, registerWithSdk } from '../helpers/sdk.ts';
import { api, assertAccessible, PASSWORD, registerInUi, screenshot, sessionOf, timeline, useHearth, type ApiUser, type Window } from './helpers.ts';
import { captureAll, openSettings } from './settings-helpers.ts';

let alice: Window;
let bob: Window;
let aliceApi: ApiUser;
let carol: MatrixClient;
let roomId: string;

describe('user settings', () => {
  const { hearth, open, problems } = useHearth();

  test('Alice, Bob (browsers) and Carol (js-sdk) share a room Alice created', async () => {
    alice = await open();
    bob = await open();
    await registerInUi(alice.page, 'alice');
    await registerInUi(bob.page, 'bob');
    aliceApi = await sessionOf(alice.page);
    const creds = await registerWithSdk(hearth(), 'carol');
    carol = createClient({ baseUrl: hearth().url, ...creds, fetchFn, logger: quietLogger });
    ({ room_id: roomId } = await api(hearth(), aliceApi, 'POST', '/createRoom', {
      name: 'Garden club',
      preset: 'private_chat',
      invite: ['@bob:localhost', '@carol:localhost'],
    }));
    await carol.joinRoom(roomId);
    const invites = bob.page.getByRole('region', { name: 'Invites' });
    await invites.getByRole('button', { name: 'Accept' }).click();
    await bob.page.getByRole('heading', { name: 'Garden club', level: 1 }).waitFor();
    await alice.page
      .getByRole('navigation', { name: 'Rooms' })
      .getByRole('button', { name: /^Garden club/ })
      .click();
    await alice.page.getByRole('heading', { name: 'Garden club', level: 1 }).waitFor();
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

  test('Alice renames this session in Settings > Sessions; the list and the server show the new name', async () => {
    const d = await openSettings(alice.page, 'Sessions');
    const list = d.getByRole('list', { name: 'Your sessions' });
    await list.getByText('This session').waitFor();
    await list.getByRole('button', { name: /^Rename/ }).click();
    await d.getByLabel(/^New name for/).fill('Work laptop');
    await d.getByRole('button', { name: 'Save' }).click();
    await list.getByText('Work laptop').waitFor();
    const { devices } = await api(hearth(), aliceApi, 'GET', '/devices');
    assert.deepEqual(
      devices.map((x: { display_name?: string }) => x.display_name),
      ['Work laptop'],
    );
    await d.getByRole('button', { name: 'Close' }).click();
  });

  test("Alice signs out her other session (a js-sdk login) with her password; that session's token gets M_UNKNOWN_TOKEN", async () => {
    const anon = createClient({ baseUrl: hearth().url, fetchFn, logger: quietLogger });
    const login = await anon.loginRequest({
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: 'alice' },
      password: PASSWORD,
      initial_device_display_name: 'Old phone',
    });
    const phone = createClient({
      baseUrl: hearth().url,
      userId: login.user_id,
      accessToken: login.access_token,
      deviceId: login.device_id,
      fetchFn,
      logger: quietLogger,
    });
    assert.equal((await phone.whoami()).device_id, login.device_id, 'the other session works before');

    const d = await openSettings(alice.page, 'Sessions');
    const list = d.getByRole('list', { name: 'Your sessions' });
    await list.getByText('Old phone').waitFor();
    await captureAll(alice.page, 'sessions');
    await list.getByRole('button', { name: 'Sign out Old phone' }).click();
    await d.getByLabel('Password', { exact: true }).fill('not my password');
    await d.getByRole('button', { name: 'Sign out', exact: true }).click();
    await d.getByText('That password is not right.').waitFor();
    await d.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await d.getByRole('button', { name: 'Sign out', exact: true }).click();
    await d.getByRole('status').getByText('Session signed out.').waitFor();
    assert.equal(await list.getByText('Old phone').count(), 0, 'the list no longer shows it');

    await assert.rejects(phone.whoami(), (err: unknown) => err instanceof MatrixError && err.errcode === 'M_UNKNOWN_TOKEN');
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

  test('Alice changes her password in Settings > Account; the new one signs in, the old one does not', async () => {
    const d = await openSettings(alice.page, 'Account');
    await d.getByLabel('Current password').fill(PASSWORD);
    await d.getByLabel('New password', { exact: true }).fill('a much better passphrase');
    await d.getByLabel('Confirm new password').fill('a much better passphrase');
    await assertAccessible(alice.page, 'settings, Account tab');
    await d.getByRole('button', { name: 'Change password' }).click();
    await d
      .getByRole('status')
      .getByText(/^Password changed/)
      .waitFor();
    const login = (password: string) =>
      fetch(`${hearth().api}/login`, {
        method: 'POST',
        body: JSON.stringify({ type: 'm.login.password', identifier: { type: 'm.id.user', user: 'alice' }, password }),
      });
    assert.equal((await login('a much better passphrase')).status, 200);
    assert.equal((await login(PASSWORD)).status, 403);
    // This session stays signed in.
    await api(hearth(), aliceApi, 'GET', '/account/whoami');
    await d.getByRole('button', { name: 'Close' }).click();
  });

  test('no page error or CSP violation', () => {
    assert.deepEqual(problems(), []);
  });
});
