// Pending invites in the member list (client-server-api "Room membership"): Alice, who may
// remove members, withdraws Bob's invite from the "Invited" section after confirming, and Bob's
// invite disappears from his room list. A member without that power is not offered it. Two
// browser profiles; rooms seeded over HTTP. The tests run in order.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { api, assertAccessible, registerInUi, registerOverHttp, roomButton, screenshot, sessionOf, useHearth, type ApiUser, type Window } from './helpers.ts';

let alice: Window;
let bob: Window;
let aliceApi: ApiUser;
let bobApi: ApiUser;
let picnic: string;

function members(page: Page) {
  return page.getByRole('complementary', { name: /Members/ });
}

/** Light, dark and 390 px, with axe on each colour scheme. */
async function captureAll(page: Page, name: string) {
  await assertAccessible(page, `${name} (light)`);
  await screenshot(page, `rooms-${name}-light`);
  await page.emulateMedia({ colorScheme: 'dark' });
  await screenshot(page, `rooms-${name}-dark`);
  await assertAccessible(page, `${name} (dark)`);
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, `rooms-${name}-390`);
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), `no horizontal scroll at 390 px (${name})`);
  await page.setViewportSize({ width: 1280, height: 800 });
}

describe('invites in the member list', () => {
  const { hearth, open, problems } = useHearth();

  test('Alice invites Bob to a room; Bob sees the invite', async () => {
    alice = await open();
    bob = await open();
    await registerInUi(alice.page, 'alice');
    await registerInUi(bob.page, 'bob');
    aliceApi = await sessionOf(alice.page);
    bobApi = await sessionOf(bob.page);
    await registerOverHttp(hearth(), 'dave');
    ({ room_id: picnic } = await api(hearth(), aliceApi, 'POST', '/createRoom', { name: 'Picnic', invite: ['@bob:localhost', '@dave:localhost'] }));
    await bob.page.getByRole('region', { name: 'Invites' }).getByText('Picnic').waitFor();
  });

  test('Alice cancels Bob\'s invite from the Invited section, confirmed: Bob\'s invite disappears and his membership is "leave"', async () => {
    await roomButton(alice.page, 'Picnic').click();
    await alice.page.getByRole('button', { name: 'Members' }).click();
    const list = members(alice.page);
    await list.getByRole('heading', { name: 'Invited' }).waitFor();
    await list.getByRole('button', { name: 'Disinvite dave' }).waitFor();
    await captureAll(alice.page, 'invited');
    await list.getByRole('button', { name: 'Disinvite bob' }).click();
    const confirm = alice.page.getByRole('dialog', { name: "Cancel bob's invite?" });
    await confirm.waitFor();
    await captureAll(alice.page, 'disinvite-dialog');
    await confirm.getByRole('button', { name: 'Disinvite' }).click();
    await confirm.waitFor({ state: 'detached' });
    await list.getByRole('button', { name: 'Disinvite bob' }).waitFor({ state: 'detached' });
    assert.equal(await list.getByRole('button', { name: 'Disinvite dave' }).count(), 1, "Dave's invite stays");

    await bob.page.getByRole('region', { name: 'Invites' }).waitFor({ state: 'detached' });
    const member = await api(hearth(), aliceApi, 'GET', `/rooms/${encodeURIComponent(picnic)}/state/m.room.member/${encodeURIComponent('@bob:localhost')}`);
    assert.equal(member.membership, 'leave');
    // A withdrawn invite is not a room Bob was in: nothing under Historical.
    assert.equal(await bob.page.getByRole('region', { name: 'Historical' }).getByText('Picnic').count(), 0);
  });

  test('a member without the power to remove others sees pending invites but no Disinvite', async () => {
    const { room_id: quiz } = await api(hearth(), aliceApi, 'POST', '/createRoom', { name: 'Quiz', invite: ['@bob:localhost'] });
    await api(hearth(), bobApi, 'POST', `/join/${encodeURIComponent(quiz)}`, {});
    await api(hearth(), aliceApi, 'POST', `/rooms/${encodeURIComponent(quiz)}/invite`, { user_id: '@dave:localhost' });
    await roomButton(bob.page, 'Quiz').click();
    await bob.page.getByRole('button', { name: 'Members' }).click();
    await members(bob.page).getByText('@dave:localhost').waitFor();
    assert.equal(
      await members(bob.page)
        .getByRole('button', { name: /^Disinvite/ })
        .count(),
      0,
    );
  });

  test('no Content-Security-Policy violation or uncaught error in any window', () => {
    assert.deepEqual(problems(), []);
  });
});
