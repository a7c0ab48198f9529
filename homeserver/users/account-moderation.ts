// Who is a server admin, and which accounts an admin suspended or locked (client-server-api,
// "Account moderation"). Suspension and locking are read on every authenticated request, so they
// are kept in memory, loaded once from the database and changed only through this class. The
// admin flag is read from the database each time: `hearth admin grant` may set it beside a
// running server, and the admin endpoints it opens are rare.
import type { Database } from '../storage/database.ts';
import { moderationStore } from '../storage/moderation-store.ts';

export interface ModerationState {
  suspended: boolean;
  locked: boolean;
}

const NONE: ModerationState = Object.freeze({ suspended: false, locked: false });

export class AccountModeration {
  private readonly db: Database;
  private loaded: Promise<Map<string, ModerationState>> | undefined;

  constructor(db: Database) {
    this.db = db;
  }

  private flagged(): Promise<Map<string, ModerationState>> {
    this.loaded ??= moderationStore.listFlagged(this.db.reader).then((rows) => {
      const map = new Map<string, ModerationState>();
      for (const r of rows) if (r.suspended || r.locked) map.set(r.user_id, { suspended: r.suspended === 1, locked: r.locked === 1 });
      return map;
    });
    return this.loaded;
  }

  async stateOf(userId: string): Promise<ModerationState> {
    return (await this.flagged()).get(userId) ?? NONE;
  }

  async isAdmin(userId: string): Promise<boolean> {
    return (await moderationStore.get(this.db.reader, userId))?.admin === 1;
  }

  /** Sets suspension or locking; false when there is no such account. */
  async set(userId: string, flag: 'suspended' | 'locked', on: boolean): Promise<boolean> {
    const map = await this.flagged();
    const found = await this.db.write((tx) => moderationStore.set(tx, userId, flag, on));
    if (!found) return false;
    const next = { ...(map.get(userId) ?? NONE), [flag]: on };
    if (next.suspended || next.locked) map.set(userId, next);
    else map.delete(userId);
    return true;
  }
}
