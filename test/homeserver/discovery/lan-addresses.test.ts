// Which announced addresses a LAN peer may be contacted at (homeserver/discovery/lan-addresses.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type os from 'node:os';
import { lanAddresses, ownAddresses, ownSubnets } from '../../../homeserver/discovery/lan-addresses.ts';

type Ifaces = ReturnType<typeof os.networkInterfaces>;
const iface = (address: string, cidr: string, internal = false) =>
  ({ address, cidr, internal, family: address.includes(':') ? 'IPv6' : 'IPv4', netmask: '', mac: '02:00:00:00:00:01' }) as os.NetworkInterfaceInfo;

const office: Ifaces = {
  lo: [iface('127.0.0.1', '127.0.0.1/8', true), iface('::1', '::1/128', true)],
  eth0: [iface('192.168.1.20', '192.168.1.20/24'), iface('fe80::1', 'fe80::1/64'), iface('2001:db8:1::20', '2001:db8:1::20/64')],
};

test('only addresses in a subnet of our own interfaces are kept, IPv4 first, without duplicates', () => {
  const subnets = ownSubnets(office);
  assert.deepEqual(lanAddresses(['2001:db8:1::7', '192.168.1.7', '192.168.1.7', '192.168.2.7', '8.8.8.8', '2001:db8:2::7'], subnets), [
    '192.168.1.7',
    '2001:db8:1::7',
  ]);
});

test('loopback, unspecified, multicast, broadcast, IPv6 link-local and IPv4-mapped addresses are never kept', () => {
  // A subnet that would hold them all if only subnets counted: the rules must hold on their own.
  const everything: Ifaces = { eth0: [iface('10.0.0.1', '0.0.0.0/0'), iface('2001:db8::1', '::/0')] };
  const subnets = ownSubnets(everything);
  assert.deepEqual(
    lanAddresses(['127.0.0.1', '0.0.0.0', '224.0.0.251', '255.255.255.255', '::1', '::', 'ff02::fb', 'fe80::2', '::ffff:127.0.0.1', 'not an ip'], subnets),
    [],
  );
  assert.deepEqual(lanAddresses(['10.9.9.9', '2001:db8::9'], subnets), ['10.9.9.9', '2001:db8::9']);
});

test("our own addresses list every non-internal interface's, so a change of any is noticed", () => {
  assert.deepEqual(ownAddresses(office), ['192.168.1.20/24', '2001:db8:1::20/64', 'fe80::1/64'].sort());
  assert.deepEqual(ownAddresses({ lo: office.lo }), []);
});
