// A device's ID and display name travel far: into every key query (/keys/query answers carry
// the name to other users), to-device paths and federation EDUs. A client may not make them as
// large as the request body allows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registerUser, startTestServer } from '../../helpers/server.ts';
import { checked } from '../../helpers/checked-call.ts';

test('device names over 100 characters (code points) are refused on rename and cut at login; device IDs over 255 characters are refused', async () => {
  const server = await startTestServer();
  try {
    const kim = await registerUser(server, 'kim', 'correct horse battery staple');
    const login = (extra: Record<string, unknown>) =>
      checked(server, undefined, 'POST', '/login', {
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: 'kim' },
        password: 'correct horse battery staple',
        ...extra,
      });

    const rename = await checked(server, kim, 'PUT', `/devices/${encodeURIComponent(kim.deviceId)}`, { display_name: 'x'.repeat(101) });
    assert.deepEqual([rename.status, rename.body.errcode], [400, 'M_TOO_LARGE']);
    const fits = await checked(server, kim, 'PUT', `/devices/${encodeURIComponent(kim.deviceId)}`, { display_name: 'ü'.repeat(100) });
    assert.equal(fits.status, 200);

    // A login is not refused for its client's long name: the name is cut, at a whole character.
    const long = await login({ device_id: 'PHONE', initial_device_display_name: `${'y'.repeat(99)}😀😀` });
    assert.equal(long.status, 200);
    const device = await checked(server, kim, 'GET', '/devices/PHONE');
    assert.equal(device.body.display_name, `${'y'.repeat(99)}😀`, 'cut to 100 characters, never inside one');

    const hugeId = await login({ device_id: 'D'.repeat(256) });
    assert.deepEqual([hugeId.status, hugeId.body.errcode], [400, 'M_INVALID_PARAM']);
    const reg = await checked(server, undefined, 'POST', '/register', {
      username: 'lou',
      password: 'correct horse battery staple',
      device_id: 'D'.repeat(256),
      auth: { type: 'm.login.dummy' },
    });
    assert.deepEqual([reg.status, reg.body.errcode], [400, 'M_INVALID_PARAM']);
    assert.equal((await login({ device_id: 'D'.repeat(255) })).status, 200);
  } finally {
    await server.stop();
  }
});
