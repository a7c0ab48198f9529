// Cross-signing and verifying other people in the web client, against a real `hearth serve`:
// Alice and Bob set up secure backup (which sets up cross-signing with their password), verify
// each other by emoji from the member list, and each then shows the other "Verified", with a
// shield on their messages. A new session of Alice is flagged on Bob's side until Alice verifies
// it from her first session, which cross-signs it. The tests run in order and build on each other.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { until, waitForDeviceKeys } from './crypto-helpers.ts';
import { api, assertAccessible, PASSWORD, registerInUi, screenshot, send, sessionOf, signInInUi, timeline, useHearth, type Window } from './helpers.ts';

let alice: Window;
let bob: Window;
let alice2: Window;

function members(page: Page) {
  return page.getByRole('complementary', { name: /Members/ });
}

function memberRow(page: Page, name: string) {
  return members(page)
    .getByRole('listitem')
    .filter({ has: page.getByText(name, { exact: true }) });
}

async function setUpSecureBackup(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Encryption' }).click();
  await page.getByRole('dialog', { name: 'Encryption' }).getByRole('button', { name: 'Set up secure backup' }).click();
  const setup = page.getByRole('dialog', { name: 'Set up secure backup' });
  await setup.getByLabel('Your password').fill(PASSWORD);
  await setup.getByRole('button', { name: 'Make a recovery key' }).click();
  await setup.getByLabel('Recovery key').waitFor({ timeout: 30_000 });
  await setup.getByRole('button', { name: 'I have saved it' }).click();
}

