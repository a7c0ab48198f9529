// Sessions and the password in Settings, end to end: Alice in Chromium renames her session,
// signs out another (a matrix-js-sdk login, a client nobody here wrote) and changes her
// password; the server's answers are what is checked. The tests run in order.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createClient, MatrixError } from 'matrix-js-sdk';
import { fetchFn, quietLogger } from '../helpers/sdk.ts';
import { api, assertAccessible, PASSWORD, registerInUi, sessionOf, useHearth, type ApiUser, type Window } from './helpers.ts';
import { captureAll, openSettings } from './settings-helpers.ts';

let alice: Window;
let aliceApi: ApiUser;

describe('sessions and password', () => {
  const { hearth, open, problems } = useHearth();

  test('Alice registers in the browser', async () => {
    alice = await open();
    await registerInUi(alice.page, 'alice');
    aliceApi = await sessionOf(alice.page);
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
