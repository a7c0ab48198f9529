// Polling for tests that wait on something asynchronous: another server, the crypto API, a client.
// Kept free of matrix-js-sdk so that tests driving plain HTTP can use it without loading the SDK.

/** Calls `check` until it returns a truthy value, which it returns; throws after `timeoutMs`. */
export async function waitForAsync<T>(what: string, check: () => Promise<T | undefined | null | false>, timeoutMs = 20_000, intervalMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
