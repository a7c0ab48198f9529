// The room list and the open room in everyday use, on a server seeded over HTTP with a few rooms
// and a real-looking conversation: screenshots and axe in light and dark, unread counts,
// Alt+ArrowUp/Down, a failed send and its retry, a reload, leaving a room and signing out.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  api,
  assertAccessible,
  registerOverHttp,
  roomButton,
  screenshot,
  send,
  signInInUi,
  timeline,
  useHearth,
  type ApiUser,
  type Hearth,
  type Window,
} from './helpers.ts';

async function say(hearth: Hearth, user: ApiUser, roomId: string, body: string, msgtype = 'm.text'): Promise<void> {
  const txn = `seed-${Math.random().toString(36).slice(2)}`;
  await api(hearth, user, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${txn}`, { msgtype, body });
}

describe('the room list and the open room', () => {
  const { hearth, open, problems } = useHearth();
  let alice: Window;
  let bob: Window;

  before(async () => {
    const hs = hearth();
    const users: Record<string, ApiUser> = {};
    for (const [name, displayname] of [
      ['alice', 'Alice Martin'],
      ['bob', 'Bob Chen'],
      ['carol', 'Carol Diaz'],
    ] as const) {
      users[name] = await registerOverHttp(hs, name);
      await api(hs, users[name], 'PUT', `/profile/@${name}:localhost/displayname`, { displayname });
    }
    const { alice: a, bob: b, carol: c } = users as Record<'alice' | 'bob' | 'carol', ApiUser>;
    const join = (u: ApiUser, roomId: string) => api(hs, u, 'POST', `/join/${encodeURIComponent(roomId)}`, {});

    const { room_id: release } = await api(hs, a, 'POST', '/createRoom', {
      name: 'Release planning',
      topic: 'Hearth 0.2: what ships and when',
      invite: ['@bob:localhost'],
    });
    await join(b, release);
    await say(hs, a, release, 'Draft checklist for 0.2 is in the wiki.');
    await say(hs, b, release, 'I will take the packaging items.');

    const { room_id: design } = await api(hs, a, 'POST', '/createRoom', {
      name: 'Design team',
      topic: 'Mockups, reviews and the odd cat picture',
      invite: ['@bob:localhost', '@carol:localhost'],
    });
    await join(b, design);
    await join(c, design);
    await say(hs, a, design, 'Morning! I pushed the new onboarding mockups to the shared board.');
    await say(hs, b, design, 'Nice, the empty states look much friendlier now.');
    await say(hs, b, design, 'Should the sidebar stay 320px wide on small laptops?');
    await say(hs, c, design, "I'd keep it, but fold the actions into icons below 1100px.");
    await say(hs, a, design, "Agreed. I'll make a quick prototype this afternoon.");
    await say(hs, c, design, 'brings coffee for everyone', 'm.emote');
    await say(hs, b, design, 'Review at 3? Notes are at https://example.org/board/onboarding');

    const { room_id: lobby } = await api(hs, a, 'POST', '/createRoom', { name: 'Lobby', preset: 'public_chat', room_alias_name: 'lobby', topic: 'Say hi!' });
    await join(b, lobby);
    await say(hs, a, lobby, 'Welcome to the Hearth lobby.');

    const { room_id: dm } = await api(hs, c, 'POST', '/createRoom', { is_direct: true, invite: ['@alice:localhost'], preset: 'trusted_private_chat' });
    await join(a, dm);
    await api(hs, a, 'PUT', '/user/@alice:localhost/account_data/m.direct', { '@carol:localhost': [dm] });
    await api(hs, c, 'PUT', '/user/@carol:localhost/account_data/m.direct', { '@alice:localhost': [dm] });
    await say(hs, c, dm, 'Can you send me the export when you get a chance?');

    alice = await open();
    await signInInUi(alice.page, 'alice');
    bob = await open();
    await signInInUi(bob.page, 'bob');
    await roomButton(alice.page, 'Design team').waitFor();
    await roomButton(bob.page, 'Design team').waitFor();
  });

  test('screenshots and accessibility of the room list, timeline and members, light and dark', async () => {
    const page = alice.page;
    // Unread before the room is opened: Carol's DM message came after Alice's last event there.
    await roomButton(page, 'Carol Diaz').locator('.badge').filter({ hasText: '1' }).waitFor();
    // Direct chats are listed apart, under People, before the rooms (as in Element).
    const nav = page.getByRole('navigation', { name: 'Rooms' });
    assert.deepEqual(await nav.getByRole('list', { name: 'People' }).locator('.room-name').allInnerTexts(), ['Carol Diaz']);
    assert.ok(!(await nav.getByRole('list', { name: 'Rooms' }).locator('.room-name').allInnerTexts()).includes('Carol Diaz'));
    await screenshot(page, 'room-list-light');
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await roomButton(page, 'Design team').click();
      await timeline(page).getByText('Review at 3?').waitFor();
      await page.mouse.move(900, 780);
      await screenshot(page, `timeline-${scheme}`);
      await assertAccessible(page, `room list and timeline (${scheme})`);
      await page.getByRole('button', { name: 'Members' }).click();
      const members = page.getByRole('complementary', { name: /Members/ });
      await members.getByText('Carol Diaz').waitFor();
      await screenshot(page, `members-${scheme}`);
      if (scheme === 'light') await assertAccessible(page, 'member list');
      await page.getByRole('button', { name: 'Close members' }).click();
    }
    await page.emulateMedia({ colorScheme: 'light' });
    // The seeded emote and link render as such.
    await timeline(page).locator('.msg.emote').filter({ hasText: '* Carol Diaz brings coffee for everyone' }).waitFor();
    assert.equal(await timeline(page).getByRole('link', { name: 'https://example.org/board/onboarding' }).getAttribute('rel'), 'noopener noreferrer');
  });

  test('unread counts, and Alt+ArrowUp/Down to move between rooms', async () => {
    await roomButton(bob.page, 'Lobby').click();
    await bob.page.getByRole('heading', { name: 'Lobby', level: 1 }).waitFor();
    await roomButton(alice.page, 'Design team').click();
    await send(alice.page, 'Standup moved to 10:30.');
    await send(alice.page, 'Bring coffee.');
    const entry = roomButton(bob.page, 'Design team');
    await entry.locator('.badge').filter({ hasText: '2' }).waitFor();
    assert.equal(await entry.getAttribute('aria-current'), null);
    await entry.getByText('Alice Martin: Bring coffee.').waitFor();
    await screenshot(bob.page, 'room-list-unread-light');

    // The list is ordered by activity: Design team, then Lobby, then Release planning.
    const names = await bob.page.getByRole('navigation', { name: 'Rooms' }).locator('.room-name').allInnerTexts();
    assert.deepEqual(names, ['Design team', 'Lobby', 'Release planning']);
    await bob.page.locator('#composer-input').focus();
    await bob.page.keyboard.press('Alt+ArrowUp');
    await bob.page.getByRole('heading', { name: 'Design team', level: 1 }).waitFor();
    assert.equal(await entry.getAttribute('aria-current'), 'page');
    await entry.locator('.badge').waitFor({ state: 'detached' });
    await bob.page.keyboard.press('Alt+ArrowDown');
    await bob.page.getByRole('heading', { name: 'Lobby', level: 1 }).waitFor();
    await bob.page.keyboard.press('Alt+ArrowDown');
    await bob.page.getByRole('heading', { name: 'Release planning', level: 1 }).waitFor();
    assert.equal(await bob.page.evaluate(() => document.activeElement?.id), 'composer-input', 'the composer has the focus after switching');
  });

  test('a message that fails to send shows "Not sent" with Retry, and Retry delivers it', async () => {
    await roomButton(alice.page, 'Design team').click();
    await alice.page.getByRole('heading', { name: 'Design team', level: 1 }).waitFor();
    // The network is the world we do not own: the first attempt is dropped.
    let attempts = 0;
    await alice.page.route('**/send/m.room.message/**', async (route) => {
      if (attempts++ === 0) return route.abort('internetdisconnected');
      return route.continue();
    });
    await send(alice.page, 'This one goes through eventually');
    const failed = timeline(alice.page).locator('.msg.failed').filter({ hasText: 'This one goes through eventually' });
    await failed.getByText('Not sent.').waitFor();
    // The composer says why, and the reason goes once Retry has delivered the message.
    const reason = alice.page.getByRole('alert').filter({ hasText: "Not sent: Can't reach the server" });
    await reason.waitFor();
    await screenshot(alice.page, 'send-failed-light');
    await failed.getByRole('button', { name: 'Retry' }).click();
    await timeline(alice.page).locator('.msg[data-status=sent]').filter({ hasText: 'This one goes through eventually' }).waitFor();
    await reason.waitFor({ state: 'detached' });
    assert.equal(await timeline(alice.page).locator('.msg.failed').count(), 0);
    await alice.page.unroute('**/send/m.room.message/**');
    // Opening the room sends the spec's read markers (m.read receipt and m.fully_read).
    const marked = bob.page.waitForResponse((r) => r.url().includes('/read_markers') && r.ok());
    await roomButton(bob.page, 'Design team').click();
    await timeline(bob.page).getByText('This one goes through eventually').waitFor();
    await marked;
  });

  test('a reload keeps the session; leaving a room removes it; signing out returns to the sign-in screen', async () => {
    await bob.page.reload();
    await roomButton(bob.page, 'Lobby').waitFor();
    assert.equal(await bob.page.getByRole('heading', { name: 'Sign in' }).count(), 0, 'no sign-in after a reload');
    // What he read before the reload stays read: the receipt came back from the server.
    await roomButton(bob.page, 'Design team').getByText('Alice Martin: This one goes through eventually').waitFor();
    assert.equal(await roomButton(bob.page, 'Design team').locator('.badge').count(), 0);

    await roomButton(bob.page, 'Lobby').click();
    await bob.page.getByRole('button', { name: 'Leave room' }).click();
    await bob.page.getByRole('dialog', { name: 'Leave Lobby?' }).getByRole('button', { name: 'Leave' }).click();
    await roomButton(bob.page, 'Lobby').waitFor({ state: 'detached' });

    await bob.page.getByRole('button', { name: 'Sign out' }).click();
    await bob.page.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert.equal(await bob.page.evaluate(() => localStorage.getItem('hearth.session')), null);
    await bob.page.reload();
    await bob.page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await signInInUi(bob.page, 'bob');
    await roomButton(bob.page, 'Design team').waitFor();
    assert.equal(await roomButton(bob.page, 'Lobby').count(), 0, 'the room he left stays gone');
  });

  test('no Content-Security-Policy violation or uncaught error in any window', () => {
    assert.deepEqual(problems(), []);
  });
});
