// Formatted messages both ways (issue #16, part P1): the composer's markdown goes out as
// formatted_body HTML, received HTML is shown through the sanitiser limited to the spec's subset
// (client-server-api "m.room.message msgtypes"), and every text msgtype renders. Alice and Dana
// use the web client in two browser profiles; Bob is a matrix-js-sdk client in this process.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { MatrixClient } from 'matrix-js-sdk';
import { assertAccessible, screenshot, send, timeline, type Window } from './helpers.ts';
import { useFormattingRoom } from './format-room.ts';

describe('formatted messages and msgtypes', () => {
  const room = useFormattingRoom();
  const { problems, bobSees } = room;
  let bob: MatrixClient;
  let roomId: string;
  let alice: Window;
  let dana: Window;
  before(() => {
    ({ bob, roomId, alice, dana } = { bob: room.bob(), roomId: room.roomId(), alice: room.alice(), dana: room.dana() });
  });
  /** Problems already checked: the reports of the hostile payload's blocked handlers. */
  const seenProblems: string[] = [];

  test('markdown typed in the browser arrives as <strong>, <em> and a link in the other browser, and as formatted_body in js-sdk', async () => {
    const text = '**bold** and _it_ and a [link](https://example.org)';
    assert.deepEqual(problems(), []);
    await send(alice.page, text);
    const row = timeline(dana.page).locator('.msg').filter({ hasText: 'bold and it and a link' });
    await row.waitFor();
    const body = row.locator('.body');
    assert.equal(await body.locator('strong').innerText(), 'bold');
    assert.equal(await body.locator('em').innerText(), 'it');
    const link = body.getByRole('link', { name: 'link' });
    assert.equal(await link.getAttribute('href'), 'https://example.org');
    assert.equal(await link.getAttribute('target'), '_blank');
    assert.match((await link.getAttribute('rel')) ?? '', /\bnoopener\b/);
    assert.equal((await body.innerText()).trim(), 'bold and it and a link', 'no markdown syntax left in what is shown');

    const ev = await bobSees(text);
    assert.equal(ev.getContent().format, 'org.matrix.custom.html');
    assert.equal(ev.getContent().formatted_body, '<strong>bold</strong> and <em>it</em> and a <a href="https://example.org">link</a>');

    // Plain text stays plain: no HTML that says nothing more than the body.
    await send(alice.page, 'just words');
    const plain = await bobSees('just words');
    assert.equal(plain.getContent().formatted_body, undefined);
    assert.equal(plain.getContent().format, undefined);
  });

  test('hostile formatted_body from js-sdk renders safely: no script runs, no javascript: link, no iframe, no reply fallback, nesting capped', async () => {
    const nested = '<div>'.repeat(150) + 'deep inside' + '</div>'.repeat(150);
    const hostile = [
      '<mx-reply><blockquote>In reply to: the quoted fallback</blockquote></mx-reply>',
      '<p onclick="window.__pwned = 1">Hostile payload</p>',
      '<script>window.__pwned = 2</script>',
      '<img src="x" onerror="window.__pwned = 3">',
      '<a href="javascript:window.__pwned = 4">click me</a>',
      '<iframe src="https://example.org" srcdoc="<script>parent.__pwned = 5</script>"></iframe>',
      '<span data-mx-color="#c00000" style="font-size: 90px">red text</span>',
      '<span data-mx-color="red;background:url(x)">bad colour</span>',
      '<a href="https://matrix.to/#/@dana:localhost">Dana</a>',
      nested,
    ].join('');
    await bob.sendMessage(roomId, { msgtype: 'm.text', body: 'Hostile payload (plain)', format: 'org.matrix.custom.html', formatted_body: hostile } as never);
    const log = timeline(alice.page);
    const row = log.locator('.msg').filter({ hasText: 'Hostile payload' });
    await row.waitFor();
    const body = row.locator('.body');
    await body.getByText('deep inside').waitFor();
    await body.getByText('click me').waitFor();
    // Handlers would run on render (img onerror) or load (iframe): a later message proves the row has been on screen a while.
    await bob.sendTextMessage(roomId, 'after the payload');
    await log.getByText('after the payload').waitFor();
    assert.equal(await alice.page.evaluate(() => (window as { __pwned?: unknown }).__pwned), undefined, 'no handler or script ran');
    assert.equal(await log.locator('script, iframe, img, [onclick], [onerror], [srcdoc]').count(), 0);
    assert.equal(await log.locator('a[href^="javascript:" i]').count(), 0, 'no javascript: link');
    assert.equal(await body.locator('a', { hasText: 'click me' }).count(), 0, 'the bad link is only its text');
    assert.equal(await log.getByText('the quoted fallback').count(), 0, 'the mx-reply fallback is gone');
    const depth = await body.evaluate((el) => {
      let max = 0;
      for (const d of Array.from(el.querySelectorAll('*'))) {
        let n = 0;
        for (let p: Element | null = d; p && p !== el; p = p.parentElement) n++;
        max = Math.max(max, n);
      }
      return max;
    });
    assert.ok(depth <= 102, `nesting is capped near the spec's 100 levels (found ${depth})`);
    // The colour is applied through CSSOM (the page's CSP refuses style attributes from markup); the size is not.
    const red = body.getByText('red text');
    assert.equal(await red.evaluate((el) => getComputedStyle(el).color), 'rgb(192, 0, 0)');
    assert.notEqual(await red.evaluate((el) => getComputedStyle(el).fontSize), '90px');
    assert.equal(await body.getByText('bad colour').evaluate((el) => (el as HTMLElement).style.cssText), '');
    // A link to a user is a pill, opening in a new window.
    const pill = body.locator('a.pill');
    assert.equal(await pill.innerText(), 'Dana Scully');
    assert.equal(await pill.getAttribute('rel'), 'noopener noreferrer');
    await screenshot(alice.page, 'format-hostile-light');
    // Parsing the payload (DOMPurify, in an inert document) makes Chromium report the inline
    // handlers and style it refuses, three per window that shows it: the CSP blocking what the
    // sanitiser then removes. Nothing else may be reported.
    const blocked = /^CSP: (Executing inline event handler|Applying inline style) violates/;
    const reported = problems().filter((p) => !seenProblems.includes(p));
    assert.ok(
      reported.every((p) => blocked.test(p)),
      reported.join('\n'),
    );
    seenProblems.push(...reported);
  });

  test('m.notice, m.emote, m.location, a spoiler and an unknown msgtype from js-sdk each render', async () => {
    await bob.sendMessage(roomId, { msgtype: 'm.notice', body: 'Build 42 passed' } as never);
    await bob.sendMessage(roomId, { msgtype: 'm.emote', body: 'waves hard', format: 'org.matrix.custom.html', formatted_body: 'waves <em>hard</em>' } as never);
    await bob.sendMessage(roomId, { msgtype: 'm.location', body: 'Big Ben, London', geo_uri: 'geo:51.5007,-0.1246;u=35' } as never);
    await bob.sendMessage(roomId, {
      msgtype: 'm.text',
      body: 'The butler [Spoiler for plot]',
      format: 'org.matrix.custom.html',
      formatted_body: 'The butler <span data-mx-spoiler="plot">did it</span>',
    } as never);
    await bob.sendMessage(roomId, { msgtype: 'org.example.poll', body: 'Poll: pizza or sushi?' } as never);
    const log = timeline(dana.page);
    await log.getByText('Poll: pizza or sushi?').waitFor();

    const notice = log.locator('.body[data-msgtype="m.notice"]');
    assert.equal((await notice.innerText()).trim(), 'Build 42 passed');
    assert.match((await notice.getAttribute('class')) ?? '', /\bnotice\b/, 'a notice is styled apart (muted), as bots send them');

    const emote = log.locator('.body[data-msgtype="m.emote"]');
    assert.equal((await emote.innerText()).trim(), '* Bob Chen waves hard');
    assert.equal(await emote.locator('em').innerText(), 'hard');

    const location = log.locator('.body[data-msgtype="m.location"]');
    assert.match(await location.innerText(), /^Big Ben, London Open map/);
    assert.equal(
      await location.getByRole('link', { name: 'Open map' }).getAttribute('href'),
      'https://www.openstreetmap.org/?mlat=51.5007&mlon=-0.1246#map=16/51.5007/-0.1246',
    );

    const unknown = log.locator('.body[data-msgtype="org.example.poll"]');
    assert.equal((await unknown.innerText()).trim(), 'Poll: pizza or sushi?');
    // A spoiler (instant_messaging.md "Spoiler messages") hides its text until shown.
    const spoiler = log.getByRole('button', { name: 'Spoiler: plot. Show it' });
    assert.equal(await log.getByText('did it').isVisible(), false);
    await screenshot(dana.page, 'format-msgtypes-light');
    await assertAccessible(dana.page, 'timeline with formatted messages and msgtypes');
    await spoiler.focus();
    await dana.page.keyboard.press('Enter');
    await log.getByText('did it').waitFor({ state: 'visible' });
    assert.equal(await spoiler.count(), 0, 'once shown, it is text, not a button');

    // The same timeline in dark and at 390 px (screenshots only: a colour chosen by the sender
    // cannot have enough contrast on both themes, so axe runs on the light one).
    await dana.page.emulateMedia({ colorScheme: 'dark' });
    await screenshot(dana.page, 'format-msgtypes-dark');
    await dana.page.setViewportSize({ width: 390, height: 844 });
    await screenshot(dana.page, 'format-msgtypes-390');
    await dana.page.setViewportSize({ width: 1280, height: 800 });
    await dana.page.emulateMedia({ colorScheme: 'light' });
  });

  test('no Content-Security-Policy violation or uncaught error in any window', () => {
    assert.deepEqual(
      problems().filter((p) => !seenProblems.includes(p)),
      [],
    );
  });
});
