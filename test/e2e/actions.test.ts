// Message actions end to end: reply, edit (with the Up key) and its history, delete, between
// Alice and Bob in two browser profiles, with Carol on matrix-js-sdk sending an old-style reply
// and reading what the browser sent. Reactions and the emoji picker: reactions.test.ts.
// The tests run in order and build on each other.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EventType, MsgType } from 'matrix-js-sdk';
import { assertAccessible, screenshot, send, timeline, useHearth } from './helpers.ts';
import { act, eventIdOf, meetInRoom, row, threeScreenshots, type ActionsRoom } from './actions-room.ts';

let alice: ActionsRoom['alice'];
let bob: ActionsRoom['bob'];
let carol: ActionsRoom['carol'];
let roomId: string;
let snacksId: string;

describe('reply, edit and delete between two browsers', () => {
  const { hearth, open, problems } = useHearth();

  test('Alice and Bob in two browsers and Carol on matrix-js-sdk share a room', async () => {
    ({ alice, bob, carol, roomId } = await meetInRoom(hearth(), open));
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
    await bobsTools.getByRole('button', { name: 'Reply', exact: true }).waitFor();
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

  test('no Content-Security-Policy violation or uncaught error in either window', () => {
    carol.stopClient();
    assert.deepEqual(problems(), []);
  });
});
