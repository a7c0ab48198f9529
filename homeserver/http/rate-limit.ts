import type { Context, Next } from 'koa';
import { MatrixError } from './matrix-error.ts';
import { accessTokenOf, type Authenticate } from './auth.ts';
import { clientAddress } from './client-address.ts';

interface Bucket {
  tokens: number;
  updatedMs: number;
}

/**
 * Clients remembered at once. A bucket with its key is ~300 bytes (measured: 5.5 MB for 20,000
 * IPv6 keys), so this caps the map whatever an attacker sends; forgetting a client only hands it
 * a full bucket again. The old sweep kept 10,000 but rescanned them all on every new key past
 * that: 30,000 new keys took 7 s of CPU, against 3 s for a million now.
 */
export const MAX_BUCKETS = 20_000;

/**
 * Token bucket per key. Answers M_LIMIT_EXCEEDED with retry_after_ms, as client-server-api
 * "Rate limiting" says.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perSecond: number;
  private readonly burst: number;
  private readonly now: () => number;
  private readonly maxBuckets: number;

  constructor(perSecond: number, burst: number, now: () => number = Date.now, maxBuckets = MAX_BUCKETS) {
    this.perSecond = perSecond;
    this.burst = burst;
    this.now = now;
    this.maxBuckets = maxBuckets;
  }

  /** Takes one token, or returns how many ms until one is available. */
  take(key: string): number {
    const b = this.refill(key);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return this.waitFor(b);
  }

  /** How many ms until `key` could take a token, without taking it (0: it could now). */
  wait(key: string): number {
    const b = this.buckets.get(key);
    if (!b) return 0;
    return this.waitFor(this.refill(key));
  }

  /** Clients currently remembered. */
  get size(): number {
    return this.buckets.size;
  }

  private waitFor(b: Bucket): number {
    return b.tokens >= 1 ? 0 : Math.ceil(((1 - b.tokens) / this.perSecond) * 1000);
  }

  private refill(key: string): Bucket {
    const now = this.now();
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxBuckets) this.evict(now);
      b = { tokens: this.burst, updatedMs: now };
    } else {
      // Re-inserted so that the map's order is least recently used first.
      this.buckets.delete(key);
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.updatedMs) / 1000) * this.perSecond);
      b.updatedMs = now;
    }
    this.buckets.set(key, b);
    return b;
  }

  /**
   * Drops every bucket that has refilled (it holds nothing a new one would not), then, if that
   * freed less than a tenth of the map, the least recently used ones: a sweep frees room for
   * many inserts, so its cost stays constant per request however many keys arrive.
   */
  private evict(now: number): void {
    for (const [k, b] of this.buckets) {
      if (b.tokens + ((now - b.updatedMs) / 1000) * this.perSecond >= this.burst) this.buckets.delete(k);
    }
    const target = Math.floor(this.maxBuckets * 0.9);
    for (const k of this.buckets.keys()) {
      if (this.buckets.size <= target) break;
      this.buckets.delete(k);
    }
  }
}

/** How the limiter tells who sent a token: the cache alone first, the database only when worth it. */
export interface TokenLookup {
  cached(token: string): { userId: string } | undefined;
  authenticate: Authenticate;
}

/**
 * Whom a request is counted against: the user of a valid access token, else the client's
 * address. A junk or revoked token counts against the address, so a new token per request does
 * not buy a new bucket.
 */
export async function rateLimitKey(ctx: Context, tokens: TokenLookup, limiter: RateLimiter): Promise<string> {
  const address = `address ${clientAddress(ctx.ip)}`;
  let token: string | undefined;
  try {
    token = accessTokenOf(ctx);
  } catch {
    // A malformed Authorization header is refused later by requireAuth; it is still this address.
  }
  if (token === undefined) return address;
  // Valid tokens are cached by authenticate, so a logged-in client costs a map lookup here.
  const known = tokens.cached(token);
  if (known) return `user ${known.userId}`;
  // While its address is refused, an unknown token is not worth a database query: a flood of
  // junk tokens would cost one each. A real client's token is cached again by its next read
  // (/sync), which is not limited, so it is not held here for long.
  if (limiter.wait(address) > 0) return address;
  const who = await tokens.authenticate(token);
  return who ? `user ${who.userId}` : address;
}

export function rateLimit(limiter: RateLimiter, tokens: TokenLookup) {
  return async function limit(ctx: Context, next: Next): Promise<void> {
    // Only writes are limited: reads and long-polls are cheap and a client must always be able to sync.
    if (ctx.method === 'POST' || ctx.method === 'PUT' || ctx.method === 'DELETE') {
      const wait = limiter.take(await rateLimitKey(ctx, tokens, limiter));
      if (wait > 0) throw new MatrixError(429, 'M_LIMIT_EXCEEDED', 'Too many requests', { retry_after_ms: wait });
    }
    await next();
  };
}
