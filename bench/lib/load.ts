// Closed-loop load: N senders, each sending its next request as soon as the last one answered.
import { performance } from 'node:perf_hooks';

export interface ThroughputResult {
  senders: number;
  /** Requests answered 200 inside the measured window. */
  requests: number;
  /** Requests answered 200 in warm-up and window together: the divisor for CPU per request. */
  allRequests: number;
  /** Requests that failed (non-200 or a socket error) during warm-up or the window. */
  errors: number;
  seconds: number;
  perSecond: number;
  firstError?: string;
}

/**
 * Runs `send(sender, seq)` in `senders` sequential loops for `warmupMs` (not counted) and then
 * `durationMs` (counted: requests answered inside the window, whenever they started).
 */
export async function closedLoop(
  senders: number,
  warmupMs: number,
  durationMs: number,
  send: (sender: number, seq: number) => Promise<void>,
): Promise<ThroughputResult> {
  const t0 = performance.now();
  const windowStart = t0 + warmupMs;
  const windowEnd = windowStart + durationMs;
  let requests = 0;
  let allRequests = 0;
  let errors = 0;
  let firstError: string | undefined;

  const loop = async (sender: number): Promise<void> => {
    for (let seq = 0; ; seq++) {
      const start = performance.now();
      if (start >= windowEnd) return;
      try {
        await send(sender, seq);
        const end = performance.now();
        allRequests++;
        if (end >= windowStart && end <= windowEnd) requests++;
      } catch (err) {
        errors++;
        firstError ??= String((err as Error).message ?? err);
        // A failing server must not turn the loop into a busy spin.
        if (errors > 1000) return;
      }
    }
  };
  await Promise.all(Array.from({ length: senders }, (_, i) => loop(i)));
  const seconds = durationMs / 1000;
  const result: ThroughputResult = { senders, requests, allRequests, errors, seconds, perSecond: requests / seconds };
  if (firstError !== undefined) result.firstError = firstError;
  return result;
}
