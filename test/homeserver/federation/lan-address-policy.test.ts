// The address policy for key-bound LAN names (issue #15): only the addresses the peer announces
// now, public or not; loopback only for a configured name; nothing when it is not announced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressPolicy } from '../../../homeserver/federation/address-policy.ts';
import { lanServerName } from '../../../homeserver/protocol/lan-identity.ts';
import { generateSigningKey } from '../../../homeserver/protocol/signing-key.ts';
import { TableDirectory } from './lan-desktops.ts';

function peerAt(lan: TableDirectory, addresses: string[]): string {
  const key = generateSigningKey();
  const name = lanServerName(key.publicKey);
  lan.announce({ serverName: name, port: 8448, keyId: key.keyId, publicKey: '', tlsFingerprint: '', version: 't', users: [], addresses, lastSeenTs: 0 });
  return name;
}

test('a LAN name may reach only the addresses it announces now, public ones included', () => {
  const lan = new TableDirectory();
  const name = peerAt(lan, ['10.0.0.5', 'fd00::5']);
  const p = new AddressPolicy([], lan);
  assert.equal(p.refusal(name, '10.0.0.5'), undefined);
  assert.equal(p.refusal(name, 'FD00::5'), undefined);
  assert.equal(p.refusal(name, '::ffff:10.0.0.5'), undefined);
  for (const address of ['10.0.0.6', '8.8.8.8', '127.0.0.1']) {
    assert.match(p.refusal(name, address) ?? '', /is not an address .* announces on the LAN now/, address);
  }
  lan.leave(name);
  assert.match(p.refusal(name, '10.0.0.5') ?? '', /announces on the LAN now/);
});

test('a LAN name that is not announced reaches nothing, even when configured', () => {
  const name = lanServerName(generateSigningKey().publicKey);
  const p = new AddressPolicy([name], new TableDirectory());
  for (const address of ['8.8.8.8', '10.0.0.5', '127.0.0.1']) assert.notEqual(p.refusal(name, address), undefined, address);
  assert.notEqual(new AddressPolicy([name]).refusal(name, '8.8.8.8'), undefined);
});

test('an announced loopback address is refused unless the name is configured', () => {
  const lan = new TableDirectory();
  const name = peerAt(lan, ['127.0.0.1', '::1']);
  const unconfigured = new AddressPolicy([], lan);
  assert.match(unconfigured.refusal(name, '127.0.0.1') ?? '', /loopback/);
  assert.match(unconfigured.refusal(name, '::1') ?? '', /loopback/);
  const configured = new AddressPolicy([name.toUpperCase()], lan);
  assert.equal(configured.refusal(name, '127.0.0.1'), undefined);
  assert.equal(configured.refusal(name, '::1'), undefined);
});
