// The sign-in and registration screens in the browser, against a real `hearth serve`: the
// server's errors reach the screen in plain words with their errcode, and the screens pass axe.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertAccessible, registerOverHttp, screenshot, signInInUi, useHearth } from './helpers.ts';

describe('sign-in and registration', () => {
  const { hearth, open, problems } = useHearth();

  test('the sign-in screen shows the server error for a wrong password (M_FORBIDDEN)', async () => {
    await registerOverHttp(hearth(), 'dora');
    const w = await open();
    await w.page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await screenshot(w.page, 'login-light');
    await assertAccessible(w.page, 'sign-in');

    await signInInUi(w.page, 'dora', 'not her password');
    const alert = w.page.getByRole('alert').filter({ hasText: 'Wrong username or password' });
    await alert.waitFor();
    assert.match(await alert.innerText(), /M_FORBIDDEN/);
    assert.equal(await w.page.getByRole('heading', { name: 'Rooms', exact: true }).count(), 0, 'still signed out');

    await w.page.emulateMedia({ colorScheme: 'dark' });
    await screenshot(w.page, 'login-error-dark');
    await assertAccessible(w.page, 'sign-in (dark)');
  });

  test('registration shows the server error for a taken username (M_USER_IN_USE) and an invalid one (M_INVALID_USERNAME)', async () => {
    const w = await open();
    await w.page.getByRole('button', { name: 'Create an account' }).click();
    await w.page.getByLabel('Username').fill('dora');
    await w.page.getByLabel('Password', { exact: true }).fill('some password');
    await w.page.getByLabel('Confirm password').fill('some password');
    await w.page.getByRole('button', { name: 'Create account' }).click();
    const taken = w.page.getByRole('alert').filter({ hasText: 'That username is taken' });
    await taken.waitFor();
    assert.match(await taken.innerText(), /M_USER_IN_USE/);
    await screenshot(w.page, 'register-error-light');

    await w.page.getByLabel('Username').fill('no spaces please');
    await w.page.getByRole('button', { name: 'Create account' }).click();
    const invalid = w.page.getByRole('alert').filter({ hasText: 'Usernames may only use' });
    await invalid.waitFor();
    assert.match(await invalid.innerText(), /M_INVALID_USERNAME/);

    await w.page.getByLabel('Confirm password').fill('a different one');
    await w.page.getByRole('button', { name: 'Create account' }).click();
    await w.page.getByRole('alert').filter({ hasText: 'The passwords do not match' }).waitFor();
    await w.context.close();
  });

  test('no Content-Security-Policy violation or uncaught error', () => {
    assert.deepEqual(problems(), []);
  });
});

describe('registration on a server that asks for a registration token', () => {
  const { open, problems } = useHearth('registration: token\nregistration_tokens: [letmein-2026]\n');

  test('the token field appears because the server advertises m.login.registration_token; a wrong token is refused, the right one admits', async () => {
    const w = await open();
    await w.page.getByRole('button', { name: 'Create an account' }).click();
    const token = w.page.getByLabel('Registration token');
    await token.waitFor();
    await w.page.getByLabel('Username').fill('erin');
    await w.page.getByLabel('Password', { exact: true }).fill('erin password');
    await w.page.getByLabel('Confirm password').fill('erin password');
    await token.fill('guessed');
    await w.page.getByRole('button', { name: 'Create account' }).click();
    const refused = w.page.getByRole('alert').filter({ hasText: 'That registration token is not valid.' });
    await refused.waitFor();
    assert.match(await refused.innerText(), /M_FORBIDDEN/);

    await token.fill('letmein-2026');
    await w.page.getByRole('button', { name: 'Create account' }).click();
    await w.page.getByText('@erin:localhost').waitFor();
  });

  test('no Content-Security-Policy violation or uncaught error', () => {
    assert.deepEqual(problems(), []);
  });
});
