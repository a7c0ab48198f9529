// OpenID tokens (openid.yaml; server-server-api.md "OpenID"): a user asks for one to prove who
// they are to a third party (a widget, an integration manager), which hands it to
// /_matrix/federation/v1/openid/userinfo and gets back the user id. The token is good for that
// and nothing else: it lives in its own table, so it never authenticates a client request.
import type { Database } from '../storage/database.ts';
import { openIdStore } from '../storage/openid-store.ts';
import { hashToken, newToken } from './tokens.ts';

/** One hour, as Synapse's default: long enough for a widget to check it, short if it leaks. */
export const OPENID_TOKEN_LIFETIME_MS = 3_600_000;
/**
 * Unexpired tokens one user may hold; asking for more drops the oldest. A client asks for one per
 * widget it opens, so 10 in an hour is plenty, and a loop of requests cannot fill the table.
 */
export const MAX_OPENID_TOKENS_PER_USER = 10;

export class OpenIdTokens {
  private readonly db: Database;
  private readonly now: () => number;

  constructor(db: Database, now: () => number = Date.now) {
    this.db = db;
    this.now = now;
  }

  async issue(userId: string): Promise<{ token: string; expiresInSeconds: number }> {
    const token = newToken('oid');
    const now = this.now();
    await this.db.write(async (tx) => {
      await openIdStore.prune(tx, userId, now, MAX_OPENID_TOKENS_PER_USER);
      await openIdStore.insert(tx, hashToken(token), userId, now + OPENID_TOKEN_LIFETIME_MS);
    });
    return { token, expiresInSeconds: OPENID_TOKEN_LIFETIME_MS / 1000 };
  }

  /** The user who asked for `token`, while it has not expired. */
  owner(token: string): Promise<string | undefined> {
    return openIdStore.owner(this.db.reader, hashToken(token), this.now());
  }
}
