// matrix-js-sdk deletes a device through user-interactive auth: the first call answers 401 with
// the m.login.password flow and a session, the second completes it; the device's token then fails.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient, MatrixError, type MatrixClient } from 'matrix-js-sdk';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { assertNoValidationFailures, clearValidationFailures } from '../helpers/openapi.ts';
import { fetchFn, PASSWORD, quietLogger, registerWithSdk } from '../helpers/sdk.ts';

describe('matrix-js-sdk manages devices', () => {
  let server: TestServer;
  let laptop: MatrixClient;
  let phone: { userId: string; accessToken: string; deviceId: string };

  before(async () => {
    clearValidationFailures();
    server = await startTestServer();
    const u = await registerWithSdk(server, 'dana');
    laptop = createClient({ baseUrl: server.url, fetchFn, logger: quietLogger, userId: u.userId, accessToken: u.accessToken, deviceId: u.deviceId });
    const login = await createClient({ baseUrl: server.url, fetchFn, logger: quietLogger }).loginRequest({
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: 'dana' },
      password: PASSWORD,
      initial_device_display_name: 'Phone',
    });
    phone = { userId: login.user_id, accessToken: login.access_token, deviceId: login.device_id };
  });
  after(async () => {
    await server?.stop();
  });

  test('the device list names both devices, with the display name given at login', async () => {
    const { devices } = await laptop.getDevices();
    assert.deepEqual(devices.map((d) => d.device_id).sort(), [laptop.getDeviceId(), phone.deviceId].sort());
    assert.equal(devices.find((d) => d.device_id === phone.deviceId)?.display_name, 'Phone');
  });

  test('deleting the phone asks for the password through UIA, then signs the phone out', async () => {
    let session: string | undefined;
    try {
      await laptop.deleteDevice(phone.deviceId);
      assert.fail('deleting a device without auth must answer 401');
    } catch (err) {
      assert.ok(err instanceof MatrixError && err.httpStatus === 401, String(err));
      const data = err.data as { session?: string; flows?: Array<{ stages: string[] }> };
      assert.ok(data.flows?.some((f) => f.stages.includes('m.login.password')));
      session = data.session;
    }
    try {
      await laptop.deleteDevice(phone.deviceId, { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'dana' }, password: 'wrong', session });
      assert.fail('a wrong password must not complete the stage');
    } catch (err) {
      assert.ok(err instanceof MatrixError && err.httpStatus === 401 && err.errcode === 'M_FORBIDDEN', String(err));
    }
    await laptop.deleteDevice(phone.deviceId, { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'dana' }, password: PASSWORD, session });
    const { devices } = await laptop.getDevices();
    assert.deepEqual(
      devices.map((d) => d.device_id),
      [laptop.getDeviceId()],
    );
    const gone = createClient({ baseUrl: server.url, fetchFn, logger: quietLogger, userId: phone.userId, accessToken: phone.accessToken });
    await assert.rejects(gone.whoami(), (err: unknown) => err instanceof MatrixError && err.errcode === 'M_UNKNOWN_TOKEN');
  });

  test('every response matches the spec', () => {
    assertNoValidationFailures();
  });
});
