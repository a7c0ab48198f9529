// What another client's events look like in the browser: a matrix-js-sdk client in this test
// process (a client nobody here wrote) edits, redacts and sends an encrypted event into a room
// with Alice, who uses the web client in Chromium. Each must show once, in place, in words.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createClient, EventType, MsgType, RelationType, type MatrixClient } from 'matrix-js-sdk';
import { fetchFn, quietLogger, registerWithSdk } from '../helpers/sdk.ts';
import { assertAccessible, registerInUi, roomButton, screenshot, timeline, useHearth, type Window } from './helpers.ts';

let alice: Window;
let carol: MatrixClient;
let roomId: string;

describe('events from another client in the timeline', () => {
  const { hearth, open, problems } = useHearth();

  test('a js-sdk user invites Alice, who accepts in the browser', async () => {
    alice = await open();
    await registerInUi(alice.page, 'alice');
    const creds = await registerWithSdk(hearth(), 'carol');
    carol = createClient({ baseUrl: hearth().url, ...creds, fetchFn, logger: quietLogger });
    await carol.setDisplayName('Carol Diaz');
    ({ room_id: roomId } = await carol.createRoom({ name: 'Other clients', invite: ['@alice:localhost'] }));
    const invites = alice.page.getByRole('region', { name: 'Invites' });
    await invites.getByText('Other clients').waitFor();
    await invites.getByRole('button', { name: 'Accept' }).click();
    await alice.page.getByRole('heading', { name: 'Other clients', level: 1 }).waitFor();
  });

  test('an m.replace edit shows once, at the original message, with the new text and "(edited)"', async () => {
    const log = timeline(alice.page);
    const { event_id: original } = await carol.sendMessage(roomId, { msgtype: MsgType.Text, body: 'Lunch at noon?' });
    await log.getByText('Lunch at noon?', { exact: true }).waitFor();
    // client-server-api "Event replacements": the fallback body starts with "*", the new content is in m.new_content.
    await carol.sendEvent(roomId, EventType.RoomMessage, {
      msgtype: MsgType.Text,
      body: '* Lunch at one?',
      'm.new_content': { msgtype: MsgType.Text, body: 'Lunch at one?' },
      'm.relates_to': { rel_type: RelationType.Replace, event_id: original },
    });
    // The room list's preview of the last message is the edited text, not the edit's fallback.
    await roomButton(alice.page, 'Other clients')
      .locator('.preview')
      .filter({ hasText: /^Carol Diaz: Lunch at one\?$/ })
      .waitFor();
    // A later message proves the edit has been through the page's sync too.
    await carol.sendMessage(roomId, { msgtype: MsgType.Text, body: 'After the edit' });
    await log.getByText('After the edit', { exact: true }).waitFor();
    const lunch = log.locator('.msg').filter({ hasText: 'Lunch at' });
    assert.equal(await lunch.count(), 1, 'the edit is not a second message');
    assert.equal((await lunch.locator('.body').innerText()).trim(), 'Lunch at one? (edited)');
    await lunch.locator('.edited').getByText('(edited)').waitFor();
    assert.equal(await log.getByText('* Lunch at one?').count(), 0, 'the fallback body is never shown');
    // It stays at the original's place: before the later message.
    const bodies = await log.locator('.msg .body').allInnerTexts();
    assert.ok(bodies.indexOf('Lunch at one? (edited)') < bodies.indexOf('After the edit'));

    // The same after a reload, when the page's first sync brings the original and its edit together.
    await alice.page.reload();
    await roomButton(alice.page, 'Other clients').click();
    await log.getByText('After the edit', { exact: true }).waitFor();
    assert.equal(await lunch.count(), 1, 'after a reload, the edit is still not a second message');
    assert.equal((await lunch.locator('.body').innerText()).trim(), 'Lunch at one? (edited)');
    await screenshot(alice.page, 'timeline-edited-light');

    // Deleting the edited message leaves a deleted message, not an edited one.
    await carol.redactEvent(roomId, original);
    await log.getByText('Lunch at one?').waitFor({ state: 'detached' });
    await log.getByText('Message deleted', { exact: true }).waitFor();
    assert.equal(await log.locator('.edited').count(), 0, 'a deleted message is not marked edited');
  });

  test('a message the other user redacts shows "Message deleted" in its place', async () => {
    const log = timeline(alice.page);
    const { event_id: oops } = await carol.sendMessage(roomId, { msgtype: MsgType.Text, body: 'Wrong room, sorry' });
    await carol.sendMessage(roomId, { msgtype: MsgType.Text, body: 'Below the deleted one' });
    await log.getByText('Below the deleted one', { exact: true }).waitFor();
    await carol.redactEvent(roomId, oops);
    await log.getByText('Wrong room, sorry').waitFor({ state: 'detached' });
    const bodies = (await log.locator('.msg .body').allInnerTexts()).map((b) => b.trim());
    assert.equal(bodies.lastIndexOf('Message deleted') + 1, bodies.indexOf('Below the deleted one'), 'the placeholder is where the message was');
    assert.equal(await log.locator('.body[data-placeholder="deleted"]').count(), 2, 'both deleted messages read as placeholders');

    // And after a reload, when the redacted event comes from the server already stripped.
    await alice.page.reload();
    await roomButton(alice.page, 'Other clients').click();
    await log.getByText('Below the deleted one', { exact: true }).waitFor();
    const after = (await log.locator('.msg .body').allInnerTexts()).map((b) => b.trim());
    assert.equal(after.lastIndexOf('Message deleted') + 1, after.indexOf('Below the deleted one'), 'the placeholder is still there after a reload');
  });

  test('an m.room.encrypted event the client cannot decrypt shows "Unable to decrypt this message", never nothing', async () => {
    const log = timeline(alice.page);
    // A megolm event as another client would send it (client-server-api "m.room.encrypted"); the page has no keys for it.
    // The SDK's types list only the events it sends as such (it encrypts on its own), but the call
    // sends any type as given.
    await carol.sendEvent(
      roomId,
      EventType.RoomMessageEncrypted as unknown as EventType.RoomMessage,
      {
        algorithm: 'm.megolm.v1.aes-sha2',
        ciphertext:
          'AwgAEnACgAkLmt6qF84IK++J7UDH2Za1YVchHyprqTqsg2yyOwAtHaZTwyNg37afzg8f3r9IsN9r4RNFg7MaZencUJe4qvELiDiopUjy5wYVDAtqdBzer5bWRD9ldxp1FLgbQvBcjkkywYjCsmsq6+hArLd9oAQZnGKn/qLsK+5uNX3PaWzDRC9wZPQvWYYPCTov3jCwXKTPsLKIiTrcCXDqMvnn8m+T3zF/I2zqxg158tnUwWWIw51UO',
        device_id: 'RJYKSTBOIE',
        sender_key: 'IlRMeOPX2e0MurIyfWEucYBRVOEEUMrOHqn/8mLqMjA',
        session_id: 'X3lUlvLELLYxeTx4yOVu6UDpasGEVO0Jbu+QFnm0cKQ',
      } as never,
    );
    await carol.sendMessage(roomId, { msgtype: MsgType.Text, body: 'Did you get that?' });
    await log.getByText('Did you get that?', { exact: true }).waitFor();
    const placeholder = log.locator('.msg').filter({ hasText: 'Unable to decrypt this message' });
    assert.equal(await placeholder.count(), 1, 'the encrypted event is a visible row');
    assert.equal(await placeholder.locator('.body').getAttribute('data-placeholder'), 'undecryptable', 'shown as a placeholder, not as something said');
    await screenshot(alice.page, 'timeline-edited-deleted-undecryptable-light');
    await assertAccessible(alice.page, 'timeline with edited, deleted and undecryptable messages');
  });

  test('no Content-Security-Policy violation or uncaught error in the window', () => {
    carol.stopClient();
    assert.deepEqual(problems(), []);
  });
});
