// The typing line (client-server-api "Typing Notifications"): Alice and Bob in two browser
// profiles, and Carol on a matrix-js-sdk client in this process (a client nobody here wrote).
// What one types shows to the others above their composer, never to themself, and goes on send.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient, type MatrixClient } from 'matrix-js-sdk';
import { fetchFn, quietLogger, registerWithSdk, startSyncing, waitFor } from '../helpers/sdk.ts';
import { api, assertAccessible, registerOverHttp, roomButton, screenshot, signInInUi, timeline, useHearth, type Window } from './helpers.ts';

describe('typing line', () => {
  const { hearth, open, problems } = useHearth();
  let alice: Window;
  let bob: Window;
  let carol: MatrixClient;
  let roomId: string;

  const typingLine = (w: Window) => w.page.locator('.typing');
  const carolSeesTyping = (userId: string) => carol.getRoom(roomId)?.getMember(userId)?.typing === true;

  before(async () => {
    const hs = hearth();
    const a = await registerOverHttp(hs, 'alice');
    await api(hs, a, 'PUT', '/profile/@alice:localhost/displayname', { displayname: 'Alice Martin' });
    const b = await registerOverHttp(hs, 'bob');
    await api(hs, b, 'PUT', '/profile/@bob:localhost/displayname', { displayname: 'Bob Chen' });
    carol = createClient({ baseUrl: hs.url, ...(await registerWithSdk(hs, 'carol')), fetchFn, logger: quietLogger });
    await carol.setDisplayName('Carol Diaz');
    await startSyncing(carol);
    ({ room_id: roomId } = await carol.createRoom({ name: 'Standup', invite: ['@alice:localhost', '@bob:localhost'] }));
    for (const u of [a, b]) await api(hs, u, 'POST', `/join/${encodeURIComponent(roomId)}`, {});
    await waitFor('Carol to see both join', () => carol.getRoom(roomId)?.getJoinedMemberCount() === 3);
    alice = await open();
    await signInInUi(alice.page, 'alice');
    bob = await open();
    await signInInUi(bob.page, 'bob');
    for (const w of [alice, bob]) {
      await roomButton(w.page, 'Standup').click();
      await w.page.getByRole('heading', { name: 'Standup', level: 1 }).waitFor();
    }
  });

  after(() => carol?.stopClient());

  test('Alice typing shows "Alice Martin is typing…" to Bob and reaches js-sdk as m.typing, not to herself', async () => {
    await alice.page.locator('#composer-input').fill('Yesterday I');
    await typingLine(bob).filter({ hasText: 'Alice Martin is typing…' }).waitFor();
    await waitFor("Carol's client to see Alice typing (m.typing)", () => carolSeesTyping('@alice:localhost'));
    assert.equal(await typingLine(alice).innerText(), '', 'nobody is shown their own typing');
    // The line has its own row above the composer: it covers neither the composer nor the timeline.
    const line = (await typingLine(bob).boundingBox())!;
    const composer = (await bob.page.locator('form.composer').boundingBox())!;
    const log = (await timeline(bob.page).boundingBox())!;
    assert.ok(line.y + line.height <= composer.y, `the typing line (bottom ${line.y + line.height}) ends above the composer (top ${composer.y})`);
    assert.ok(log.y + log.height <= line.y, `the timeline (bottom ${log.y + log.height}) ends above the typing line (top ${line.y})`);
    await screenshot(bob.page, 'typing-line-light');
    await assertAccessible(bob.page, 'room with someone typing');
  });

  test('when Alice sends, her typing line goes for Bob and for the js-sdk client', async () => {
    const composer = alice.page.locator('#composer-input');
    await composer.fill('Yesterday I shipped the typing line');
    await typingLine(bob).filter({ hasText: 'Alice Martin is typing…' }).waitFor();
    // The stop comes from sending, not from the idle pause: it is sent before the message itself.
    const requests: string[] = [];
    alice.page.on('request', (r) => {
      if (r.method() !== 'PUT') return;
      if (r.url().includes('/typing/')) requests.push(`typing ${(JSON.parse(r.postData() ?? '{}') as { typing?: boolean }).typing}`);
      else if (r.url().includes('/send/m.room.message/')) requests.push('send');
    });
    await composer.press('Enter');
    await timeline(bob.page).getByText('Yesterday I shipped the typing line', { exact: true }).waitFor();
    await typingLine(bob).filter({ hasText: 'typing' }).waitFor({ state: 'detached' });
    await waitFor("Carol's client to see Alice stop typing", () => !carolSeesTyping('@alice:localhost'));
    assert.deepEqual(requests.slice(0, 2), ['typing false', 'send']);
  });

  test('a js-sdk user typing shows in the browser, with a second typist as "X and Y are typing…"', async () => {
    await carol.sendTyping(roomId, true, 30_000);
    await typingLine(alice).filter({ hasText: 'Carol Diaz is typing…' }).waitFor();
    await typingLine(bob).filter({ hasText: 'Carol Diaz is typing…' }).waitFor();
    await bob.page.locator('#composer-input').fill('Me too');
    await typingLine(alice)
      .filter({ hasText: /^(Carol Diaz and Bob Chen|Bob Chen and Carol Diaz) are typing…$/ })
      .waitFor();
    // Clearing the text stops it, as sending does.
    await bob.page.locator('#composer-input').fill('');
    await typingLine(alice)
      .filter({ hasText: /^Carol Diaz is typing…$/ })
      .waitFor();
    await carol.sendTyping(roomId, false, 0);
    await typingLine(alice).filter({ hasText: 'typing' }).waitFor({ state: 'detached' });
  });

  test('no page error or CSP violation', () => {
    assert.deepEqual(problems(), []);
  });
});
