// A counter that moves whenever what the crypto knows of identities changes (a verification, a
// new session, cross-signing keys): the shields in the member list and timeline read it, so that
// they are worked out again then, and not on every chat update.
import type { MatrixClient } from 'matrix-js-sdk/lib/client.js';
import { CryptoEvent } from 'matrix-js-sdk/lib/crypto-api/CryptoEvent.js';

export const trust = $state({ version: 0 });

const TRUST_EVENTS = [CryptoEvent.UserTrustStatusChanged, CryptoEvent.DevicesUpdated, CryptoEvent.KeysChanged] as const;

/** Follows the client's trust changes; returns the function that stops. */
export function watchTrust(client: MatrixClient): () => void {
  const bump = (): void => void trust.version++;
  for (const name of TRUST_EVENTS) client.on(name as CryptoEvent.UserTrustStatusChanged, bump);
  return () => {
    for (const name of TRUST_EVENTS) client.off(name as CryptoEvent.UserTrustStatusChanged, bump);
  };
}
