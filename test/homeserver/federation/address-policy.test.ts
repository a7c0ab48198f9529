// The address policy (issue #13, class 5): public addresses for everyone, any address for the
// names the user configured, the announced addresses for names LAN discovery found.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressPolicy } from '../../../homeserver/federation/address-policy.ts';

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
