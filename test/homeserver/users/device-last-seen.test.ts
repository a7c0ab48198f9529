// Issue #14 fault 6: GET /devices and /devices/{id} give last_seen_ip and last_seen_ts, recorded
// when a device's token is used (device_management.yaml), written at most once a minute per device
// and kept across a clean stop. Driven by matrix-js-sdk, every response validated against the spec.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'matrix-js-sdk';
import { startTestServer } from '../../helpers/server.ts';
import { assertNoValidationFailures, clearValidationFailures } from '../../helpers/openapi.ts';
import { fetchFn, PASSWORD, quietLogger, registerWithSdk } from '../../helpers/sdk.ts';
import { Connection } from '../../../homeserver/storage/sqlite.ts';
import { peerAddress } from '../../../homeserver/http/client-address.ts';
import { Database } from '../../../homeserver/storage/database.ts';
import { accountsStore } from '../../../homeserver/storage/accounts-store.ts';
import { UserService } from '../../../homeserver/users/user-service.ts';
import { DeviceActivity, DEVICE_SEEN_THROTTLE_MS } from '../../../homeserver/users/device-activity.ts';

describe('devices: last seen', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hearth-last-seen-'));
  after(() => {
    rmSync(dataDir, { recursive: true, force: true });
    assertNoValidationFailures();
  });

  test('GET /devices and /devices/{id} give the address and time the token was last used, and a clean stop keeps the newest', async () => {
    clearValidationFailures();
    let server = await startTestServer({ dataDir });
    let running = true;
    after(() => (running ? server.stop() : undefined));
    const creds = await registerWithSdk(server, 'alice');
    const alice = createClient({ baseUrl: server.url, fetchFn, logger: quietLogger, ...creds });
    const first = (await alice.getDevices()).devices.find((d) => d.device_id === creds.deviceId);
    assert.equal(first?.last_seen_ip, '127.0.0.1');
    assert.equal(typeof first?.last_seen_ts, 'number');
    // A millisecond later: a second use within the minute is shown at once, though not yet written.
    await sleep(5);
    const second = await alice.getDevice(creds.deviceId);
    assert.equal(second.last_seen_ip, '127.0.0.1');
    assert.ok(second.last_seen_ts! > first!.last_seen_ts!, `${second.last_seen_ts} after ${first!.last_seen_ts}`);
    running = false;
    await server.stop();

    const db = await Connection.open(join(dataDir, 'hearth.sqlite'), true);
    const row = await db.get<{ last_seen_ts: number; last_seen_ip: string }>(
      'SELECT last_seen_ts, last_seen_ip FROM devices WHERE device_id = ?',
      creds.deviceId,
    );
    await db.close();
    assert.deepEqual({ ...row }, { last_seen_ts: second.last_seen_ts, last_seen_ip: '127.0.0.1' });

    server = await startTestServer({ dataDir });
    running = true;
    const again = await createClient({ baseUrl: server.url, fetchFn, logger: quietLogger, ...creds }).getDevices();
    assert.equal(again.devices[0]?.last_seen_ip, '127.0.0.1');
  });

  test('a device that logged in and made no request yet already shows where it logged in from', async () => {
    const server = await startTestServer();
    try {
      const creds = await registerWithSdk(server, 'carol');
      const laptop = await createClient({ baseUrl: server.url, fetchFn, logger: quietLogger }).loginRequest({
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: 'carol' },
        password: PASSWORD,
      });
      const phone = createClient({ baseUrl: server.url, fetchFn, logger: quietLogger, ...creds });
      const seen = (await phone.getDevices()).devices.find((d) => d.device_id === laptop.device_id);
      assert.equal(seen?.last_seen_ip, '127.0.0.1');
      assert.equal(typeof seen?.last_seen_ts, 'number');
    } finally {
      await server.stop();
    }
  });

  test('the address is shown as a person reads it: IPv4 of a dual-stack listener unmapped, IPv6 whole without its zone', () => {
    assert.equal(peerAddress('::ffff:192.168.1.20'), '192.168.1.20');
    assert.equal(peerAddress('fe80::1%eth0'), 'fe80::1');
    assert.equal(peerAddress('2001:db8::42'), '2001:db8::42');
    assert.equal(peerAddress('10.0.0.7'), '10.0.0.7');
  });
});

describe('devices: last seen is written at most once a minute per device', () => {
  test('a sighting within the minute waits (shown at once, written later); after it, or at close, it is written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-activity-'));
    const db = await Database.open(join(dir, 'hearth.sqlite'));
    try {
      const users = new UserService(db, 'localhost');
      const { userId, session } = await users.register('alice', null, 'PHONE', undefined, false);
      assert.ok(session);
      let now = 1_000_000;
      const activity = new DeviceActivity(db, { now: () => now });
      const stored = async () => {
        await activity.idle();
        const row = await accountsStore.getDevice(db.reader, userId, 'PHONE');
        return [row?.last_seen_ts, row?.last_seen_ip];
      };
      activity.record(userId, 'PHONE', '10.0.0.1');
      assert.deepEqual(await stored(), [now, '10.0.0.1']);
      const firstWrite = now;
      now += DEVICE_SEEN_THROTTLE_MS - 1;
      activity.record(userId, 'PHONE', '10.0.0.2');
      assert.deepEqual(await stored(), [firstWrite, '10.0.0.1'], 'held back within the minute');
      const row = (await accountsStore.getDevice(db.reader, userId, 'PHONE'))!;
      assert.deepEqual([activity.overlay(row).last_seen_ts, activity.overlay(row).last_seen_ip], [now, '10.0.0.2']);
      now += 1;
      activity.record(userId, 'PHONE', '10.0.0.3');
      assert.deepEqual(await stored(), [now, '10.0.0.3'], 'written once the minute is over');
      now += 10;
      activity.record(userId, 'PHONE', '10.0.0.4');
      await activity.close();
      assert.deepEqual(await stored(), [now, '10.0.0.4'], 'written at close');
      // A device deleted meanwhile is not brought back by its last sighting.
      activity.record(userId, 'GONE', '10.0.0.5');
      await activity.close();
      assert.equal(await accountsStore.getDevice(db.reader, userId, 'GONE'), undefined);
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
