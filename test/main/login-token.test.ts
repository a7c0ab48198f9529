import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MAX_AGE_MS, LoginTokenHandoff, SIGN_IN_AGAIN_INTERVAL_MS, type LoginToken } from '../../main/login-token.ts';

/** A minting function that numbers its tokens, and a clock the test moves by hand. */
function setup(maxAgeMs?: number) {
  let minted = 0;
  let time = 1_000_000;
  const handoff = new LoginTokenHandoff({
    mint: async (): Promise<LoginToken> => ({ userId: '@me:localhost', token: `t${++minted}` }),
    now: () => time,
    ...(maxAgeMs === undefined ? {} : { maxAgeMs }),
  });
  return {
    handoff,
    minted: () => minted,
    advance: (ms: number) => (time += ms),
  };
}

describe('LoginTokenHandoff', () => {
  test('the first take() gets the prepared token; the second gets null', async () => {
    const { handoff, minted } = setup();
    assert.deepEqual(await handoff.prepare(), { userId: '@me:localhost', token: 't1' });
    assert.equal(handoff.handedOut, false);
    assert.deepEqual(await handoff.take(), { userId: '@me:localhost', token: 't1' });
    assert.equal(await handoff.take(), null);
    assert.equal(await handoff.take(), null);
    assert.equal(handoff.handedOut, true);
    assert.equal(minted(), 1, 'no extra token was minted');
  });

  test('two concurrent take() calls: exactly one gets the token', async () => {
    const { handoff } = setup();
    await handoff.prepare();
    const results = await Promise.all([handoff.take(), handoff.take(), handoff.take()]);
    assert.equal(results.filter((r) => r !== null).length, 1);
  });

  test('a take() while the token is still being minted waits for it', async () => {
    const { handoff, minted } = setup();
    const prepared = handoff.prepare();
    const taken = handoff.take();
    assert.deepEqual(await taken, await prepared);
    assert.equal(minted(), 1);
  });

  test('a token older than maxAgeMs is not handed out; a fresh one is minted instead', async () => {
    const { handoff, advance, minted } = setup(30_000);
    await handoff.prepare();
    advance(30_000);
    assert.deepEqual(await handoff.take(), { userId: '@me:localhost', token: 't2' });
    assert.equal(minted(), 2);
    assert.equal(await handoff.take(), null, 'still only one handoff');
  });

  test('a token just younger than maxAgeMs is handed out as is', async () => {
    const { handoff, advance } = setup(30_000);
    await handoff.prepare();
    advance(29_999);
    assert.equal((await handoff.take())?.token, 't1');
  });

  test('the default maximum age stays below the homeserver login token lifetime (2 minutes)', () => {
    assert.ok(DEFAULT_MAX_AGE_MS < 2 * 60_000);
  });

  test('take() without prepare() mints on demand', async () => {
    const { handoff } = setup();
    assert.equal((await handoff.take())?.token, 't1');
    assert.equal(await handoff.take(), null);
  });

  test('a failed prepare() rejects, and a later take() tries minting again', async () => {
    let calls = 0;
    const handoff = new LoginTokenHandoff({
      mint: async () => {
        if (++calls === 1) throw new Error('database busy');
        return { userId: '@me:localhost', token: 'second' };
      },
    });
    await assert.rejects(handoff.prepare(), /database busy/);
    assert.equal((await handoff.take())?.token, 'second');
  });

  test('a take() whose minting fails rejects, and does not hand out anything later', async () => {
    const handoff = new LoginTokenHandoff({ mint: async () => Promise.reject(new Error('stopped')) });
    await assert.rejects(handoff.take(), /stopped/);
    assert.equal(await handoff.take(), null);
  });

  test('signInAgain() mints a fresh token after the first was handed out, at most one per interval', async () => {
    const { handoff, minted, advance } = setup();
    await handoff.prepare();
    await handoff.take();
    assert.deepEqual(await handoff.signInAgain(), { userId: '@me:localhost', token: 't2' });
    assert.equal(await handoff.signInAgain(), null, 'asked again at once');
    advance(SIGN_IN_AGAIN_INTERVAL_MS - 1);
    assert.equal(await handoff.signInAgain(), null);
    advance(1);
    assert.deepEqual(await handoff.signInAgain(), { userId: '@me:localhost', token: 't3' });
    assert.equal(minted(), 3);
    assert.equal(await handoff.take(), null, 'the one-time token stays taken');
  });

  test('two concurrent signInAgain() calls: exactly one mints', async () => {
    const { handoff, minted } = setup();
    const results = await Promise.all([handoff.signInAgain(), handoff.signInAgain()]);
    assert.equal(results.filter((r) => r !== null).length, 1);
    assert.equal(minted(), 1);
  });
});
