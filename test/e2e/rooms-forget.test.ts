// Left rooms and forgetting them (client-server-api "Leaving rooms"): Bob, removed from a room
// by Alice, sees it under "Historical" with who removed him and why, forgets it, and it is gone
// for good: after a reload, and from the server's /sync `leave` section. Leaving with "Forget it
// too" does both at once. Two browser profiles; the room is seeded and Bob removed over HTTP, as a
// moderator's client would. The tests run in order.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { api, assertAccessible, registerInUi, roomButton, screenshot, sessionOf, timeline, useHearth, type ApiUser, type Window } from './helpers.ts';

let alice: Window;
let bob: Window;
let aliceApi: ApiUser;
let bobApi: ApiUser;
let bookClub: string;
let chess: string;

function historical(page: Page) {
  return page.getByRole('region', { name: 'Historical' });
}

/** The rooms in Bob's /sync `leave` section when he asks for left rooms (filter room.include_leave). */
async function leftRoomsOnServer(hearthApi: () => Parameters<typeof api>[0]): Promise<string[]> {
  const filter = encodeURIComponent(JSON.stringify({ room: { include_leave: true, timeline: { limit: 1 } } }));
  const sync = await api(hearthApi(), bobApi, 'GET', `/sync?timeout=0&filter=${filter}`);
  return Object.keys(sync.rooms?.leave ?? {});
}

describe('leaving and forgetting rooms', () => {
  const { hearth, open, problems } = useHearth();

  test('Alice and Bob (two browsers) share two rooms', async () => {
    alice = await open();
    bob = await open();
    await registerInUi(alice.page, 'alice');
    await registerInUi(bob.page, 'bob');
    aliceApi = await sessionOf(alice.page);
    bobApi = await sessionOf(bob.page);
    ({ room_id: bookClub } = await api(hearth(), aliceApi, 'POST', '/createRoom', { name: 'Book club', invite: ['@bob:localhost'] }));
    ({ room_id: chess } = await api(hearth(), aliceApi, 'POST', '/createRoom', { name: 'Chess', invite: ['@bob:localhost'] }));
    for (const roomId of [bookClub, chess]) await api(hearth(), bobApi, 'POST', `/join/${encodeURIComponent(roomId)}`, {});
    await roomButton(bob.page, 'Book club').click();
    await timeline(bob.page).getByText('bob joined').waitFor();
  });

  test('Alice removes Bob: the room leaves his list and stays under Historical with "Removed by alice: <reason>" and a Forget button', async () => {
    await api(hearth(), aliceApi, 'POST', `/rooms/${encodeURIComponent(bookClub)}/kick`, { user_id: '@bob:localhost', reason: 'off topic' });
    await roomButton(bob.page, 'Book club').waitFor({ state: 'detached' });
    const left = historical(bob.page).getByRole('listitem').filter({ hasText: 'Book club' });
    await left.getByText('Removed by alice: off topic').waitFor();
    await left.getByRole('button', { name: 'Forget Book club' }).waitFor();
    await assertAccessible(bob.page, 'room list with a historical room');
    await screenshot(bob.page, 'rooms-historical-light');
    await bob.page.emulateMedia({ colorScheme: 'dark' });
    await screenshot(bob.page, 'rooms-historical-dark');
    await assertAccessible(bob.page, 'room list with a historical room (dark)');
    await bob.page.emulateMedia({ colorScheme: 'light' });
    await bob.page.setViewportSize({ width: 390, height: 844 });
    await screenshot(bob.page, 'rooms-historical-390');
    assert.ok(await bob.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no horizontal scroll at 390 px');
    await bob.page.setViewportSize({ width: 1280, height: 800 });
  });

  test('after a reload the removed room is still there to forget; Bob forgets it: gone from the list, after another reload, and from /sync with include_leave', async () => {
    await bob.page.reload();
    await roomButton(bob.page, 'Chess').waitFor();
    // Left rooms are not in the normal /sync: Bob asks for them.
    await historical(bob.page).getByRole('button', { name: 'Show rooms you left earlier' }).click();
    const left = historical(bob.page).getByRole('listitem').filter({ hasText: 'Book club' });
    await left.getByText('Removed by alice: off topic').waitFor();
    assert.deepEqual(await leftRoomsOnServer(hearth), [bookClub], 'before forgetting, the server still sends the left room');

    await left.getByRole('button', { name: 'Forget Book club' }).click();
    await left.waitFor({ state: 'detached' });
    assert.deepEqual(await leftRoomsOnServer(hearth), [], 'a forgotten room is no longer in /sync');

    await bob.page.reload();
    await roomButton(bob.page, 'Chess').waitFor();
    await historical(bob.page).getByRole('button', { name: 'Show rooms you left earlier' }).click();
    await historical(bob.page).getByText('No rooms you left.').waitFor();
    assert.equal(await bob.page.getByText('Book club').count(), 0, 'the forgotten room is nowhere');
  });

  test('Leave with "Forget it too" leaves the room and forgets it: not in the list, not under Historical, not in /sync', async () => {
    await roomButton(bob.page, 'Chess').click();
    await bob.page.getByRole('button', { name: 'Leave room' }).click();
    const confirm = bob.page.getByRole('dialog', { name: 'Leave Chess?' });
    await assertAccessible(bob.page, 'leave dialog');
    await confirm.getByRole('checkbox', { name: /Forget it too/ }).check();
    await confirm.getByRole('button', { name: 'Leave', exact: true }).click();
    await roomButton(bob.page, 'Chess').waitFor({ state: 'detached' });
    await waitUntil(
      async () => (await leftRoomsOnServer(hearth)).length === 0 && (await api(hearth(), bobApi, 'GET', '/joined_rooms')).joined_rooms.length === 0,
    );
    assert.equal(await historical(bob.page).getByText('Chess').count(), 0, 'a forgotten room is not history');
    await bob.page.reload();
    await historical(bob.page).getByRole('button', { name: 'Show rooms you left earlier' }).click();
    await historical(bob.page).getByText('No rooms you left.').waitFor();
  });

  test('no Content-Security-Policy violation or uncaught error in any window', () => {
    assert.deepEqual(problems(), []);
  });
});

async function waitUntil(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail('condition not reached');
}
