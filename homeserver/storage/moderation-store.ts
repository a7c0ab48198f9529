// The admin flag and the reversible account moderation flags on `users` (migration 020).
import type { Queryable } from './sqlite.ts';

export interface ModerationRow {
  admin: number;
  suspended: number;
  locked: number;
  deactivated: number;
}

export type ModerationFlag = 'admin' | 'suspended' | 'locked';

export const moderationStore = {
  get(q: Queryable, userId: string) {
    return q.get<ModerationRow>('SELECT admin, suspended, locked, deactivated FROM users WHERE user_id = ?', userId);
  },
  /** Sets one flag; false when there is no such account. */
  async set(q: Queryable, userId: string, flag: ModerationFlag, on: boolean): Promise<boolean> {
    const column = flag === 'admin' ? 'admin' : flag === 'suspended' ? 'suspended' : 'locked';
    return (await q.run(`UPDATE users SET ${column} = ? WHERE user_id = ?`, on ? 1 : 0, userId)).changes > 0;
  },
  /** Accounts with any flag set: what a server starts its cache of suspended and locked accounts from. */
  listFlagged(q: Queryable) {
    return q.all<{ user_id: string } & ModerationRow>(
      'SELECT user_id, admin, suspended, locked, deactivated FROM users WHERE admin = 1 OR suspended = 1 OR locked = 1 ORDER BY user_id',
    );
  },
};
