// The transaction ids of this process's recent sends (client-server-api "Transaction
// identifiers": a request repeated with the same id, from the same device to the same endpoint, is
// answered with the first one's event), so that a send needs no query to learn its id is new.
// Sends from before a restart are not here: for those the events table's unique index on (user,
// device, txn id, endpoint) refuses the second insert, and the handler answers with the event the
// first one stored.
import { Lru } from './lru.ts';
import type { ClientTxn } from '../storage/events-store.ts';

const MAX_KEPT = 10_000;

export class RecentTransactions {
  /** By (user, device, txn id, endpoint): the event id once sent, or the send still under way. */
  private readonly sends = new Lru<string, string | Promise<string>>(MAX_KEPT);

  /** The event id of an earlier send with this id, or the promise of one under way. */
  get(t: ClientTxn): string | Promise<string> | undefined {
    return this.sends.get(keyOf(t));
  }

  /** Follows a send: repeats wait for it; once it succeeded they get its event id; if it failed, the id is free again. */
  track(t: ClientTxn, send: Promise<string>): void {
    const key = keyOf(t);
    this.sends.set(key, send);
    send.then(
      (eventId) => {
        if (this.sends.get(key) === send) this.sends.set(key, eventId);
      },
      () => {
        if (this.sends.get(key) === send) this.sends.delete(key);
      },
    );
  }
}

function keyOf(t: ClientTxn): string {
  return `${t.userId}\u0000${t.deviceId}\u0000${t.txnId}\u0000${t.scope}`;
}
