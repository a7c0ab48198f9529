// The address policy (issue #13, class 5): public addresses for everyone, any address for the
// names the user configured, the announced addresses for names LAN discovery found.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressPolicy, MAX_ANNOUNCED_PEERS } from '../../../homeserver/federation/address-policy.ts';

test('a name nobody configured may reach public addresses only', () => {
  const p = new AddressPolicy();
  assert.equal(p.refusal('example.org', '8.8.8.8'), undefined);
  assert.equal(p.refusal('example.org', '2606:4700:4700::1111'), undefined);
  for (const address of ['127.0.0.1', '10.0.0.5', '192.168.1.1', '169.254.169.254', '::1', 'fd00::1', '::ffff:127.0.0.1']) {
    assert.match(p.refusal('example.org', address) ?? '', /is not a public address/, address);
  }
  assert.equal(p.isPrivatePeer('example.org'), false);
});

test('a configured name may reach any address, whatever the case of its name', () => {
  const p = new AddressPolicy(['Peer.LAN:8448']);
  assert.equal(p.refusal('peer.lan:8448', '192.168.1.7'), undefined);
  assert.equal(p.refusal('PEER.lan:8448', '127.0.0.1'), undefined);
  assert.equal(p.isPrivatePeer('peer.lan:8448'), true);
  // The port is part of the name: another port on that host is another server.
  assert.notEqual(p.refusal('peer.lan:9000', '192.168.1.7'), undefined);
});

test('an announced name may reach its announced addresses only, until it is removed or re-announced', () => {
  const p = new AddressPolicy();
  p.addAllowedPeer('laptop.local:8448', ['192.168.1.20', 'fe80::1']);
  assert.equal(p.refusal('laptop.local:8448', '192.168.1.20'), undefined);
  assert.equal(p.refusal('laptop.local:8448', '::ffff:192.168.1.20'), undefined, 'as a dual-stack socket shows it');
  assert.equal(p.refusal('laptop.local:8448', 'FE80::1'), undefined);
  assert.notEqual(p.refusal('laptop.local:8448', '192.168.1.21'), undefined);
  assert.notEqual(p.refusal('laptop.local:8448', '127.0.0.1'), undefined);
  assert.equal(p.isPrivatePeer('laptop.local:8448'), true);
  p.addAllowedPeer('laptop.local:8448', ['192.168.1.21']);
  assert.notEqual(p.refusal('laptop.local:8448', '192.168.1.20'), undefined, 'a new announcement replaces the old addresses');
  p.removeAllowedPeer('laptop.local:8448');
  assert.notEqual(p.refusal('laptop.local:8448', '192.168.1.21'), undefined);
  assert.equal(p.isPrivatePeer('laptop.local:8448'), false);
});

test('announcements are bounded: the oldest is forgotten first', () => {
  const p = new AddressPolicy();
  for (let i = 0; i <= MAX_ANNOUNCED_PEERS; i++) p.addAllowedPeer(`peer${i}.local`, ['10.0.0.1']);
  assert.equal(p.isPrivatePeer('peer0.local'), false);
  assert.equal(p.isPrivatePeer('peer1.local'), true);
  assert.equal(p.isPrivatePeer(`peer${MAX_ANNOUNCED_PEERS}.local`), true);
});
