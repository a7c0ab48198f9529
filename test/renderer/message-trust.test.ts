// The shield beside an encrypted message (lib/cross-signing.ts messageTrust), from what the Rust
// crypto says of the event, with a stand-in for the client's crypto API (matrix-js-sdk's shapes).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { messageTrust } from '../../renderer/src/lib/cross-signing.ts';

const RED = 2;
const UNSIGNED_DEVICE = 2;

function clientWith(opts: { shield: number; reason: number | null; senderHasCrossSigning: boolean; senderVerified?: boolean }) {
  const crypto = {
    getEncryptionInfoForEvent: async () => ({ shieldColour: opts.shield, shieldReason: opts.reason }),
    userHasCrossSigningKeys: async () => opts.senderHasCrossSigning,
    getUserVerificationStatus: async () => ({ isCrossSigningVerified: () => opts.senderVerified === true }),
  };
  return { getCrypto: () => crypto } as never;
}
const event = { getSender: () => '@carol:hs', isEncrypted: () => true, isDecryptionFailure: () => false } as never;

test('a session its owner has not signed is flagged only when the owner has a cross-signing identity (else every message of someone without backup was red)', async () => {
  assert.equal(await messageTrust(clientWith({ shield: RED, reason: UNSIGNED_DEVICE, senderHasCrossSigning: true }), event), 'unsigned-session');
  assert.equal(await messageTrust(clientWith({ shield: RED, reason: UNSIGNED_DEVICE, senderHasCrossSigning: false }), event), 'unknown');
});

test('a verified sender from a signed session gets the shield', async () => {
  assert.equal(await messageTrust(clientWith({ shield: 0, reason: null, senderHasCrossSigning: true, senderVerified: true }), event), 'verified');
  assert.equal(await messageTrust(clientWith({ shield: 0, reason: null, senderHasCrossSigning: true, senderVerified: false }), event), 'unknown');
});
