// The pure rules of protocol/e2e-keys.ts, from the spec's text: the backup replacement rule
// ("Server-side key backups") and the checks on uploaded device and cross-signing keys.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backupKeyReplaces, crossSigningKeyProblem, deviceKeysProblem, oneTimeKeysProblem, type BackupKeyData } from '../../../homeserver/protocol/e2e-keys.ts';
import { crossSigningKey, ed25519, signAs, testDevice } from '../e2ee/e2ee-helpers.ts';

const k = (is_verified: boolean, first_message_index: number, forwarded_count: number): BackupKeyData => ({
  is_verified,
  first_message_index,
  forwarded_count,
  session_data: {},
});

describe('backupKeyReplaces', () => {
  const table: Array<[string, BackupKeyData, BackupKeyData, boolean]> = [
    ['verified replaces unverified whatever the index', k(true, 50, 9), k(false, 0, 0), true],
    ['unverified never replaces verified', k(false, 0, 0), k(true, 50, 9), false],
    ['lower first_message_index wins at equal verification', k(false, 1, 9), k(false, 2, 0), true],
    ['higher first_message_index loses', k(true, 3, 0), k(true, 2, 9), false],
    ['lower forwarded_count wins at equal verification and index', k(true, 2, 0), k(true, 2, 1), true],
    ['higher forwarded_count loses', k(false, 2, 2), k(false, 2, 1), false],
    ['an identical key does not replace', k(false, 2, 1), k(false, 2, 1), false],
  ];
  for (const [name, incoming, existing, expected] of table) test(name, () => assert.equal(backupKeyReplaces(incoming, existing), expected));
});

describe('deviceKeysProblem', () => {
  const user = { userId: '@a:x', deviceId: 'DEV', accessToken: '' };
  const d = testDevice(user);
  test('a correctly self-signed device is fine', () => assert.equal(deviceKeysProblem(d.deviceKeys, user.userId, user.deviceId), null));
  test('unsigned data is not covered by the signature', () =>
    assert.equal(deviceKeysProblem({ ...d.deviceKeys, unsigned: { x: 1 } }, user.userId, user.deviceId), null));
  const cases: Array<[string, unknown, string]> = [
    ['not an object', [], 'bad_json'],
    ['algorithms not strings', { ...d.deviceKeys, algorithms: [1] }, 'bad_json'],
    ['no signatures', { ...d.deviceKeys, signatures: undefined }, 'bad_json'],
    ['another user', { ...d.deviceKeys, user_id: '@b:x' }, 'invalid_param'],
    ['another device', { ...d.deviceKeys, device_id: 'OTHER' }, 'invalid_param'],
    ['no ed25519 key for the device', { ...d.deviceKeys, keys: {} }, 'invalid_param'],
    ['an ed25519 key that is not 32 bytes', { ...d.deviceKeys, keys: { 'ed25519:DEV': 'abcd' } }, 'invalid_param'],
    ['signed by a different key', signAs({ ...d.deviceKeys, signatures: undefined }, user.userId, user.deviceId, ed25519()), 'invalid_param'],
  ];
  for (const [name, keys, kind] of cases) test(`${name}: ${kind}`, () => assert.equal(deviceKeysProblem(keys, user.userId, user.deviceId)?.kind, kind));
});

describe('oneTimeKeysProblem and crossSigningKeyProblem', () => {
  test('one-time keys: strings and signed objects are fine; other shapes are not', () => {
    assert.equal(oneTimeKeysProblem({ 'curve25519:A': 'abc', 'signed_curve25519:B': { key: 'k', signatures: {} } }, 'one_time_keys'), null);
    assert.equal(oneTimeKeysProblem({ 'signed_curve25519:B': { key: 'k' } }, 'one_time_keys')?.kind, 'bad_json');
    assert.equal(oneTimeKeysProblem({ ':B': 'k' }, 'one_time_keys')?.kind, 'bad_json');
  });
  test('a cross-signing key holds exactly one ed25519:<public key> naming itself', () => {
    const key = ed25519();
    assert.deepEqual(crossSigningKeyProblem(crossSigningKey('@a:x', 'master', key), '@a:x', 'master'), { publicKey: key.publicKey });
    const misnamed = { ...crossSigningKey('@a:x', 'master', key), keys: { 'ed25519:other': key.publicKey } };
    assert.equal((crossSigningKeyProblem(misnamed, '@a:x', 'master') as { kind: string }).kind, 'invalid_param');
    assert.equal((crossSigningKeyProblem(crossSigningKey('@a:x', 'master', key), '@a:x', 'self_signing') as { kind: string }).kind, 'invalid_param');
  });
});
