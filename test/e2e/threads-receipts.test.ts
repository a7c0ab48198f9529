// Threads and read receipts, between two people in two browser profiles (Alice and Bob), with
// Carol on matrix-js-sdk in this process (a client nobody here wrote) to read what the web
// client puts on the wire. The tests run in order and build on each other. The jump buttons
// are in jump-unread.test.ts.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createClient, type MatrixClient, type MatrixEvent } from 'matrix-js-sdk';
import type { Locator, Page } from 'playwright-core';
import { fetchFn, quietLogger, registerWithSdk, startSyncing, waitFor } from '../helpers/sdk.ts';
import { api, assertAccessible, registerInUi, roomButton, screenshot, send, sessionOf, timeline, useHearth, type ApiUser, type Window } from './helpers.ts';

let alice: Window;
let bob: Window;
let carol: MatrixClient;
let aliceApi: ApiUser;
let roomId: string;

const ROOM = 'Release plan';

function threadPanel(page: Page): Locator {
  return page.getByRole('complementary', { name: 'Thread' });
}

function row(page: Page, text: string): Locator {
  return timeline(page).locator('.msg').filter({ hasText: text });
}

/** Main-timeline message bodies with this text (a thread summary quoting it is not one). */
function bodies(page: Page, text: string): Locator {
  return timeline(page).locator('.msg .body').filter({ hasText: text });
}

