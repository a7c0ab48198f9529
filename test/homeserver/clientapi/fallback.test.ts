// The fallback pages, driven the way a client without the stage would: the UIA fallback page
// completes a stage in a browser and the client resubmits with just the session; the login
// fallback page signs in inside Chromium and hands the /login response to window.matrixLogin.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { startTestServer, registerUser, call, type TestServer } from '../../helpers/server.ts';

const CHROMIUM = process.env.HEARTH_CHROMIUM ?? '/usr/bin/chromium';

describe('UIA and login fallback pages', () => {
  let server: TestServer;
  let browser: Browser | undefined;

  before(async () => {
    server = await startTestServer({ registration: 'token', registrationTokens: ['letmein'] });
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('a registration token entered on the fallback page completes the stage; the client then registers with only the session', async () => {
    const first = await call(server, undefined, 'POST', '/register', { username: 'dora', password: 'pw-dora-123' });
    assert.equal(first.status, 401);
    const session = first.body.session as string;
    const url = `${server.api}/auth/m.login.registration_token/fallback/web?session=${encodeURIComponent(session)}`;
    const get = await fetch(url);
    assert.equal(get.status, 200);
    assert.match(get.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(get.headers.get('content-security-policy') ?? '', /script-src 'nonce-/);
    const html = await get.text();
    assert.match(html, /name="token"/);

    const wrong = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ session, token: 'nope' }),
    });
    assert.equal(wrong.status, 401);
    assert.match(await wrong.text(), /Invalid registration token/);
    const early = await call(server, undefined, 'POST', '/register', { username: 'dora', password: 'pw-dora-123', auth: { session } });
    assert.equal(early.status, 401, 'nothing completed yet');

    const right = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ session, token: 'letmein' }),
    });
    assert.equal(right.status, 200);
    assert.match(await right.text(), /window\.onAuthDone\(\)[\s\S]*postMessage\("authDone", "\*"\)/);
    const done = await call(server, undefined, 'POST', '/register', { username: 'dora', password: 'pw-dora-123', auth: { session } });
    assert.equal(done.status, 200);
    assert.equal(done.body.user_id, '@dora:localhost');
  });

  test('a fallback page for an unknown session or stage is a standard error', async () => {
    const res = await call(server, undefined, 'GET', '/auth/m.login.dummy/fallback/web?session=nope');
    assert.equal(res.status, 400);
    assert.equal(res.body.errcode, 'M_MISSING_PARAM');
    const stage = await call(server, undefined, 'GET', '/auth/m.login.recaptcha/fallback/web?session=nope');
    assert.equal(stage.status, 404);
    assert.equal(stage.body.errcode, 'M_UNRECOGNIZED');
  });

  // Found by test/fuzz/client-bodies.fuzz.test.ts: leaving the form's read loop destroyed the
  // request, so the client saw its connection reset instead of the answer.
  test('a form over 16 KiB is answered 413 M_TOO_LARGE with Connection: close, declared or streamed, never a reset', async () => {
    const url = `${server.api}/auth/m.login.dummy/fallback/web?session=x`;
    const declared = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a='.padEnd(64 * 1024, 'x') });
    assert.equal(declared.status, 413);
    assert.equal(((await declared.json()) as { errcode: string }).errcode, 'M_TOO_LARGE');
    // Streamed (chunked, no length): the answer must arrive while the client is still sending.
    const target = new URL(url);
    const socket = connect(Number(target.port), target.hostname);
    await once(socket, 'connect');
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    socket.on('error', () => {});
    socket.write(
      `POST ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n`,
    );
    const chunk = Buffer.alloc(8 * 1024, 0x61);
    for (let i = 0; i < 40 && !answer.includes('\r\n\r\n'); i++) {
      socket.write(`${chunk.length.toString(16)}\r\n`);
      socket.write(chunk);
      socket.write('\r\n');
      await new Promise((r) => setTimeout(r, 5));
    }
    const deadline = Date.now() + 5_000;
    while (!answer.includes('M_TOO_LARGE') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    socket.destroy();
    assert.match(answer, /^HTTP\/1\.1 413 /, `no answer before the reset: ${JSON.stringify(answer.slice(0, 200))}`);
    assert.match(answer, /\r\nConnection: close\r\n/i);
    assert.match(answer, /M_TOO_LARGE/);
    assert.equal((await fetch(`${server.url}/_matrix/client/versions`)).status, 200);
  });

  test('the password stage on the fallback page authorises deleting a device', async () => {
    const open = await startTestServer();
    try {
      const u = await registerUser(open, 'erin', 'erin-password');
      const other = await call(open, undefined, 'POST', '/login', {
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: 'erin' },
        password: 'erin-password',
      });
      const first = await call(open, u, 'DELETE', `/devices/${other.body.device_id}`, {});
      assert.equal(first.status, 401);
      const session = first.body.session as string;
      const url = `${open.api}/auth/m.login.password/fallback/web?session=${encodeURIComponent(session)}`;
      const post = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ session, user: u.userId, password: 'erin-password' }),
      });
      assert.equal(post.status, 200, await post.clone().text());
      const done = await call(open, u, 'DELETE', `/devices/${other.body.device_id}`, { auth: { session } });
      assert.equal(done.status, 200);
      assert.equal(
        (await call(open, { ...u, accessToken: other.body.access_token }, 'GET', '/account/whoami')).status,
        401,
        'the deleted device is signed out',
      );
    } finally {
      await open.stop();
    }
  });

  /** Signs `user` in on the fallback page at `path` in Chromium; returns what the page handed to window.matrixLogin.onLogin. */
  async function signInOnPage(path: string, user: string, password: string) {
    browser ??= await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--disable-sync',
      ],
    });
    const page = await browser.newPage();
    const cspErrors: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
    });
    await page.addInitScript(() => {
      (window as unknown as { matrixLogin: unknown }).matrixLogin = {
        onLogin: (r: unknown) => ((window as unknown as { loginResult: unknown }).loginResult = r),
      };
    });
    await page.goto(`${server.url}${path}`);
    await page.getByLabel('Username').fill(user);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForFunction(() => (window as unknown as { loginResult?: unknown }).loginResult !== undefined, undefined, { timeout: 10_000 });
    const result = (await page.evaluate(() => (window as unknown as { loginResult: unknown }).loginResult)) as {
      user_id: string;
      device_id: string;
      access_token: string;
    };
    await page.close();
    assert.deepEqual(cspErrors, [], 'the page runs under its own strict CSP');
    return result;
  }

  /** Registers through the token stage: registration is token-gated on this server. */
  async function registerWithToken(username: string, password: string) {
    const first = await call(server, undefined, 'POST', '/register', { username, password });
    const done = await call(server, undefined, 'POST', '/register', {
      username,
      password,
      auth: { type: 'm.login.registration_token', token: 'letmein', session: first.body.session },
    });
    assert.equal(done.status, 200, JSON.stringify(done.body));
  }

  test('the login fallback page signs in in Chromium and calls window.matrixLogin.onLogin with the /login response', async (t) => {
    if (!existsSync(CHROMIUM)) {
      if (process.env.CI) assert.fail(`no Chromium at ${CHROMIUM}`);
      t.skip(`no Chromium at ${CHROMIUM}`);
      return;
    }
    await registerWithToken('frank', 'frank-password');
    const result = await signInOnPage('/_matrix/static/client/login/?device_id=FALLBACKDEV', 'frank', 'frank-password');
    assert.equal(result.user_id, '@frank:localhost');
    assert.equal(result.device_id, 'FALLBACKDEV', 'query parameters are forwarded to /login');
    assert.ok(result.access_token);
  });

  test("the seed's login fallback path /_matrix/client/api/v1/login/fallback serves a page that performs the whole login", async (t) => {
    const res = await fetch(`${server.url}/_matrix/client/api/v1/login/fallback`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await res.text(), /<form id="login">/);
    if (!existsSync(CHROMIUM)) {
      if (process.env.CI) assert.fail(`no Chromium at ${CHROMIUM}`);
      t.skip(`no Chromium at ${CHROMIUM}`);
      return;
    }
    await registerWithToken('gina', 'gina-password');
    const result = await signInOnPage('/_matrix/client/api/v1/login/fallback', 'gina', 'gina-password');
    assert.equal(result.user_id, '@gina:localhost');
    const who = await call(server, { userId: result.user_id, deviceId: result.device_id, accessToken: result.access_token }, 'GET', '/account/whoami');
    assert.equal(who.status, 200, 'the token the page handed over works');
  });
});