async function emojiOf(page: Page): Promise<string[]> {
  const list = page.getByRole('list', { name: 'Emoji to compare' });
  await list.getByRole('listitem').nth(6).waitFor({ timeout: 30_000 });
  return (await list.getByRole('listitem').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
}

describe('cross-signing and verifying other people', () => {
  const { hearth, open, problems } = useHearth();

  test('Alice and Bob in an encrypted DM', async () => {
    alice = await open();
    bob = await open('dark');
    await registerInUi(alice.page, 'alice');
    await registerInUi(bob.page, 'bob');
    await waitForDeviceKeys(hearth(), await sessionOf(alice.page), '@alice:localhost');
    await waitForDeviceKeys(hearth(), await sessionOf(bob.page), '@bob:localhost');
    await alice.page.getByRole('button', { name: 'Message', exact: true }).click();
    const dialog = alice.page.getByRole('dialog', { name: 'Message someone' });
    await dialog.getByLabel('User ID').fill('@bob:localhost');
    await dialog.getByRole('button', { name: 'Start chat' }).click();
    await alice.page.locator('.room-header').getByTitle('End-to-end encrypted').waitFor();
    const invites = bob.page.getByRole('region', { name: 'Invites' });
    await invites.getByRole('button', { name: 'Accept' }).click();
    await bob.page.getByRole('heading', { name: 'alice', level: 1 }).waitFor();
  });

  test('setting up secure backup sets up cross-signing too (the password answers the server), its keys in secret storage', async () => {
    await alice.page.getByRole('button', { name: 'Encryption' }).click();
    await alice.page.getByRole('dialog', { name: 'Encryption' }).getByRole('button', { name: 'Set up secure backup' }).click();
    await alice.page.getByRole('dialog', { name: 'Set up secure backup' }).getByLabel('Your password').waitFor();
    await assertAccessible(alice.page, 'secure backup with cross-signing');
    await screenshot(alice.page, 'crypto-backup-password-light');
    await alice.page.getByRole('dialog', { name: 'Set up secure backup' }).getByRole('button', { name: 'Cancel' }).click();
    await setUpSecureBackup(alice.page);
    await setUpSecureBackup(bob.page);
    for (const [w, userId] of [
      [alice, '@alice:localhost'],
      [bob, '@bob:localhost'],
    ] as const) {
      const me = await sessionOf(w.page);
      const keys = await api(hearth(), me, 'POST', '/keys/query', { device_keys: { [userId]: [] } });
      assert.ok(keys.master_keys?.[userId], `${userId} has a master key`);
      assert.ok(keys.self_signing_keys?.[userId], `${userId} has a self-signing key`);
      assert.ok(keys.user_signing_keys?.[userId], `${userId} has a user-signing key (only they see it)`);
      for (const secret of ['m.cross_signing.master', 'm.cross_signing.self_signing', 'm.cross_signing.user_signing']) {
        const stored = await api(hearth(), me, 'GET', `/user/${encodeURIComponent(userId)}/account_data/${secret}`);
        assert.ok(stored.encrypted, `${secret} is in secret storage, encrypted`);
      }
    }
  });

  test('Alice verifies Bob from the member list, Bob accepts from the notice: same emoji, then each shows the other "Verified", with a shield on their messages', async () => {
    await alice.page.getByRole('button', { name: 'Members' }).click();
    await memberRow(alice.page, 'bob').getByRole('button', { name: /bob/ }).click();
    await memberRow(alice.page, 'bob').getByRole('button', { name: 'Verify' }).click();
    const asking = alice.page.getByRole('dialog', { name: 'Verify user' });
    await asking.getByText(/Waiting for bob to accept/).waitFor();

    const notice = bob.page.getByRole('region', { name: 'Verification request' });
    await notice.getByText('alice wants to verify you.').waitFor({ timeout: 30_000 });
    await assertAccessible(bob.page, 'verification notice (dark)');
    await screenshot(bob.page, 'crypto-verify-user-notice-dark');
    await bob.page.setViewportSize({ width: 390, height: 844 });
    await screenshot(bob.page, 'crypto-verify-user-notice-390');
    await bob.page.setViewportSize({ width: 1280, height: 800 });
    await notice.getByRole('button', { name: 'Verify' }).click();
    const asked = bob.page.getByRole('dialog', { name: 'Verify user' });
    await asked.getByRole('button', { name: 'Accept' }).click();

    const mine = await emojiOf(alice.page);
    const theirs = await emojiOf(bob.page);
    assert.equal(mine.length, 7);
    assert.deepEqual(theirs, mine, 'both show the same emoji, in the same order');
    await assertAccessible(alice.page, 'user verification emoji');
    await screenshot(alice.page, 'crypto-verify-user-emoji-light');
    await asking.getByRole('button', { name: 'They match' }).click();
    await asked.getByRole('button', { name: 'They match' }).click();
    await asking.getByText(/^Verified: bob/).waitFor({ timeout: 30_000 });
    await asked.getByText(/^Verified: alice/).waitFor({ timeout: 30_000 });
    await asking.getByRole('button', { name: 'Done' }).click();
    await asked.getByRole('button', { name: 'Done' }).click();

    await memberRow(alice.page, 'bob').getByText('Verified', { exact: true }).waitFor({ timeout: 30_000 });
    await bob.page.getByRole('button', { name: 'Members' }).click();
    await memberRow(bob.page, 'alice').getByText('Verified', { exact: true }).waitFor({ timeout: 30_000 });
    await assertAccessible(alice.page, 'member list with a verified member');
    await screenshot(alice.page, 'crypto-member-verified-light');
    await screenshot(bob.page, 'crypto-member-verified-dark');

    // Cross-signing recorded it: Alice's user-signing key signed Bob's master key, on the server.
    const aliceApi = await sessionOf(alice.page);
    const keys = await api(hearth(), aliceApi, 'POST', '/keys/query', { device_keys: { '@bob:localhost': [] } });
    const aliceUsk = Object.keys(
      (await api(hearth(), aliceApi, 'POST', '/keys/query', { device_keys: { '@alice:localhost': [] } })).user_signing_keys['@alice:localhost'].keys,
    )[0]!;
    assert.ok(keys.master_keys['@bob:localhost'].signatures?.['@alice:localhost']?.[aliceUsk], "Bob's master key carries Alice's user-signing signature");

    await send(bob.page, 'Signed, sealed, delivered');
    await timeline(alice.page).getByText('Signed, sealed, delivered').waitFor();
    const row = timeline(alice.page).locator('li.msg').filter({ hasText: 'Signed, sealed, delivered' });
    await row.getByTestId('message-verified').waitFor({ timeout: 30_000 });
  });

  test("a new session of Alice is flagged on Bob's side until Alice verifies it by emoji from her first session, which cross-signs it", async () => {
    alice2 = await open();
    await signInInUi(alice2.page, 'alice');
    await alice2.page.getByRole('heading', { name: 'Rooms', exact: true }).waitFor();
    await waitForDeviceKeys(hearth(), await sessionOf(alice.page), '@alice:localhost', 2);
    const secondDevice = JSON.parse((await alice2.page.evaluate(() => localStorage.getItem('hearth.session')))!).deviceId as string;
    await memberRow(bob.page, 'alice').getByText('Unverified session').waitFor({ timeout: 30_000 });
    await screenshot(bob.page, 'crypto-member-unverified-session-dark');

    // The new session does not hold Alice's cross-signing keys: setting up backup there would
    // replace her identity (Bob would see it change). It says so and offers restore or reset.
    await alice2.page.getByRole('button', { name: 'Encryption' }).click();
    await alice2.page.getByRole('dialog', { name: 'Encryption' }).getByRole('button', { name: 'Set up a new recovery key' }).click();
    const setup = alice2.page.getByRole('dialog', { name: 'Set up secure backup' });
    await setup.getByText('Your account already has a verified identity').waitFor({ timeout: 30_000 });
    assert.equal(await setup.getByRole('button', { name: 'Make a recovery key' }).isDisabled(), true);
    assert.equal(await setup.getByLabel('Your password').count(), 0, 'no password asked before the user chooses to reset');
    await assertAccessible(alice2.page, 'secure backup over an existing identity');
    await setup.getByRole('button', { name: 'Cancel' }).click();

    await alice.page.getByRole('button', { name: 'Encryption' }).click();
    await alice.page
      .getByRole('dialog', { name: 'Encryption' })
      .getByRole('button', { name: new RegExp(`Verify .*${secondDevice}`) })
      .click();
    const asking = alice.page.getByRole('dialog', { name: 'Verify session' });
    await alice2.page.getByRole('region', { name: 'Verification request' }).getByRole('button', { name: 'Verify' }).click();
    const asked = alice2.page.getByRole('dialog', { name: 'Verify session' });
    await asked.getByRole('button', { name: 'Accept' }).click();
    assert.deepEqual(await emojiOf(alice2.page), await emojiOf(alice.page));
    await asking.getByRole('button', { name: 'They match' }).click();
    await asked.getByRole('button', { name: 'They match' }).click();
    await asking.getByText(/^Verified/).waitFor({ timeout: 30_000 });
    await asked.getByText(/^Verified/).waitFor({ timeout: 30_000 });
    await asking.getByRole('button', { name: 'Done' }).click();
    await asked.getByRole('button', { name: 'Done' }).click();

    // Cross-signed: Alice's self-signing key signed the new session's device key, on the server.
    const aliceApi = await sessionOf(alice.page);
    await until('the new session signed by her self-signing key', async () => {
      const keys = await api(hearth(), aliceApi, 'POST', '/keys/query', { device_keys: { '@alice:localhost': [] } });
      const ssk = Object.keys(keys.self_signing_keys['@alice:localhost'].keys)[0]!;
      return Boolean(keys.device_keys['@alice:localhost'][secondDevice]?.signatures?.['@alice:localhost']?.[ssk]);
    });
    // And so Bob, who verified Alice, trusts it without verifying it himself: no flag any more.
    await memberRow(bob.page, 'alice').getByText('Verified', { exact: true }).waitFor({ timeout: 30_000 });
    assert.equal(await memberRow(bob.page, 'alice').getByText('Unverified session').count(), 0);
  });

  test('no Content-Security-Policy violation or uncaught error in any window', () => {
    assert.deepEqual(problems(), []);
  });
});
