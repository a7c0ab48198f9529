// What a failed PUT /send means for the transaction: try the same one again later, or give it up.
import { FederationRequestError } from '../client.ts';

export type FailureVerdict =
  /** The destination answered 2xx but not with a JSON object: it has the transaction. */
  | { kind: 'delivered' }
  /** Refused for good (a 4xx for the whole transaction, or our own ACL): drop it, the server is up. */
  | { kind: 'drop'; reason: string }
  /** Unreachable, timed out, 5xx, rate limited: the same transaction is sent again after a backoff. */
  | { kind: 'retry'; reason: string; retryAfterMs: number };

export function classifyFailure(err: unknown): FailureVerdict {
  if (!(err instanceof FederationRequestError)) return { kind: 'retry', reason: err instanceof Error ? err.message : String(err), retryAfterMs: 0 };
  if (err.kind === 'bad-response') return { kind: 'delivered' };
  if (err.kind === 'forbidden') return { kind: 'drop', reason: err.message };
  if (err.kind === 'response') {
    const s = err.status;
    // 429 asks us to come back later; 408 is the server giving up on a slow request of ours.
    if (s === 429 || s === 408) {
      const after = (err.body as { retry_after_ms?: unknown } | undefined)?.retry_after_ms;
      return { kind: 'retry', reason: `${s} ${err.errcode}`, retryAfterMs: typeof after === 'number' && after > 0 ? Math.min(after, 3_600_000) : 0 };
    }
    if (s >= 400 && s < 500) return { kind: 'drop', reason: `${s} ${err.errcode}: ${err.message}` };
  }
  return { kind: 'retry', reason: `${err.kind}: ${err.message}`, retryAfterMs: 0 };
}
