// The sessions list and the UIA password step (renderer/src/lib/devices.ts; client-server-api
// "User-Interactive Authentication API").
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeLastSeen, listDevices, withPassword, type PasswordAuth } from '../../renderer/src/lib/devices.ts';

test('this session comes first, then the others by last seen; a device without a name shows its ID', () => {
  const listed = listDevices(
    [
      { device_id: 'OLD', display_name: 'Old phone', last_seen_ts: 1000 },
      { device_id: 'NEW', last_seen_ts: 5000, last_seen_ip: '10.0.0.2' },
      { device_id: 'ME', display_name: 'Laptop', last_seen_ts: 10 },
      { device_id: 'NEVER', display_name: '  ' },
    ],
    'ME',
  );
  assert.deepEqual(
    listed.map((d) => [d.id, d.name, d.current]),
    [
      ['ME', 'Laptop', true],
      ['NEW', 'NEW', false],
      ['OLD', 'Old phone', false],
      ['NEVER', 'NEVER', false],
    ],
  );
});

test('last seen says when and where, or "Never seen"', () => {
  assert.equal(
    describeLastSeen({ lastSeenTs: Date.UTC(2026, 2, 12, 14, 5), lastSeenIp: '10.0.0.2' }, 'en-GB').replace(/\s/g, ' '),
    'Last seen 12 Mar 2026, 14:05 from 10.0.0.2',
  );
  assert.equal(describeLastSeen({ lastSeenTs: null, lastSeenIp: '10.0.0.2' }), 'Seen from 10.0.0.2');
  assert.equal(describeLastSeen({ lastSeenTs: null, lastSeenIp: null }), 'Never seen');
});

const uia401 = (flows: string[][]) => Object.assign(new Error('401'), { httpStatus: 401, data: { session: 'S1', flows: flows.map((stages) => ({ stages })) } });

test('withPassword answers the 401 challenge with m.login.password in the same session', async () => {
  const calls: Array<PasswordAuth | undefined> = [];
  const result = await withPassword('@a:s', 'pw', async (auth) => {
    calls.push(auth);
    if (!auth) throw uia401([['m.login.password']]);
    return 'done';
  });
  assert.equal(result, 'done');
  assert.deepEqual(calls, [undefined, { type: 'm.login.password', identifier: { type: 'm.id.user', user: '@a:s' }, password: 'pw', session: 'S1' }]);
});

test('withPassword passes on any other error, and a 401 that offers no password flow', async () => {
  await assert.rejects(
    withPassword('@a:s', 'pw', async () => {
      throw Object.assign(new Error('403'), { httpStatus: 403 });
    }),
    /403/,
  );
  let n = 0;
  await assert.rejects(
    withPassword('@a:s', 'pw', async () => {
      n++;
      throw uia401([['m.login.sso']]);
    }),
    /401/,
  );
  assert.equal(n, 1, 'no second try without a password flow');
});
