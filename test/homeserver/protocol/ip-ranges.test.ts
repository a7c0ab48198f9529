// Which addresses outbound federation may reach (issue #13, class 5): a table of addresses on
// either side of each non-public range's edges, and the IPv6 forms that embed an IPv4 address.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPublicAddress, nonPublicReason } from '../../../homeserver/protocol/ip-ranges.ts';

const NOT_PUBLIC: readonly string[] = [
  // IPv4
  '0.0.0.0',
  '0.255.255.255',
  '10.0.0.1',
  '10.255.255.255',
  '100.64.0.0',
  '100.127.255.255',
  '127.0.0.1',
  '127.255.255.254',
  '169.254.169.254', // cloud metadata
  '172.16.0.1',
  '172.31.255.255',
  '192.0.0.8',
  '192.0.2.1',
  '192.88.99.1',
  '192.168.1.1',
  '198.18.0.1',
  '198.19.255.255',
  '198.51.100.7',
  '203.0.113.9',
  '224.0.0.251', // mDNS
  '239.255.255.250',
  '240.0.0.1',
  '255.255.255.255',
  // IPv6
  '::',
  '::1',
  '::127.0.0.1', // IPv4-compatible (deprecated)
  '::8.8.8.8',
  '64:ff9b:1::1',
  '100::1',
  '2001::1', // Teredo
  '2001:0:4136:e378:8000:63bf:3fff:fdd2',
  '2001:2::1',
  '2001:10::1',
  '2001:20::1',
  '2001:db8::1',
  '3fff::1',
  '5f00::1',
  'fc00::1',
  'fd12:3456:789a::1',
  'fe80::1',
  'fe80::1%eth0',
  'febf:ffff::1',
  'fec0::1',
  'ff02::fb',
  // IPv4 inside IPv6
  '::ffff:127.0.0.1',
  '::ffff:7f00:1',
  '::FFFF:10.1.2.3',
  '::ffff:169.254.169.254',
  '64:ff9b::192.168.0.1',
  '64:ff9b::a00:1',
  '2002:7f00:1::', // 6to4 of 127.0.0.1
  '2002:c0a8:101::1', // 6to4 of 192.168.1.1
  // Not addresses at all
  'localhost',
  '',
  '127.0.0.1%eth0',
  '1.2.3',
];

const PUBLIC: readonly string[] = [
  '1.1.1.1',
  '8.8.8.8',
  '9.255.255.255',
  '11.0.0.0',
  '100.63.255.255',
  '100.128.0.0',
  '126.255.255.255',
  '128.0.0.1',
  '169.253.255.255',
  '169.255.0.0',
  '172.15.255.255',
  '172.32.0.0',
  '192.0.1.255',
  '192.167.255.255',
  '192.169.0.0',
  '198.17.255.255',
  '198.20.0.0',
  '223.255.255.255',
  '2001:4860:4860::8888',
  '2606:4700:4700::1111',
  '2a00:1450:4001:82a::200e',
  '2001:1::1', // outside Teredo's /32
  '2001:db9::1',
  'fbff::1',
  'fe00::1',
  '::ffff:8.8.8.8',
  '::ffff:808:808',
  '64:ff9b::8.8.8.8',
  '2002:808:808::1', // 6to4 of 8.8.8.8
];

for (const address of NOT_PUBLIC) {
  test(`${JSON.stringify(address)} is not a public address`, () => {
    assert.equal(isPublicAddress(address), false);
    assert.equal(typeof nonPublicReason(address), 'string');
  });
}

for (const address of PUBLIC) {
  test(`${address} is a public address`, () => {
    assert.equal(nonPublicReason(address), undefined);
    assert.equal(isPublicAddress(address), true);
  });
}

test('the reason names the range, and the embedded range for a mapped address', () => {
  assert.equal(nonPublicReason('127.0.0.1'), 'loopback');
  assert.equal(nonPublicReason('::ffff:127.0.0.1'), 'IPv4-mapped of loopback');
  assert.equal(nonPublicReason('2002:c0a8:101::1'), '6to4 of private (RFC 1918)');
  assert.equal(nonPublicReason('fd00::1'), 'unique local');
});
