// Reactions end to end: quick reactions and the emoji picker from a message's toolbar, counts
// and who reacted seen by the other browser, taking one's own back, the toolbar's keyboard use,
// and the picker in the composer. Carol (matrix-js-sdk) reads the annotations the browser sent.
// The tests run in order and build on each other.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MsgType } from 'matrix-js-sdk';
import { assertAccessible, screenshot, send, timeline, useHearth } from './helpers.ts';
import { act, eventIdOf, meetInRoom, row, threeScreenshots, type ActionsRoom } from './actions-room.ts';

let alice: ActionsRoom['alice'];
let bob: ActionsRoom['bob'];
let carol: ActionsRoom['carol'];
let roomId: string;

describe('reactions between two browsers', () => {
  const { hearth, open, problems } = useHearth();

  test('Alice and Bob in two browsers and Carol on matrix-js-sdk share a room, with two messages', async () => {
    ({ alice, bob, carol, roomId } = await meetInRoom(hearth(), open));
    await send(alice.page, 'See you at 7');
    await carol.sendMessage(roomId, { msgtype: MsgType.Text, body: 'I can bring chips' });
    await row(bob.page, 'I can bring chips').waitFor();
    await row(alice.page, 'I can bring chips').waitFor();
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
      [0, -1, -1, -1, -1, -1],
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
    assert.deepEqual(await buttons.evaluateAll((els) => els.map((b) => (b as HTMLButtonElement).tabIndex)), [-1, -1, -1, -1, -1, 0]);
  });

  test('the emoji picker finds "tada" and sends 🎉 as a reaction; in the composer it inserts the emoji', async () => {
    await act(alice.page, 'I can bring chips', 'Add reaction');
    const picker = alice.page.getByRole('dialog', { name: 'Add reaction' });
    await picker.waitFor();
    assert.equal(await timeline(alice.page).getByRole('dialog').count(), 0, 'the picker is not inside the live log of messages, where it would be read out');
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
