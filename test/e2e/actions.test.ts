// Message actions end to end: reply, edit (with the Up key) and its history, delete, reactions and
// the emoji picker, between Alice and Bob in two browser profiles, with Carol on matrix-js-sdk (a
// client nobody here wrote) sending an old-style reply and reading what the browser sent.
// The tests run in order and build on each other.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createClient, EventType, MsgType, type MatrixClient } from 'matrix-js-sdk';
import type { Page } from 'playwright-core';
import { fetchFn, quietLogger, registerWithSdk } from '../helpers/sdk.ts';
import { api, assertAccessible, registerInUi, screenshot, send, sessionOf, timeline, useHearth, type Window } from './helpers.ts';

let alice: Window;
let bob: Window;
let carol: MatrixClient;
let roomId: string;
let snacksId: string;

/** The timeline row of the message whose own text (not a quote of it) contains `text`. */
function row(page: Page, text: string) {
  return timeline(page)
    .locator('.msg')
    .filter({ has: page.locator('.body').filter({ hasText: text }) });
}

async function eventIdOf(page: Page, text: string): Promise<string> {
  const id = await row(page, text).getAttribute('data-event-id');
  assert.ok(id && id.startsWith('$'), `the row of "${text}" carries its event id`);
  return id;
}

/** Hovers a message and clicks one of its actions. */
async function act(page: Page, text: string, action: string) {
  const r = row(page, text);
  await r.hover();
  await r.getByRole('toolbar').getByRole('button', { name: action, exact: true }).click();
}

/** Screenshots of the page in light, dark and at 390 px wide, as `actions-<name>-…png`. */
async function threeScreenshots(page: Page, name: string) {
  await screenshot(page, `actions-${name}-light`);
  await page.emulateMedia({ colorScheme: 'dark' });
  await screenshot(page, `actions-${name}-dark`);
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, `actions-${name}-390`);
  await page.setViewportSize({ width: 1280, height: 800 });
}

