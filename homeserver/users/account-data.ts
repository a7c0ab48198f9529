// Account data (client-server-api "Client Config"): what a user's clients keep on the server, per
// user and per room, each change at a new position of the account-data stream that /sync follows.
// Every change goes through here, so that the change cache /sync consults is never missing one.
import type { Database } from '../storage/database.ts';
import { accountDataStore } from '../storage/rooms-store.ts';
import type { Notifier } from '../sync/notifier.ts';
import { StreamChangeCache } from '../sync/stream-change-cache.ts';

export class AccountData {
  private readonly db: Database;
  private readonly notifier: Notifier;
  /** Users by the position of their latest change. */
  changes = new StreamChangeCache(0);

  constructor(db: Database, notifier: Notifier) {
    this.db = db;
    this.notifier = notifier;
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
    const id = await this.db.write((tx) => accountDataStore.put(tx, userId, roomId, type, JSON.stringify(content)));
    this.committed(userId, id);
  }

  /** A change written inside a larger job (accountDataStore.put's id), after that job committed. */
  committed(userId: string, id: number): void {
    this.changes.record(userId, id);
    this.notifier.notifyUsers([userId]);
  }
}
