// Issue #16's "seen broken" items in the room list and composer: unread and highlight badges from
// the server's counts (not from the events the page happened to load), intentional mentions
// (m.mentions, push.md) that make the server highlight, and a send that fails saying why. The other
// person is a matrix-js-sdk client in this process, a client nobody here wrote.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient, NotificationCountType, type MatrixClient, type MatrixEvent } from 'matrix-js-sdk';
import { fetchFn, quietLogger, registerWithSdk, startSyncing, waitFor } from '../helpers/sdk.ts';
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
  type Window,
} from './helpers.ts';

describe('counts, mentions and send failures', () => {
  const { hearth, open, problems } = useHearth();
  let alice: ApiUser;
  let bob: MatrixClient;
  let roomId: string;
  let win: Window;

  before(async () => {
    const hs = hearth();
    alice = await registerOverHttp(hs, 'alice');
    await api(hs, alice, 'PUT', '/profile/@alice:localhost/displayname', { displayname: 'Alice Martin' });
    const creds = await registerWithSdk(hs, 'bob');
    bob = createClient({ baseUrl: hs.url, ...creds, fetchFn, logger: quietLogger });
    await bob.setDisplayName('Bob Chen');
    await startSyncing(bob);
    ({ room_id: roomId } = await bob.createRoom({ name: 'Backlog', invite: ['@alice:localhost'] }));
    await api(hs, alice, 'POST', `/join/${encodeURIComponent(roomId)}`, {});
    win = await open();
    await signInInUi(win.page, 'alice');
    await roomButton(win.page, 'Backlog').waitFor();
  });

  after(() => bob?.stopClient());

  test('after a reload the badge shows the server count of 60 unread, not the 30 loaded, and marks the mention', async () => {
    const page = win.page;
    // The page is closed while the messages arrive; its session stays in localStorage.
    await page.goto('about:blank');
    for (let i = 1; i < 60; i++) await bob.sendTextMessage(roomId, `Backlog item ${i}`);
    const { event_id: lastId } = await bob.sendMessage(roomId, {
      msgtype: 'm.text',
      body: 'Alice Martin: item 60 is yours',
      'm.mentions': { user_ids: ['@alice:localhost'] },
    } as never);
    await page.goto(hearth().url);
    const badge = roomButton(page, 'Backlog').locator('.badge');
    await badge.filter({ hasText: '60' }).waitFor();
    assert.equal(await badge.getAttribute('class').then((c) => /\bhighlight\b/.test(c ?? '')), true, 'a room that mentions the user has a highlight badge');
    assert.match(await badge.innerText(), /60 unread, 1 mention/);
    await screenshot(page, 'room-list-server-counts-light');
    // Opening the room reads it: the badge goes, and stays gone once the server's counts come back.
    await roomButton(page, 'Backlog').click();
    await timeline(page).getByText('item 60 is yours').waitFor();
    await badge.waitFor({ state: 'detached' });
    await waitFor("Alice's read receipt to reach the server", () => bob.getRoom(roomId)?.getEventReadUpTo('@alice:localhost') === lastId);
    await page.reload();
    await roomButton(page, 'Backlog').getByText('item 60 is yours').waitFor();
    assert.equal(await badge.count(), 0, 'no badge after a reload once read');
  });

  test('a message naming a member carries m.mentions, and the server highlights it for them', async () => {
    const page = win.page;
    await roomButton(page, 'Backlog').click();
    await send(page, 'Thanks Bob Chen, and @room: release on Friday');
    const seen = await waitFor('Bob to receive the mention', () =>
      bob
        .getRoom(roomId)
        ?.getLiveTimeline()
        .getEvents()
        .find((ev: MatrixEvent) => ev.getContent().body === 'Thanks Bob Chen, and @room: release on Friday'),
    );
    // Alice is an ordinary member (power 0 < notifications.room 50): @room is not hers to send.
    assert.deepEqual(seen.getContent()['m.mentions'], { user_ids: ['@bob:localhost'] });
    await waitFor("the server's highlight count for Bob to be 1", () => bob.getRoom(roomId)?.getUnreadNotificationCount(NotificationCountType.Highlight) === 1);

    // A message naming nobody still says so (an empty m.mentions), so the server does not guess.
    await send(page, 'Nobody in particular');
    const plain = await waitFor('the plain message', () =>
      bob
        .getRoom(roomId)
        ?.getLiveTimeline()
        .getEvents()
        .find((ev: MatrixEvent) => ev.getContent().body === 'Nobody in particular'),
    );
    assert.deepEqual(plain.getContent()['m.mentions'], {});
  });

  test('a 70,000-character message says it is too large and stays in the composer to shorten', async () => {
    const page = win.page;
    await roomButton(page, 'Backlog').click();
    const long = 'lorem ipsum '.repeat(5834).slice(0, 70_000);
    await send(page, long);
    const alert = page.getByRole('alert').filter({ hasText: 'too large' });
    await alert.waitFor();
    assert.match(await alert.innerText(), /Not sent: This message is too large to send\. Shorten it/);
    assert.match(await alert.innerText(), /M_TOO_LARGE/);
    assert.equal((await page.locator('#composer-input').inputValue()).length, long.trim().length, 'the text is back in the composer');
    assert.equal(await timeline(page).locator('.msg.failed').count(), 0, 'no Retry that could never work');
    await screenshot(page, 'send-too-large-light');
    await assertAccessible(page, 'send failure');
    // Shortened, it goes, and the reason goes with it.
    await send(page, long.slice(0, 2000).trim());
    await alert.waitFor({ state: 'detached' });
    await timeline(page)
      .locator('.msg[data-status=sent]')
      .filter({ hasText: long.slice(0, 40) })
      .waitFor();
  });

  test('a message refused by the room (muted: M_FORBIDDEN) says so and stays in the composer', async () => {
    const page = win.page;
    await roomButton(page, 'Backlog').click();
    const levels = bob.getRoom(roomId)!.currentState.getStateEvents('m.room.power_levels', '')!.getContent();
    await bob.sendStateEvent(roomId, 'm.room.power_levels' as never, { ...levels, events_default: 50 } as never, '');
    await send(page, 'Can I still talk?');
    const alert = page.getByRole('alert').filter({ hasText: "You can't send messages in this room" });
    await alert.waitFor();
    assert.match(await alert.innerText(), /M_FORBIDDEN/);
    assert.equal(await page.locator('#composer-input').inputValue(), 'Can I still talk?');
    assert.equal(await timeline(page).locator('.msg.failed').count(), 0);
  });

  test('no Content-Security-Policy violation or uncaught error in any window', () => {
    assert.deepEqual(problems(), []);
  });
});
