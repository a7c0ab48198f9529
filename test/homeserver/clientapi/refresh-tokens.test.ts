// Refresh tokens (client-server-api "Refreshing access tokens", refresh.yaml): a client that asks
// with `refresh_token: true` gets an access token that expires and a refresh token; /refresh
// rotates the pair; the old refresh token lasts until the new pair is first used. Time is a fake
// clock handed to the server (tokenClock), so expiry is tested without waiting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, MatrixError } from 'matrix-js-sdk';
import { registerUser, startTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';
import { checked } from '../../helpers/checked-call.ts';
import { fetchFn, quietLogger, PASSWORD } from '../../helpers/sdk.ts';

const LIFETIME_MS = 60_000;

async function withClock(fn: (server: TestServer, clock: { advance(ms: number): void }) => Promise<void>): Promise<void> {
  let now = Date.now();
  const server = await startTestServer({ refreshableAccessTokenLifetimeMs: LIFETIME_MS, tokenClock: () => now });
  try {
    await fn(server, { advance: (ms) => void (now += ms) });
  } finally {
    await server.stop();
  }
}

async function loginRefreshable(server: TestServer, user: string, extra: Record<string, unknown> = {}) {
  const res = await checked(server, undefined, 'POST', '/login', {
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user },
    password: PASSWORD,
    refresh_token: true,
    ...extra,
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as { user_id: string; device_id: string; access_token: string; refresh_token: string; expires_in_ms: number };
}

const as = (u: TestUser, accessToken: string): TestUser => ({ ...u, accessToken });

test('a refreshable access token answers until its lifetime is over, then 401 M_UNKNOWN_TOKEN with soft_logout true', async () => {
  await withClock(async (server, clock) => {
    const kim = await registerUser(server, 'kim', PASSWORD);
    const s = await loginRefreshable(server, 'kim');
    assert.equal(s.expires_in_ms, LIFETIME_MS);
    assert.ok(s.refresh_token.length > 20);
    assert.equal((await checked(server, as(kim, s.access_token), 'GET', '/account/whoami')).status, 200, 'fresh token works (and is cached)');
    clock.advance(LIFETIME_MS);
    const late = await checked(server, as(kim, s.access_token), 'GET', '/account/whoami');
    assert.equal(late.status, 401);
    assert.equal(late.body.errcode, 'M_UNKNOWN_TOKEN');
    assert.equal(late.body.soft_logout, true, 'an expired token is a soft logout: the session lives on');
  });
});

test('a client that does not ask for a refresh token gets none, and its access token never expires', async () => {
  await withClock(async (server, clock) => {
    const lou = await registerUser(server, 'lou', PASSWORD);
    const res = await checked(server, undefined, 'POST', '/login', {
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: 'lou' },
      password: PASSWORD,
    });
    assert.equal(res.body.refresh_token, undefined);
    assert.equal(res.body.expires_in_ms, undefined);
    clock.advance(365 * 24 * 3600_000);
    assert.equal((await checked(server, as(lou, res.body.access_token as string), 'GET', '/account/whoami')).status, 200);
    assert.equal((await checked(server, lou, 'GET', '/account/whoami')).status, 200, 'the token from registration too');
  });
});

test('/refresh gives a new pair on the same device and ends the old access token at once', async () => {
  await withClock(async (server, clock) => {
    const kim = await registerUser(server, 'kim', PASSWORD);
    const s = await loginRefreshable(server, 'kim', { device_id: 'PHONE' });
    assert.equal((await checked(server, as(kim, s.access_token), 'GET', '/account/whoami')).status, 200);
    clock.advance(LIFETIME_MS + 1);
    const r = await checked(server, undefined, 'POST', '/refresh', { refresh_token: s.refresh_token });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.expires_in_ms, LIFETIME_MS);
    assert.notEqual(r.body.refresh_token, s.refresh_token);
    const who = await checked(server, as(kim, r.body.access_token as string), 'GET', '/account/whoami');
    assert.deepEqual([who.status, who.body.user_id, who.body.device_id], [200, kim.userId, 'PHONE']);
    const old = await checked(server, as(kim, s.access_token), 'GET', '/account/whoami');
    assert.equal(old.status, 401);
    assert.equal(old.body.soft_logout, false, 'the replaced access token is gone, not merely expired');
  });
});