describe('message actions between two browsers', () => {
  const { hearth, open, problems } = useHearth();

  test('Alice and Bob in two browsers and Carol on matrix-js-sdk share a room', async () => {
    alice = await open();
    bob = await open();
    await registerInUi(alice.page, 'alice');
    await registerInUi(bob.page, 'bob');
    await api(hearth(), await sessionOf(alice.page), 'PUT', '/profile/@alice:localhost/displayname', { displayname: 'Alice Martin' });
    await api(hearth(), await sessionOf(bob.page), 'PUT', '/profile/@bob:localhost/displayname', { displayname: 'Bob Chen' });
    const creds = await registerWithSdk(hearth(), 'carol');
    carol = createClient({ baseUrl: hearth().url, ...creds, fetchFn, logger: quietLogger });
    await carol.setDisplayName('Carol Diaz');

    ({ room_id: roomId } = await api(hearth(), await sessionOf(alice.page), 'POST', '/createRoom', {
      name: 'Weekend plans',
      preset: 'private_chat',
      invite: ['@bob:localhost', '@carol:localhost'],
    }));
    await api(hearth(), await sessionOf(bob.page), 'POST', `/rooms/${encodeURIComponent(roomId)}/join`, {});
    await carol.joinRoom(roomId);
    for (const w of [alice, bob]) {
      await w.page.reload();
      await w.page
        .getByRole('navigation', { name: 'Rooms' })
        .getByRole('button', { name: /^Weekend plans\b/ })
        .click();
      await timeline(w.page).getByText('Carol Diaz joined').waitFor();
    }
  });

  test("Alice replies to Bob's message: Bob sees the quote, and the event relates to it with m.in_reply_to", async () => {
    await send(bob.page, "Who's bringing snacks?");
    await row(alice.page, "Who's bringing snacks?").waitFor();
    snacksId = await eventIdOf(alice.page, "Who's bringing snacks?");

    await act(alice.page, "Who's bringing snacks?", 'Reply');
    await alice.page.getByText('Replying to Bob Chen').waitFor();
    assert.ok(await alice.page.locator('#composer-input').evaluate((el) => el === document.activeElement), 'Reply puts the cursor in the composer');
    await screenshot(alice.page, 'actions-replying-light');
    await assertAccessible(alice.page, 'composer replying to a message');
    await send(alice.page, 'I will!');
    await alice.page.getByText('Replying to Bob Chen').waitFor({ state: 'detached' });

    const reply = row(bob.page, 'I will!');
    await reply.waitFor();
    const quote = reply.locator('.quote');
    assert.match(await quote.innerText(), /Bob Chen\s+Who's bringing snacks\?/);
    assert.equal((await reply.locator('.body').innerText()).trim(), 'I will!');

    // What the browser sent, as another client reads it (client-server-api "Rich replies").
    const sent = await carol.fetchRoomEvent(roomId, await eventIdOf(bob.page, 'I will!'));
    assert.deepEqual(sent.content?.['m.relates_to'], { 'm.in_reply_to': { event_id: snacksId } });
    assert.equal(sent.content?.body, 'I will!', 'no fallback quote in the body (spec v1.13)');

    // Clicking the quote brings the replied-to message forward.
    await quote.click();
    await bob.page.locator(`li.flash[data-event-id="${snacksId}"]`).waitFor();
  });

  test("a js-sdk reply with an older client's fallback shows the quote once and none of the fallback text", async () => {
    await carol.sendEvent(roomId, EventType.RoomMessage, {
      msgtype: MsgType.Text,
      body: "> <@bob:localhost> Who's bringing snacks?\n\nI can bring chips",
      'm.relates_to': { 'm.in_reply_to': { event_id: snacksId } },
    } as never);
    for (const page of [alice.page, bob.page]) {
      const chips = row(page, 'I can bring chips');
      await chips.waitFor();
      assert.equal((await chips.locator('.body').innerText()).trim(), 'I can bring chips');
      assert.match(await chips.locator('.quote').innerText(), /Bob Chen\s+Who's bringing snacks\?/);
      assert.equal(await timeline(page).getByText('<@bob:localhost>').count(), 0, 'the fallback quote is gone');
    }
    // The room list's preview of the last message has no fallback either.
    await alice.page
      .getByRole('navigation', { name: 'Rooms' })
      .locator('.preview')
      .filter({ hasText: /^Carol Diaz: I can bring chips$/ })
      .waitFor();
  });

  test('Alice edits her last message with Up: Bob sees the new text once with "(edited)", and the history lists both', async () => {
    await send(alice.page, 'See you at 6');
    await row(bob.page, 'See you at 6').waitFor();

    const composer = alice.page.locator('#composer-input');
    await composer.press('ArrowUp');
    assert.equal(await composer.inputValue(), 'See you at 6', 'Up in an empty composer takes the last message to edit');
    await alice.page.getByText('Editing your message').waitFor();
    await composer.press('Escape');
    assert.equal(await composer.inputValue(), '', 'Escape cancels the edit and empties the composer');
    assert.equal(await alice.page.getByText('Editing your message').count(), 0);

    // An edit the server refuses stays in the composer, with the reason, to fix and send again.
    await composer.press('ArrowUp');
    await composer.fill('lorem ipsum '.repeat(5834).slice(0, 70_000));
    await composer.press('Enter');
    await alice.page
      .getByRole('alert')
      .filter({ hasText: /Not sent: This message is too large/ })
      .waitFor();
    await alice.page.getByText('Editing your message').waitFor();
    assert.equal((await composer.inputValue()).length, 70_000, 'the refused edit is still in the composer');
    await alice.page.getByRole('button', { name: 'Dismiss' }).click();

    await composer.fill('See you at 7');
    await screenshot(alice.page, 'actions-editing-light');
    await composer.press('Enter');
    // Once the server has the edit, the composer leaves edit mode and is empty again.
    await alice.page.getByText('Editing your message').waitFor({ state: 'detached' });
    assert.equal(await composer.inputValue(), '', 'the composer is empty after the edit');

    const edited = row(bob.page, 'See you at');
    await bob.page
      .locator('.msg .body')
      .filter({ hasText: /^See you at 7 \(edited\)$/ })
      .waitFor();
    assert.equal(await edited.count(), 1, 'the edit is not a second message');
    assert.equal(await timeline(bob.page).getByText('* See you at 7').count(), 0, 'the fallback body is never shown');

    await edited.getByRole('button', { name: '(edited)' }).click();
    const dialog = bob.page.getByRole('dialog', { name: 'Edit history' });
    const versions = dialog.getByRole('list', { name: 'Versions, oldest first' }).getByRole('listitem');
    await versions.nth(1).waitFor();
    assert.deepEqual(
      (await versions.locator('.text').allInnerTexts()).map((t) => t.trim()),
      ['See you at 6', 'See you at 7'],
    );
    await assertAccessible(bob.page, 'edit history dialog');
    await threeScreenshots(bob.page, 'edit-history');
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'detached' });
  });

  test('Bob may not edit or delete what Alice said; Alice deletes her message after confirming, and Bob sees "Message deleted"', async () => {
    await send(alice.page, 'Oops, wrong room');
    const oops = row(bob.page, 'Oops, wrong room');
    await oops.waitFor();
    await oops.hover();
    const bobsTools = oops.getByRole('toolbar');
    await bobsTools.getByRole('button', { name: 'Reply' }).waitFor();
    assert.equal(await bobsTools.getByRole('button', { name: 'Edit' }).count(), 0, 'no Edit on the messages of others');
    assert.equal(await bobsTools.getByRole('button', { name: 'Delete' }).count(), 0, 'no Delete without the power to redact');

    // Alice created the room: her power (100) is above the redact level (50), so she may delete Bob's messages.
    const snacks = row(alice.page, "Who's bringing snacks?");
    await snacks.hover();
    await snacks.getByRole('toolbar').getByRole('button', { name: 'Delete' }).waitFor();
    assert.equal(await snacks.getByRole('toolbar').getByRole('button', { name: 'Edit' }).count(), 0, "nobody edits another's message");

    await act(alice.page, 'Oops, wrong room', 'Delete');
    const confirm = alice.page.getByRole('dialog', { name: 'Delete message?' });
    await confirm.waitFor();
    await assertAccessible(alice.page, 'delete message dialog');
    await threeScreenshots(alice.page, 'delete');
    await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
    await confirm.waitFor({ state: 'detached' });

    await oops.waitFor({ state: 'detached' });
    const bodies = (await timeline(bob.page).locator('.msg .body').allInnerTexts()).map((b) => b.trim());
    assert.equal(bodies.at(-1), 'Message deleted', 'the placeholder is where the message was');
  });

  test('Bob and Alice react 👍: both see "👍 2" with the names; Alice clicks hers again and both see "👍 1"', async () => {
    await act(bob.page, 'See you at 7', 'React with 👍');
    const aliceThumb = row(alice.page, 'See you at 7').getByRole('button', { name: /^👍 1: Bob Chen reacted with 👍$/ });
    await aliceThumb.waitFor();
    assert.equal(await aliceThumb.getAttribute('aria-pressed'), 'false');

    await act(alice.page, 'See you at 7', 'React with 👍');
    const aliceSees = row(alice.page, 'See you at 7').getByRole('button', { name: /^👍 2:/ });
    const bobSees = row(bob.page, 'See you at 7').getByRole('button', { name: /^👍 2:/ });
    await aliceSees.waitFor();
    await bobSees.waitFor();
    assert.equal(await aliceSees.getAttribute('title'), 'Bob Chen and you reacted with 👍');
    assert.equal(await bobSees.getAttribute('title'), 'you and Alice Martin reacted with 👍');
    assert.equal(await aliceSees.getAttribute('aria-pressed'), 'true');
    assert.match(await bobSees.innerText(), /👍\s*2/);
    await screenshot(alice.page, 'actions-reactions-light');
    await assertAccessible(alice.page, 'timeline with replies, an edit, a deletion and reactions');

    await aliceSees.click();
    await row(bob.page, 'See you at 7')
      .getByRole('button', { name: /^👍 1: you reacted with 👍$/ })
      .waitFor();
    const aliceNow = row(alice.page, 'See you at 7').getByRole('button', { name: /^👍 1: Bob Chen reacted with 👍$/ });
    await aliceNow.waitFor();
    assert.equal(await aliceNow.getAttribute('aria-pressed'), 'false', 'her reaction is taken back');
  });

  test("a message's actions are one tab stop, shown on focus, and the arrow keys move between them", async () => {
    const tools = row(bob.page, 'I can bring chips').getByRole('toolbar');
    const buttons = tools.getByRole('button');
    assert.deepEqual(
      await buttons.evaluateAll((els) => els.map((b) => (b as HTMLButtonElement).tabIndex)),
      [0, -1, -1, -1, -1],
      'only the first button is in the tab order',
    );
    await buttons.first().focus();
    assert.equal(await tools.evaluate((el) => getComputedStyle(el).opacity), '1', 'the toolbar shows while it has focus');
    await bob.page.keyboard.press('ArrowRight');
    await bob.page.keyboard.press('ArrowRight');
    assert.equal(await bob.page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'React with 😂');
    await bob.page.keyboard.press('End');
    assert.equal(await bob.page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Reply');
    await bob.page.keyboard.press('Enter');
    await bob.page.getByText('Replying to Carol Diaz').waitFor();
    await bob.page.locator('#composer-input').press('Escape');
    await bob.page.getByText('Replying to Carol Diaz').waitFor({ state: 'detached' });
    // The roving tab stop stays where the user left it.
    assert.deepEqual(await buttons.evaluateAll((els) => els.map((b) => (b as HTMLButtonElement).tabIndex)), [-1, -1, -1, -1, 0]);
  });

  test('the emoji picker finds "tada" and sends 🎉 as a reaction; in the composer it inserts the emoji', async () => {
    await act(alice.page, 'I can bring chips', 'Add reaction');
    const picker = alice.page.getByRole('dialog', { name: 'Add reaction' });
    // Every emoji, once the data has loaded (on first opening, lib/emoji.ts).
    await picker.getByRole('button', { name: 'grinning face', exact: true }).waitFor();
    await assertAccessible(alice.page, 'emoji picker');
    await threeScreenshots(alice.page, 'emoji-picker');
    // The grid renders a page at a time, and more as it scrolls.
    const grid = picker.getByRole('group', { name: 'Emoji' });
    const firstPage = await grid.getByRole('button').count();
    await grid.evaluate((el) => (el.scrollTop = el.scrollHeight));
    await grid.getByRole('button').nth(firstPage).waitFor();
    const search = picker.getByLabel('Search emoji');
    await search.fill('tada');
    const tada = picker.getByRole('button', { name: 'party popper' });
    await tada.waitFor();
    assert.equal(await picker.getByRole('group', { name: 'Emoji' }).getByRole('button').first().innerText(), '🎉', '"tada" finds 🎉 first');
    await tada.click();
    await picker.waitFor({ state: 'detached' });
    await row(bob.page, 'I can bring chips')
      .getByRole('button', { name: /^🎉 1: Alice Martin reacted with 🎉$/ })
      .waitFor();
    // What Carol's client reads: an m.annotation with the emoji as key.
    const chipsId = await eventIdOf(alice.page, 'I can bring chips');
    const { events } = await carol.relations(roomId, chipsId, 'm.annotation', 'm.reaction');
    assert.deepEqual(
      events.map((e) => [e.getSender(), e.getContent()['m.relates_to']?.key]),
      [['@alice:localhost', '🎉']],
    );

    const composer = alice.page.locator('#composer-input');
    await composer.fill('Party ');
    await alice.page.getByRole('button', { name: 'Insert emoji' }).click();
    const insert = alice.page.getByRole('dialog', { name: 'Insert emoji' });
    await insert.getByLabel('Search emoji').fill('tada');
    await insert.getByRole('button', { name: 'party popper' }).waitFor();
    await insert.getByLabel('Search emoji').press('Enter');
    await insert.waitFor({ state: 'detached' });
    assert.equal(await composer.inputValue(), 'Party 🎉');
    await composer.fill('');
  });

  test('no Content-Security-Policy violation or uncaught error in either window', () => {
    carol.stopClient();
    assert.deepEqual(problems(), []);
  });
});
