// Device verification by emoji in the web client, against a real `hearth serve`: Alice's second
// session and her first verify each other. The tests run in order and build on each other.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { waitForDeviceKeys } from './crypto-helpers.ts';
import { assertAccessible, registerInUi, screenshot, sessionOf, signInInUi, useHearth, type Window } from './helpers.ts';

let alice: Window;

describe('verifying a session by emoji', () => {
  const { hearth, open, problems } = useHearth();

  test('Alice is signed in, her crypto up', async () => {
    alice = await open();
    await registerInUi(alice.page, 'alice');
    await waitForDeviceKeys(hearth(), await sessionOf(alice.page), '@alice:localhost');
  });

  test('two sessions of Alice verify each other by emoji: both show the same seven emoji, then "Verified"', async () => {
    const second = await open('dark');
    await signInInUi(second.page, 'alice');
    await second.page.getByRole('heading', { name: 'Rooms', exact: true }).waitFor();
    await waitForDeviceKeys(hearth(), await sessionOf(alice.page), '@alice:localhost', 2);
    const secondDevice = JSON.parse((await second.page.evaluate(() => localStorage.getItem('hearth.session')))!).deviceId as string;

    await alice.page.getByRole('button', { name: 'Encryption' }).click();
    const menu = alice.page.getByRole('dialog', { name: 'Encryption' });
    await menu.getByText(secondDevice).first().waitFor();
    await assertAccessible(alice.page, 'encryption dialog');
    await screenshot(alice.page, 'crypto-encryption-light');
    await menu.getByRole('button', { name: new RegExp(`Verify .*${secondDevice}`) }).click();
    const asking = alice.page.getByRole('dialog', { name: 'Verify session' });
    await asking.getByText(/Waiting for .* to accept/).waitFor();

    // The request waits as a notice, not a modal over what the user is doing: no dialog opens,
    // the page stays usable, and the user opens it when they choose.
    const notice = second.page.getByRole('region', { name: 'Verification request' });
    await notice.getByText('Another of your sessions wants to verify this session.').waitFor();
    assert.equal(await second.page.getByRole('dialog').count(), 0, 'no dialog opened by itself');
    await second.page.getByRole('button', { name: 'Settings' }).click();
    await second.page.getByRole('dialog', { name: 'Settings' }).getByRole('button', { name: 'Close' }).click();
    await notice.waitFor();
    await assertAccessible(second.page, 'verification request notice');
    await screenshot(second.page, 'crypto-verify-notice-dark');
    await notice.getByRole('button', { name: 'Verify' }).click();
    const asked = second.page.getByRole('dialog', { name: 'Verify session' });
    await asked.getByText(/wants to verify this session/).waitFor();
    await assertAccessible(second.page, 'verification request dialog');
    await screenshot(second.page, 'crypto-verify-request-dark');
    await asked.getByRole('button', { name: 'Accept' }).click();

    const emojiOf = async (page: typeof alice.page) => {
      const list = page.getByRole('list', { name: 'Emoji to compare' });
      await list.getByRole('listitem').nth(6).waitFor();
      return (await list.getByRole('listitem').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
    };
    const mine = await emojiOf(alice.page);
    const theirs = await emojiOf(second.page);
    assert.equal(mine.length, 7, `seven emoji: ${mine.join(' | ')}`);
    assert.deepEqual(theirs, mine, 'both sessions show the same emoji, in the same order');
    await assertAccessible(alice.page, 'verification emoji dialog');
    await screenshot(alice.page, 'crypto-verify-emoji-light');
    await screenshot(second.page, 'crypto-verify-emoji-dark');
    await second.page.setViewportSize({ width: 390, height: 844 });
    await screenshot(second.page, 'crypto-verify-emoji-390');
    await asking.getByRole('button', { name: 'They match' }).click();
    await asked.getByRole('button', { name: 'They match' }).click();
    await asking.getByText(/^Verified/).waitFor();
    await asked.getByText(/^Verified/).waitFor();
    await asking.getByRole('button', { name: 'Done' }).click();
    await asked.getByRole('button', { name: 'Done' }).click();

    await alice.page.getByRole('button', { name: 'Encryption' }).click();
    const again = alice.page.getByRole('dialog', { name: 'Encryption' });
    await again.getByRole('listitem').filter({ hasText: secondDevice }).getByText('Verified', { exact: true }).waitFor();
    await again.getByRole('button', { name: 'Close' }).click();

    // The dialog on the other side, dark and narrow: its first session listed as verified too.
    await second.page.getByRole('button', { name: 'Encryption' }).click();
    const theirMenu = second.page.getByRole('dialog', { name: 'Encryption' });
    await theirMenu.getByText('Verified', { exact: true }).waitFor();
    await assertAccessible(second.page, 'encryption dialog (dark, 390 px)');
    await screenshot(second.page, 'crypto-encryption-390');
    await second.page.setViewportSize({ width: 1280, height: 800 });
    await screenshot(second.page, 'crypto-encryption-dark');
    await second.context.close();
  });

  test('no Content-Security-Policy violation or uncaught error in any window', () => {
    assert.deepEqual(problems(), []);
  });
});