test('the old refresh token works again until the new pair is used, then is refused 401 M_UNKNOWN_TOKEN', async () => {
  await withClock(async (server) => {
    const kim = await registerUser(server, 'kim', PASSWORD);
    const s = await loginRefreshable(server, 'kim');
    // The client lost the first answer: it repeats the refresh with the same token.
    const lost = await checked(server, undefined, 'POST', '/refresh', { refresh_token: s.refresh_token });
    assert.equal(lost.status, 200);
    const again = await checked(server, undefined, 'POST', '/refresh', { refresh_token: s.refresh_token });
    assert.equal(again.status, 200, 'the old refresh token is still valid while the new pair is unused');
    const lostUse = await checked(server, as(kim, lost.body.access_token as string), 'GET', '/account/whoami');
    assert.equal(lostUse.status, 401, 'the pair the client never received was replaced by the repeat');
    // First use of the new access token revokes the old refresh token.
    assert.equal((await checked(server, as(kim, again.body.access_token as string), 'GET', '/account/whoami')).status, 200);
    const reuse = await checked(server, undefined, 'POST', '/refresh', { refresh_token: s.refresh_token });
    assert.equal(reuse.status, 401);
    assert.equal(reuse.body.errcode, 'M_UNKNOWN_TOKEN');
    // And the new refresh token goes on.
    const next = await checked(server, undefined, 'POST', '/refresh', { refresh_token: again.body.refresh_token });
    assert.equal(next.status, 200);
    // Using the new refresh token (not only its access token) revokes the one it replaced.
    assert.equal((await checked(server, undefined, 'POST', '/refresh', { refresh_token: next.body.refresh_token })).status, 200);
    assert.equal((await checked(server, undefined, 'POST', '/refresh', { refresh_token: again.body.refresh_token })).status, 401);
  });
});

test('logging out, even with an expired access token, ends the refresh token too', async () => {
  await withClock(async (server, clock) => {
    const kim = await registerUser(server, 'kim', PASSWORD);
    const s = await loginRefreshable(server, 'kim');
    clock.advance(LIFETIME_MS);
    const out = await checked(server, as(kim, s.access_token), 'POST', '/logout', {});
    assert.equal(out.status, 200, JSON.stringify(out.body));
    const r = await checked(server, undefined, 'POST', '/refresh', { refresh_token: s.refresh_token });
    assert.equal(r.status, 401);
    assert.equal(r.body.soft_logout, false);
    assert.equal(((await checked(server, kim, 'GET', '/devices')).body.devices as unknown[]).length, 1, 'only the registration device is left');
  });
});

test('matrix-js-sdk registers with a refresh token, is soft-logged-out when it expires, and refreshes with client.refreshToken', async () => {
  await withClock(async (server, clock) => {
    const anon = createClient({ baseUrl: server.url, fetchFn, logger: quietLogger });
    // client.register always sends refresh_token: true; m.login.dummy completes UIA in one step.
    const reg = await anon.register('sdkuser', PASSWORD, null, { type: 'm.login.dummy' });
    assert.ok(reg.refresh_token, 'the SDK asked for a refresh token and got one');
    assert.equal(reg.expires_in_ms, LIFETIME_MS);
    const client = createClient({
      baseUrl: server.url,
      fetchFn,
      logger: quietLogger,
      userId: reg.user_id,
      deviceId: reg.device_id,
      accessToken: reg.access_token,
    });
    assert.equal((await client.whoami()).user_id, reg.user_id);
    clock.advance(LIFETIME_MS);
    await assert.rejects(client.whoami(), (err: unknown) => err instanceof MatrixError && err.errcode === 'M_UNKNOWN_TOKEN' && err.data.soft_logout === true);
    const fresh = await client.refreshToken(reg.refresh_token);
    assert.equal(fresh.expires_in_ms, LIFETIME_MS);
    client.setAccessToken(fresh.access_token);
    const who = await client.whoami();
    assert.deepEqual([who.user_id, who.device_id], [reg.user_id, reg.device_id], 'the new token is bound to the same device');
    await assert.rejects(client.refreshToken(reg.refresh_token), (err: unknown) => err instanceof MatrixError && err.errcode === 'M_UNKNOWN_TOKEN');
  });
});
