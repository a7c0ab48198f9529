// The one-time handoff of an m.login.token from the main process to the window.
//
// Main mints the token before the window exists (so the page can sign in as soon as it loads) and
// gives it out once: the first getLoginToken() from the page gets it, every later call gets null.
// A token that has been lying around too long is not handed out stale; a fresh one is minted.
// After the user signed out, the sign-in screen may ask for another (signInAgain()): one at a
// time and at most one every few seconds, so that a page stuck in a loop cannot mint a stream.

export interface LoginToken {
  userId: string;
  token: string;
}

export interface LoginTokenHandoffOptions {
  /** Mints a token on the homeserver (Homeserver.loginTokenFor for the local account). */
  mint: () => Promise<LoginToken>;
  /**
   * How long a minted token is handed out before a fresh one is minted instead. Shorter than the
   * homeserver's own lifetime for login tokens (2 minutes) so that the page never receives a token
   * that expires before it can use it.
   */
  maxAgeMs?: number;
  now?: () => number;
}

export const DEFAULT_MAX_AGE_MS = 60_000;

/** signInAgain() mints at most one token per this many milliseconds. */
export const SIGN_IN_AGAIN_INTERVAL_MS = 3_000;

export class LoginTokenHandoff {
  readonly #mint: () => Promise<LoginToken>;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  #prepared: Promise<{ token: LoginToken; mintedAt: number }> | undefined;
  #handedOut = false;
  #lastAgainAt = -Infinity;
  #minting = false;

  constructor(options: LoginTokenHandoffOptions) {
    this.#mint = options.mint;
    this.#maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    this.#now = options.now ?? Date.now;
  }

  /** Mints the token ahead of time; rejects if minting fails (startup treats that as fatal). */
  async prepare(): Promise<LoginToken> {
    this.#prepared = this.#mintNow();
    return (await this.#prepared).token;
  }

  /** The token the first time; null afterwards. Marked as taken before any await, so two concurrent calls cannot both get it. */
  async take(): Promise<LoginToken | null> {
    if (this.#handedOut) return null;
    this.#handedOut = true;
    const prepared = await this.#prepared?.catch(() => undefined);
    if (prepared !== undefined && this.#now() - prepared.mintedAt < this.#maxAgeMs) return prepared.token;
    return (await this.#mintNow()).token;
  }

  /**
   * A fresh token for signing in again, which the page asks for only when the user chooses to
   * (after signing out): null while another is being minted or within SIGN_IN_AGAIN_INTERVAL_MS
   * of the last one.
   */
  async signInAgain(): Promise<LoginToken | null> {
    const now = this.#now();
    if (this.#minting || now - this.#lastAgainAt < SIGN_IN_AGAIN_INTERVAL_MS) return null;
    this.#minting = true;
    this.#lastAgainAt = now;
    try {
      return (await this.#mintNow()).token;
    } finally {
      this.#minting = false;
    }
  }

  get handedOut(): boolean {
    return this.#handedOut;
  }

  async #mintNow(): Promise<{ token: LoginToken; mintedAt: number }> {
    // Counted from before the request, as the homeserver starts its clock while we wait.
    const mintedAt = this.#now();
    return { token: await this.#mint(), mintedAt };
  }
}
