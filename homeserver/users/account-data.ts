// Account data (client-server-api "Client Config"): what a user's clients keep on the server, per
// user and per room, each change at a new position of the account-data stream that /sync follows.
// Every change goes through here, so that the change cache /sync consults is never missing one.
import type { Database } from '../storage/database.ts';
import { accountDataStore } from '../storage/rooms-store.ts';
import type { Notifier } from '../sync/notifier.ts';
import { StreamChangeCache } from '../sync/stream-change-cache.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { DEFAULT_GROWTH_LIMITS, type GrowthLimits } from '../config/growth-limits.ts';

export type AccountDataLimits = Pick<GrowthLimits, 'accountDataItemBytes' | 'accountDataItemsPerUser' | 'accountDataBytesPerUser'>;

export class AccountData {
  private readonly db: Database;
  private readonly notifier: Notifier;
  /** Users by the position of their latest change. */
  changes = new StreamChangeCache(0);

  private readonly limits: AccountDataLimits;

  constructor(db: Database, notifier: Notifier, limits: AccountDataLimits = DEFAULT_GROWTH_LIMITS) {
    this.db = db;
    this.notifier = notifier;
    this.limits = limits;
  }

  async init(): Promise<void> {
    this.changes = new StreamChangeCache(await accountDataStore.maxStreamId(this.db.reader));
  }

  /** The stream's position: its latest committed change. */
  get position(): number {
    return this.changes.position;
  }

  /** Stores one item (roomId '' for global account data) in its own write job. */
  async put(userId: string, roomId: string, type: string, content: unknown): Promise<void> {
    const json = JSON.stringify(content);
    const bytes = Buffer.byteLength(type) + Buffer.byteLength(json);
    // 413 M_TOO_LARGE, "The request or entity was too large" (client-server-api "Standard error
    // response"): for the item, and for the user's account data as a whole. Not M_LIMIT_EXCEEDED,
    // which tells the client to wait and retry; nor M_RESOURCE_LIMIT_EXCEEDED, which is about the
    // whole server and needs an admin_contact.
    if (bytes > this.limits.accountDataItemBytes) {
      throw new MatrixError(413, 'M_TOO_LARGE', `Account data items are limited to ${this.limits.accountDataItemBytes} bytes`);
    }
    const id = await this.db.write(async (tx) => {
      // Read in the write job, so that concurrent puts cannot each see room for one more.
      const usage = await accountDataStore.usageExcept(tx, userId, roomId, type);
      if (usage.count + 1 > this.limits.accountDataItemsPerUser) {
        throw new MatrixError(413, 'M_TOO_LARGE', `An account may keep at most ${this.limits.accountDataItemsPerUser} account data items`);
      }
      if (usage.bytes + bytes > this.limits.accountDataBytesPerUser) {
        throw new MatrixError(413, 'M_TOO_LARGE', `An account's account data is limited to ${this.limits.accountDataBytesPerUser} bytes in all`);
      }
      return accountDataStore.put(tx, userId, roomId, type, json);
    });
    this.committed(userId, id);
  }

  /** A change written inside a larger job (accountDataStore.put's id), after that job committed. */
  committed(userId: string, id: number): void {
    this.changes.record(userId, id);
    this.notifier.notifyUsers([userId]);
  }
}
