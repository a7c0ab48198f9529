// How many cases each fuzz property runs: a short run in `npm test` (a few seconds a property),
// HEARTH_FUZZ_RUNS of them under `npm run test:long` (100,000 each), or whatever it is set to.

/** The cases of one property: HEARTH_FUZZ_RUNS when set, else `short`. */
export function fuzzRuns(short: number): number {
  const env = process.env.HEARTH_FUZZ_RUNS;
  if (env === undefined || env === '') return short;
  const n = Number(env);
  if (!Number.isInteger(n) || n < 1) throw new Error(`HEARTH_FUZZ_RUNS must be a positive integer, not ${env}`);
  return n;
}

/** Whether this is the long run: tests then allow themselves a longer timeout. */
export const longRun = process.env.HEARTH_FUZZ_RUNS !== undefined && process.env.HEARTH_FUZZ_RUNS !== '';

/**
 * A fixed seed for the short run, so that `npm test` is the same run each time (a failure there is
 * reproducible by its seed); the long run explores new cases each time and prints its seed on failure.
 */
export function fuzzSeed(): number | undefined {
  const env = process.env.HEARTH_FUZZ_SEED;
  if (env !== undefined && env !== '') return Number(env);
  return longRun ? undefined : 13;
}