describe('threads and read receipts', () => {
  const { hearth, open, problems } = useHearth();
  after(() => carol?.stopClient());

  test('Alice, Bob (two browsers) and Carol (matrix-js-sdk) share a room', async () => {
    alice = await open();
    bob = await open();
    await registerInUi(alice.page, 'alice');
    await registerInUi(bob.page, 'bob');
    aliceApi = await sessionOf(alice.page);
    const bobApi = await sessionOf(bob.page);
    await api(hearth(), aliceApi, 'PUT', '/profile/@alice:localhost/displayname', { displayname: 'Alice Martin' });
    await api(hearth(), bobApi, 'PUT', '/profile/@bob:localhost/displayname', { displayname: 'Bob Chen' });
    const creds = await registerWithSdk(hearth(), 'carol');
    carol = createClient({ baseUrl: hearth().url, ...creds, fetchFn, logger: quietLogger });
    await carol.setDisplayName('Carol Diaz');
    await startSyncing(carol);
    ({ room_id: roomId } = await api(hearth(), aliceApi, 'POST', '/createRoom', { name: ROOM, invite: ['@bob:localhost', '@carol:localhost'] }));
    await api(hearth(), bobApi, 'POST', `/join/${encodeURIComponent(roomId)}`, {});
    await carol.joinRoom(roomId);
    for (const w of [alice, bob]) {
      await roomButton(w.page, ROOM).click();
      await timeline(w.page).getByText('Carol Diaz joined').waitFor();
    }
  });

  test('Bob replies in a thread to Alice; Alice sees the summary, opens the thread and answers in it; Bob sees the answer there and Carol receives rel_type m.thread', async () => {
    await send(alice.page, 'Shall we ship on Friday?');
    const root = row(bob.page, 'Shall we ship on Friday?');
    await root.waitFor();
    const rootId = await root.getAttribute('data-event-id');
    assert.ok(rootId?.startsWith('$'), 'the row names its event');
    await root.hover();
    await root.getByRole('button', { name: 'Reply in thread' }).click();
    const bobPanel = threadPanel(bob.page);
    await bobPanel.getByText('Shall we ship on Friday?').waitFor();
    const bobThreadComposer = bob.page.locator('#thread-composer-input');
    await bobThreadComposer.fill('Friday works for me');
    await bobThreadComposer.press('Enter');
    await bobPanel.locator('.reply').filter({ hasText: 'Friday works for me' }).waitFor();

    // Alice: the root shows the summary, marked unread, and the reply is not in the main
    // timeline; the room list shows it as the room's last message.
    const summary = row(alice.page, 'Shall we ship on Friday?').getByRole('button', { name: '1 reply · last: Bob Chen: Friday works for me (unread)' });
    await summary.waitFor();
    assert.equal(await bodies(alice.page, 'Friday works for me').count(), 0, 'a thread reply is not a message of the main timeline');
    await roomButton(alice.page, ROOM)
      .locator('.preview')
      .filter({ hasText: /^Bob Chen: Friday works for me$/ })
      .waitFor();
    const badge = roomButton(alice.page, ROOM).locator('.badge');
    await badge.filter({ hasText: '1' }).waitFor();
    await screenshot(alice.page, 'threads-summary-light');
    await summary.click();
    const alicePanel = threadPanel(alice.page);
    await alicePanel.locator('.reply').filter({ hasText: 'Friday works for me' }).waitFor();
    await alicePanel.getByText('Shall we ship on Friday?').waitFor();
    // Seeing the thread reads it (a receipt with the thread's id): the dot and the badge go.
    await row(alice.page, 'Shall we ship on Friday?').getByRole('button', { name: '1 reply · last: Bob Chen: Friday works for me' }).waitFor();
    await badge.waitFor({ state: 'detached' });
    const aliceThreadComposer = alice.page.locator('#thread-composer-input');
    await aliceThreadComposer.fill('Great, Friday it is');
    await aliceThreadComposer.press('Enter');

    await bobPanel.locator('.reply').filter({ hasText: 'Great, Friday it is' }).waitFor();
    // Bob has the thread open: Alice's reply there is read as it arrives.
    await row(bob.page, 'Shall we ship on Friday?').getByRole('button', { name: '2 replies · last: Alice Martin: Great, Friday it is' }).waitFor();
    assert.equal(await bodies(bob.page, 'Great, Friday it is').count(), 0, "Alice's thread reply stays out of Bob's main timeline");
    await row(alice.page, 'Shall we ship on Friday?')
      .getByRole('button', { name: /^2 replies/ })
      .waitFor();

    // A reply started from the main timeline belongs to the main composer only, not the thread's.
    const aliceRoot = row(alice.page, 'Shall we ship on Friday?');
    await aliceRoot.hover();
    await aliceRoot.getByRole('button', { name: 'Reply', exact: true }).click();
    await alice.page.getByText('Replying to Alice Martin').waitFor();
    assert.equal(await alicePanel.getByText('Replying to').count(), 0, 'the thread composer shows no reply bar of the main one');
    await alice.page.locator('#composer-input').press('Escape');
    await alice.page.getByText('Replying to Alice Martin').waitFor({ state: 'detached' });

    // On the wire (client-server-api "Threading"): m.thread to the root, with the reply fallback
    // to the latest reply for clients without threads.
    const find = (body: string) => () =>
      carol
        .getRoom(roomId)
        ?.getLiveTimeline()
        .getEvents()
        .find((ev: MatrixEvent) => ev.getContent().body === body);
    const bobReply = await waitFor("Carol to receive Bob's thread reply", find('Friday works for me'));
    const aliceReply = await waitFor("Carol to receive Alice's thread reply", find('Great, Friday it is'));
    assert.deepEqual(aliceReply.getContent()['m.relates_to'], {
      rel_type: 'm.thread',
      event_id: rootId,
      is_falling_back: true,
      'm.in_reply_to': { event_id: bobReply.getId() },
    });
    assert.equal(bobReply.getContent()['m.relates_to']?.rel_type, 'm.thread');

    await screenshot(alice.page, 'threads-panel-light');
    await assertAccessible(alice.page, 'thread panel');
    await alice.page.emulateMedia({ colorScheme: 'dark' });
    await screenshot(alice.page, 'threads-panel-dark');
    await assertAccessible(alice.page, 'thread panel (dark)');
    await alice.page.emulateMedia({ colorScheme: 'light' });
    await alice.page.setViewportSize({ width: 390, height: 844 });
    await screenshot(alice.page, 'threads-panel-390');
    assert.ok(await alice.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no horizontal scroll at 390 px');
    await alice.page.setViewportSize({ width: 1280, height: 800 });
    await alicePanel.getByRole('button', { name: 'Close thread' }).click();
    await alicePanel.waitFor({ state: 'detached' });
    await bob.page.getByRole('complementary', { name: 'Thread' }).getByRole('button', { name: 'Close thread' }).click();
  });

  test('Bob reads Alice\'s message: Alice sees his avatar under it, named "Read by Bob Chen"; Carol\'s receipt joins it', async () => {
    // Bob's window is closed while Alice writes: he has not read it.
    await bob.page.goto('about:blank');
    await send(alice.page, 'Did everyone read the brief?');
    const message = row(alice.page, 'Did everyone read the brief?');
    await message.and(alice.page.locator('[data-status=sent]')).waitFor();
    assert.equal(await message.getByRole('img', { name: /Bob Chen/ }).count(), 0, 'no receipt from Bob before he reads');

    await bob.page.goto(hearth().url);
    await roomButton(bob.page, ROOM).click();
    await timeline(bob.page).getByText('Did everyone read the brief?').waitFor();
    const receipt = message.getByRole('img', { name: 'Read by Bob Chen' });
    await receipt.waitFor();
    assert.equal(await receipt.getAttribute('title'), 'Read by Bob Chen', 'a tooltip says who read it');
    assert.equal(
      await timeline(alice.page)
        .getByRole('img', { name: /Bob Chen/ })
        .count(),
      1,
      "Bob's avatar shows once, at the latest message he read",
    );

    const event = await waitFor('Carol to receive the message', () =>
      carol
        .getRoom(roomId)
        ?.getLiveTimeline()
        .getEvents()
        .find((ev: MatrixEvent) => ev.getContent().body === 'Did everyone read the brief?'),
    );
    await carol.sendReadReceipt(event);
    await message.getByRole('img', { name: /^Read by (Bob Chen, Carol Diaz|Carol Diaz, Bob Chen)$/ }).waitFor();
    await screenshot(alice.page, 'receipts-light');
    await assertAccessible(alice.page, 'timeline with read receipts');
  });

  test('no Content-Security-Policy violation or uncaught error in any window', () => {
    assert.deepEqual(problems(), []);
  });
});
