// The desktop window's web permissions (main/permission-policy.ts): notifications for the app's own
// page, and nothing else for anyone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { permissionAllowed } from '../../main/permission-policy.ts';

const APP = 'http://127.0.0.1:45123';

test('the app page may show notifications', () => {
  assert.equal(permissionAllowed(APP, 'notifications', 'http://127.0.0.1:45123/'), true);
  assert.equal(permissionAllowed(APP, 'notifications', 'http://127.0.0.1:45123'), true, 'an origin, as the check handler passes it');
});

test('no other page may, nor before the homeserver has an origin, nor without a URL', () => {
  assert.equal(permissionAllowed(APP, 'notifications', 'http://127.0.0.1:45124/'), false, 'another port is another program');
  assert.equal(permissionAllowed(APP, 'notifications', 'https://example.org/'), false);
  assert.equal(permissionAllowed(APP, 'notifications', 'file:///tmp/x.html'), false);
  assert.equal(permissionAllowed(APP, 'notifications', undefined), false);
  assert.equal(permissionAllowed(undefined, 'notifications', 'http://127.0.0.1:45123/'), false);
});

test('every other permission stays refused, even for the app page', () => {
  for (const p of ['media', 'geolocation', 'clipboard-read', 'midi', 'pointerLock', 'fullscreen', 'openExternal', 'unknown']) {
    assert.equal(permissionAllowed(APP, p, 'http://127.0.0.1:45123/'), false, p);
  }
});
