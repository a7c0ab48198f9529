// The address a client is rate limited by (homeserver/http/client-address.ts): table-driven.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientAddress } from '../../../homeserver/http/client-address.ts';

test('an IPv4 client is its address, also when it reaches a dual-stack listener as ::ffff:a.b.c.d', () => {
  assert.equal(clientAddress('192.168.1.20'), '192.168.1.20');
  assert.equal(clientAddress('::ffff:192.168.1.20'), '192.168.1.20');
  assert.equal(clientAddress('::FFFF:10.0.0.2'), '10.0.0.2');
});

test('every address of one IPv6 /64 is one client, however it is written', () => {
  const one = ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::7', '2001:0DB8:0001:0002:aaaa::', '2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:db8:1:2::1%eth0'].map(
    clientAddress,
  );
  assert.deepEqual(new Set(one), new Set(['2001:db8:1:2::/64']));
  assert.notEqual(clientAddress('2001:db8:1:3::1'), clientAddress('2001:db8:1:2::1'), 'the next /64 is another client');
  assert.equal(clientAddress('::1'), '0:0:0:0::/64');
  assert.equal(clientAddress('2001:db8::1.2.3.4'), '2001:db8:0:0::/64');
});
