import type { Context, Next } from 'koa';
import { MatrixError } from './matrix-error.ts';

interface Bucket {
  tokens: number;
  updatedMs: number;
}

/**
 * Token bucket per client (the access token's user when present, else the remote address).
 * Answers M_LIMIT_EXCEEDED with retry_after_ms, as client-server-api "Rate limiting" says.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perSecond: number;
  private readonly burst: number;
  private readonly now: () => number;

  constructor(perSecond: number, burst: number, now: () => number = Date.now) {
    this.perSecond = perSecond;
    this.burst = burst;
    this.now = now;
  }

  /** Takes one token, or returns how many ms until one is available. */
  take(key: string): number {
    const now = this.now();
    let b = this.buckets.get(key);
    if (!b) {
      b = { tokens: this.burst, updatedMs: now };
      this.buckets.set(key, b);
      if (this.buckets.size > 10_000) this.evictFull(now);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.updatedMs) / 1000) * this.perSecond);
    b.updatedMs = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - b.tokens) / this.perSecond) * 1000);
  }

  private evictFull(now: number): void {
    for (const [k, b] of this.buckets) {
      if (b.tokens + ((now - b.updatedMs) / 1000) * this.perSecond >= this.burst) this.buckets.delete(k);
    }
  }
}

export function rateLimit(limiter: RateLimiter) {
  return async function limit(ctx: Context, next: Next): Promise<void> {
    // Only writes are limited: reads and long-polls are cheap and a client must always be able to sync.
    if (ctx.method === 'POST' || ctx.method === 'PUT' || ctx.method === 'DELETE') {
      const key = ctx.get('authorization') || String(ctx.query.access_token ?? '') || ctx.ip;
      const wait = limiter.take(key);
      if (wait > 0) throw new MatrixError(429, 'M_LIMIT_EXCEEDED', 'Too many requests', { retry_after_ms: wait });
    }
    await next();
  };
}
