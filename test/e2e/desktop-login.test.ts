// The desktop's first run: the Electron preload exposes window.hearth.getLoginToken(), and the
// web client signs in with that one-time m.login.token without ever showing the sign-in screen.
// Here the preload is stood in for by an init script; the token is minted by the homeserver's
// own API for the desktop shell (Homeserver.loginTokenFor), as main/ does.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { assertPrerequisites, launchChromium, WEB_ROOT } from './helpers.ts';

let server: TestServer;
let browser: Browser;

before(async () => {
  assertPrerequisites();
  server = await startTestServer({ webRoot: WEB_ROOT });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('with window.hearth.getLoginToken the client signs in by m.login.token, never showing the sign-in screen', async () => {
  const { userId, token } = await server.hs.loginTokenFor('desktop');
  const context = await browser.newContext();
  await context.addInitScript(
    ([id, t]) => {
      let handedOut = false;
      (window as unknown as { hearth: unknown }).hearth = {
        platform: 'linux',
        // Like main/: the first call gets the token, later calls null.
        getLoginToken: async () => (handedOut ? null : ((handedOut = true), { userId: id, token: t })),
      };
    },
    [userId, token] as const,
  );
  const page = await context.newPage();
  let loginScreenShown = false;
  await page.exposeFunction('reportLoginScreen', () => (loginScreenShown = true));
  await page.addInitScript(() => {
    new MutationObserver(() => {
      if (document.querySelector('form[aria-label="Sign in"]')) (window as unknown as { reportLoginScreen(): void }).reportLoginScreen();
    }).observe(document, { childList: true, subtree: true });
  });
  await page.goto(server.url);
  await page.getByText('@desktop:localhost', { exact: true }).first().waitFor();
  assert.equal(loginScreenShown, false, 'the sign-in form never appeared');
  const session = JSON.parse((await page.evaluate(() => localStorage.getItem('hearth.session'))) ?? '{}') as { userId?: string };
  assert.equal(session.userId, '@desktop:localhost');

  // The token was used once; a reload signs in from the kept session instead.
  await page.reload();
  await page.getByText('@desktop:localhost', { exact: true }).first().waitFor();
  assert.equal(loginScreenShown, false);
  await context.close();
});

test('a desktop token that the server refuses leads to the sign-in screen with the reason', async () => {
  const context = await browser.newContext();
  await context.addInitScript(() => {
    (window as unknown as { hearth: unknown }).hearth = {
      platform: 'linux',
      getLoginToken: async () => ({ userId: '@x:localhost', token: 'expired-or-made-up' }),
    };
  });
  const page = await context.newPage();
  await page.goto(server.url);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByText('Automatic sign-in failed. The sign-in token has expired or was already used.').waitFor();
  await context.close();
});

test("after signing out, the desktop sign-in screen offers the computer's account again, with a freshly minted token", async () => {
  const first = await server.hs.loginTokenFor('desktop');
  const context = await browser.newContext();
  let minted = 0;
  // As main/ does on the sign-in-again channel: a new token each time the page asks.
  await context.exposeFunction('mintDesktopToken', async () => {
    minted++;
    return server.hs.loginTokenFor('desktop');
  });
  await context.addInitScript(
    ([id, t]) => {
      let handedOut = false;
      const w = window as unknown as { hearth: unknown; mintDesktopToken(): Promise<unknown> };
      w.hearth = {
        platform: 'linux',
        getLoginToken: async () => (handedOut ? null : ((handedOut = true), { userId: id, token: t })),
        signInAgain: () => w.mintDesktopToken(),
      };
    },
    [first.userId, first.token] as const,
  );
  const page = await context.newPage();
  await page.goto(server.url);
  await page.getByText('@desktop:localhost', { exact: true }).first().waitFor();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  assert.equal(minted, 0, 'nothing is minted until the user asks');
  await page.getByRole('button', { name: "Continue with this computer's account" }).click();
  await page.getByText('@desktop:localhost', { exact: true }).first().waitFor();
  assert.equal(minted, 1);
  const session = JSON.parse((await page.evaluate(() => localStorage.getItem('hearth.session'))) ?? '{}') as { userId?: string };
  assert.equal(session.userId, '@desktop:localhost');
  await context.close();
});

test('in a plain browser the sign-in screen has no such button', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(server.url);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByLabel('Username').waitFor();
  assert.equal(await page.getByRole('button', { name: "Continue with this computer's account" }).count(), 0);
  await context.close();
});
