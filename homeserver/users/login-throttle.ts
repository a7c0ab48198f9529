// Password guessing, refused per account and per client address (Synapse's rc_login
// .failed_attempts and rc_login.address). Every place that checks a password goes through here:
// /login, the m.login.password UIA stage and its fallback page; registration tokens count
// against the address too.
import { MatrixError } from '../http/matrix-error.ts';
import { FailureBackoff, LOGIN_BACKOFF } from './failure-backoff.ts';
import { DEFAULT_RATE_LIMITS } from '../config/types.ts';

export interface LoginLimits {
  /** Wrong passwords for one account before each further attempt must wait. */
  failuresPerAccount: number;
  /** Wrong passwords from one address (any accounts) before each further attempt must wait. */
  failuresPerAddress: number;
}

/** Why these values: config/types.ts, DEFAULT_RATE_LIMITS. */
export const DEFAULT_LOGIN_LIMITS: LoginLimits = {
  failuresPerAccount: DEFAULT_RATE_LIMITS.failedLoginsPerAccount,
  failuresPerAddress: DEFAULT_RATE_LIMITS.failedLoginsPerAddress,
};

export class LoginThrottle {
  private readonly accounts: FailureBackoff;
  private readonly addresses: FailureBackoff;

  constructor(limits: LoginLimits = DEFAULT_LOGIN_LIMITS, now: () => number = Date.now) {
    this.accounts = new FailureBackoff({ ...LOGIN_BACKOFF, freeFailures: limits.failuresPerAccount }, now);
    this.addresses = new FailureBackoff({ ...LOGIN_BACKOFF, freeFailures: limits.failuresPerAddress }, now);
  }

  /**
   * Throws 429 M_LIMIT_EXCEEDED with retry_after_ms (client-server-api "Rate limiting") while
   * either must wait. Checked before the password is, so the right password is refused too
   * until the wait is over; otherwise guessing would go on and only the answer would be hidden.
   */
  check(userId: string, address: string): void {
    const wait = Math.max(this.accounts.waitMs(userId), this.addresses.waitMs(address));
    if (wait > 0) throw new MatrixError(429, 'M_LIMIT_EXCEEDED', 'Too many failed attempts; try again later', { retry_after_ms: wait });
  }

  /** For a guessable secret that is not an account's (a registration token): only the address counts. */
  checkAddress(address: string): void {
    const wait = this.addresses.waitMs(address);
    if (wait > 0) throw new MatrixError(429, 'M_LIMIT_EXCEEDED', 'Too many failed attempts; try again later', { retry_after_ms: wait });
  }

  failedAddress(address: string): void {
    this.addresses.failed(address);
  }

  failed(userId: string, address: string): void {
    this.accounts.failed(userId);
    this.addresses.failed(address);
  }

  /**
   * The account starts again from nothing. The address does not: else one account the guesser
   * owns, logged into now and then, would reset the address's count.
   */
  succeeded(userId: string): void {
    this.accounts.succeeded(userId);
  }
}
