// Table: openid_tokens (migration 023). Tokens are stored as their SHA-256 hash (users/tokens.ts
// hashToken), each with the time it expires.
import type { Queryable } from './sqlite.ts';

export const openIdStore = {
  async insert(q: Queryable, tokenHash: string, userId: string, expiresTs: number): Promise<void> {
    await q.run('INSERT INTO openid_tokens (token_hash, user_id, expires_ts) VALUES (?, ?, ?)', tokenHash, userId, expiresTs);
  },
  /** The owner of an unexpired token. */
  async owner(q: Queryable, tokenHash: string, now: number): Promise<string | undefined> {
    const row = await q.get<{ user_id: string }>('SELECT user_id FROM openid_tokens WHERE token_hash = ? AND expires_ts > ?', tokenHash, now);
    return row?.user_id;
  },
  /** Drops the user's expired tokens, then all but their newest `keep - 1`, making room for one more. */
  async prune(q: Queryable, userId: string, now: number, keep: number): Promise<void> {
    await q.run('DELETE FROM openid_tokens WHERE user_id = ? AND expires_ts <= ?', userId, now);
    await q.run(
      `DELETE FROM openid_tokens WHERE user_id = ? AND token_hash NOT IN
         (SELECT token_hash FROM openid_tokens WHERE user_id = ? ORDER BY expires_ts DESC LIMIT ?)`,
      userId,
      userId,
      Math.max(0, keep - 1),
    );
  },
};
