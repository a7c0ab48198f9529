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

  test('only the message in use has a toolbar: none while no message is hovered or focused, one for the hovered one', async () => {
    await bob.page.mouse.move(0, 0);
    await bob.page.locator('#composer-input').focus();
    const toolbars = timeline(bob.page).getByRole('toolbar');
    assert.equal(await toolbars.count(), 0, 'no row mounts a toolbar it does not show');
    await row(bob.page, 'See you at 7').hover();
    await row(bob.page, 'See you at 7').getByRole('toolbar').waitFor();
    assert.equal(await toolbars.count(), 1);
    await bob.page.mouse.move(0, 0);
    await toolbars.first().waitFor({ state: 'detached' });
  });

  test("keyboard: Tab into the timeline, Up and Down move between messages, Tab reaches the focused message's actions (one tab stop, arrows between them)", async () => {
    const page = bob.page;
    const active = () => page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.textContent?.slice(0, 60) ?? null);
    // Tab from the room header's last button into the log.
    await page.getByRole('button', { name: 'Leave room' }).focus();
    for (let i = 0; i < 5 && !(await timeline(page).evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press('Tab');
    assert.equal(await active(), 'Messages', 'Tab reaches the timeline');

    // Up: the last message in view; Up again: the one before; Down: back.
    // Up: the last message in view; Up again: the one before; Down: back. (The two messages may
    // have reached the server in either order.)
    const order = await timeline(page)
      .locator('li.msg .body')
      .evaluateAll((els) => els.map((el) => el.textContent ?? ''));
    assert.equal(order.length, 2);
    await page.keyboard.press('ArrowUp');
    assert.ok((await active())?.includes(order[1]!), `Up focuses the last message, not ${await active()}`);
    await page.keyboard.press('ArrowUp');
    assert.ok((await active())?.includes(order[0]!));
    await page.keyboard.press('ArrowUp');
    assert.ok((await active())?.includes(order[0]!), 'Up at the first loaded message stays there');
    await page.keyboard.press('ArrowDown');
    assert.ok((await active())?.includes(order[1]!));
    if (!order[1]!.includes('I can bring chips')) await page.keyboard.press('ArrowUp');
    assert.ok((await active())?.includes('I can bring chips'));

    // Tab: into that message's toolbar, on its first button; the arrows move along it.
    const tools = row(page, 'I can bring chips').getByRole('toolbar');
    const buttons = tools.getByRole('button');
    await page.keyboard.press('Tab');
    assert.equal(await active(), 'React with 👍');
    assert.deepEqual(
      await buttons.evaluateAll((els) => els.map((b) => (b as HTMLButtonElement).tabIndex)),
      [0, -1, -1, -1, -1, -1],
      'only the first button is in the tab order',
    );
    assert.deepEqual(
      await buttons.evaluateAll((els) => els.map((b) => b.getAttribute('aria-label'))),
      ['React with 👍', 'React with ❤️', 'React with 😂', 'Add reaction', 'Reply in thread', 'Reply'],
      "every action on another's message is in the toolbar the keyboard reaches",
    );
    assert.equal(await tools.evaluate((el) => getComputedStyle(el).opacity), '1', 'the toolbar shows while it has focus');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    assert.equal(await active(), 'React with 😂');
    await page.keyboard.press('End');
    assert.equal(await active(), 'Reply');
    await page.keyboard.press('Enter');
    await page.getByText('Replying to Carol Diaz').waitFor();
    await page.locator('#composer-input').press('Escape');
    await page.getByText('Replying to Carol Diaz').waitFor({ state: 'detached' });

    // Back to the message: the roving tab stop is where the user left it.
    await row(page, 'I can bring chips').focus();
    await page.keyboard.press('Tab');
    assert.equal(await active(), 'Reply');
    assert.deepEqual(await buttons.evaluateAll((els) => els.map((b) => (b as HTMLButtonElement).tabIndex)), [-1, -1, -1, -1, -1, 0]);

    // Up or Down from inside a toolbar goes to the next message; Tab passes its reaction, then its actions.
    await page.keyboard.press(order[0]!.includes('See you at 7') ? 'ArrowUp' : 'ArrowDown');
    assert.ok((await active())?.includes('See you at 7'));
    await page.keyboard.press('Tab');
    assert.match((await active()) ?? '', /^👍 1:/);
    await page.keyboard.press('Tab');
    assert.equal(await active(), 'React with 👍');
    // Leaving the message takes its toolbar away.
    await page.keyboard.press('Tab');
    await timeline(page).getByRole('toolbar').first().waitFor({ state: 'detached' });
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
