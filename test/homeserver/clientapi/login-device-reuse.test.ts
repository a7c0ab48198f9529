// Logging in again with an existing device_id replaces that device's token (login.yaml
// "device_id"): the old token must stop working at once, also when it was cached.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registerUser, startTestServer } from '../../helpers/server.ts';
import { checked } from '../../helpers/checked-call.ts';

test("a login that reuses a device_id revokes that device's old access token, even one in use", async () => {
  const server = await startTestServer();
  try {
    const lee = await registerUser(server, 'lee', 'correct horse battery staple');
    const login = () =>
      checked(server, undefined, 'POST', '/login', {
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: 'lee' },
        password: 'correct horse battery staple',
        device_id: 'LAPTOP',
      });
    const first = await login();
    assert.equal(first.status, 200);
    const old = { ...lee, accessToken: first.body.access_token as string, deviceId: 'LAPTOP' };
    assert.equal((await checked(server, old, 'GET', '/account/whoami')).status, 200, 'the old token works and is now cached');
    const second = await login();
    assert.equal(second.status, 200);
    const after = await checked(server, old, 'GET', '/account/whoami');
    assert.equal(after.status, 401, `the replaced token is refused: ${JSON.stringify(after.body)}`);
    assert.equal(after.body.errcode, 'M_UNKNOWN_TOKEN');
    assert.equal((await checked(server, { ...old, accessToken: second.body.access_token as string }, 'GET', '/account/whoami')).status, 200);
  } finally {
    await server.stop();
  }
});
