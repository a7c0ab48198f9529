// Table: profile_fields (migration 020): extended profile fields other than displayname and
// avatar_url, which stay columns of `users`.
import type { Queryable } from './sqlite.ts';

export const profileFieldsStore = {
  list(q: Queryable, userId: string) {
    return q.all<{ key_name: string; value_json: string }>('SELECT key_name, value_json FROM profile_fields WHERE user_id = ? ORDER BY key_name', userId);
  },
  async put(q: Queryable, userId: string, key: string, valueJson: string): Promise<void> {
    await q.run(
      'INSERT INTO profile_fields (user_id, key_name, value_json) VALUES (?, ?, ?) ON CONFLICT (user_id, key_name) DO UPDATE SET value_json = excluded.value_json',
      userId,
      key,
      valueJson,
    );
  },
  async delete(q: Queryable, userId: string, key: string): Promise<void> {
    await q.run('DELETE FROM profile_fields WHERE user_id = ? AND key_name = ?', userId, key);
  },
};
