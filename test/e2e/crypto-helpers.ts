// Waits shared by the encryption browser tests: the crypto works in the background.
import assert from 'node:assert/strict';
import { api, type ApiUser, type Hearth } from './helpers.ts';

/** Asks `check` again every `everyMs` until it holds; gives up (failing) after `tries`, so a broken client ends the test. */
export async function until(what: string, check: () => Promise<boolean>, tries = 300, everyMs = 100): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  assert.fail(`never happened: ${what}`);
}

/** Waits until the server lists a device key for each of the user's sessions (its crypto is up). */
export async function waitForDeviceKeys(hearth: Hearth, asUser: ApiUser, userId: string, count = 1): Promise<void> {
  await until(`${count} device key(s) of ${userId} on the server`, async () => {
    const res = await api(hearth, asUser, 'POST', '/keys/query', { device_keys: { [userId]: [] } });
    return Object.keys(res.device_keys?.[userId] ?? {}).length >= count;
  });
}
