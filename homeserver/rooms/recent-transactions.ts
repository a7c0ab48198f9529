// The transaction ids of this process's recent sends (client-server-api "Transaction
// identifiers": a request repeated with the same id is answered with the first one's event), so
// that a send needs no query to learn its id is new. Sends from before a restart are not here:
// for those the events table's unique index on (user, device, txn) refuses the second insert,
// and the handler answers with the event the first one stored.
import { Lru } from './lru.ts';

const MAX_KEPT = 10_000;

export class RecentTransactions {
  /** By (user, device, txn): the event id once sent, or the send still under way. */
  private readonly sends = new Lru<string, string | Promise<string>>(MAX_KEPT);

  /** The event id of an earlier send with this id, or the promise of one under way. */
  get(userId: string, deviceId: string, txnId: string): string | Promise<string> | undefined {
    return this.sends.get(keyOf(userId, deviceId, txnId));
  }

  /** Follows a send: repeats wait for it; once it succeeded they get its event id; if it failed, the id is free again. */
  track(userId: string, deviceId: string, txnId: string, send: Promise<string>): void {
    const key = keyOf(userId, deviceId, txnId);
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

function keyOf(userId: string, deviceId: string, txnId: string): string {
  return `${userId}\u0000${deviceId}\u0000${txnId}`;
}
