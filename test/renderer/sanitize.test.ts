// Received HTML (renderer/src/lib/sanitize.ts over lib/html-policy.ts): the spec's subset and
// nothing else (client-server-api, instant_messaging.md "m.room.message msgtypes"). The policy's
// pure rules run here in Node; the sanitiser itself needs a real DOM, so it runs in Debian's
// Chromium, from its source files (types stripped), with the real DOMPurify, under the web
// client's own Content-Security-Policy.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { codeClass, isAllowedAttribute, isAllowedHref, isMxcUri, mxColor, pillUserId } from '../../renderer/src/lib/html-policy.ts';
import { bodyContent, geoMapUrl } from '../../renderer/src/lib/message-body.ts';
import { CONTENT_SECURITY_POLICY } from '../../homeserver/http/static-files.ts';
import { CHROMIUM, launchChromium } from '../e2e/helpers.ts';

test('links: absolute http, https, ftp, mailto and magnet only', () => {
  for (const ok of ['https://example.org', 'http://x.test/a?b#c', 'ftp://files.test/f', 'mailto:a@b.test', 'magnet:?xt=urn:btih:abc', 'HTTPS://EXAMPLE.ORG'])
    assert.ok(isAllowedHref(ok), ok);
  for (const bad of ['javascript:alert(1)', ' JavaScript:alert(1)', 'data:text/html,x', 'vbscript:x', '/relative', '../up', '//example.org', 'mxc://a/b', ''])
    assert.ok(!isAllowedHref(bad), bad);
});

test('img src: an mxc:// URI only; colours: # and six hex digits only; code classes: language-* only', () => {
  assert.ok(isMxcUri('mxc://example.org/AbC_12-x'));
  for (const bad of ['https://example.org/a.png', 'mxc://example.org', 'mxc://example.org/a/b', 'mxc://ex ample.org/a', 'x']) assert.ok(!isMxcUri(bad), bad);
  assert.equal(mxColor('#FF0000'), '#ff0000');
  for (const bad of ['red', '#f00', '#ff000000', 'red;background:url(x)', '#ff0000;x', '', null]) assert.equal(mxColor(bad), null, String(bad));
  assert.equal(codeClass('language-js'), 'language-js');
  assert.equal(codeClass('hljs language-ts evil'), 'language-ts');
  assert.equal(codeClass('hljs'), null);
});

test('attributes: only those the spec lists for each tag, with valid values', () => {
  assert.ok(isAllowedAttribute('a', 'href', 'https://example.org'));
  assert.ok(!isAllowedAttribute('a', 'href', 'javascript:x'));
  assert.ok(!isAllowedAttribute('a', 'onclick', 'x'));
  assert.ok(!isAllowedAttribute('p', 'style', 'color: red'));
  assert.ok(!isAllowedAttribute('div', 'class', 'x'));
  assert.ok(isAllowedAttribute('span', 'data-mx-color', '#123456'));
  assert.ok(!isAllowedAttribute('span', 'data-mx-color', 'blue'));
  assert.ok(!isAllowedAttribute('p', 'data-mx-color', '#123456'));
  assert.ok(isAllowedAttribute('ol', 'start', '3'));
  assert.ok(!isAllowedAttribute('ol', 'start', '3; x'));
  assert.ok(isAllowedAttribute('img', 'src', 'mxc://a.test/b'));
  assert.ok(!isAllowedAttribute('img', 'src', 'https://a.test/b.png'));
});

test('pills: a matrix.to link to a user, and nothing else', () => {
  assert.equal(pillUserId('https://matrix.to/#/@bob:localhost'), '@bob:localhost');
  assert.equal(pillUserId('https://matrix.to/#/%40bob%3Aexample.org'), '@bob:example.org');
  assert.equal(pillUserId('https://matrix.to/#/!room:localhost'), null);
  assert.equal(pillUserId('https://evil.test/#/@bob:localhost'), null);
  assert.equal(pillUserId('https://matrix.to/#/@bob'), null);
});

test('msgtypes: HTML is read only with the html format on text types; a location gets a map link', () => {
  assert.equal(bodyContent({ msgtype: 'm.text', body: 'x', format: 'org.matrix.custom.html', formatted_body: '<b>x</b>' }).html, '<b>x</b>');
  assert.equal(bodyContent({ msgtype: 'm.text', body: 'x', format: 'something.else', formatted_body: '<b>x</b>' }).html, null);
  assert.equal(bodyContent({ msgtype: 'org.example', body: 'x', format: 'org.matrix.custom.html', formatted_body: '<b>x</b>' }).html, null);
  assert.equal(
    bodyContent({ msgtype: 'm.location', body: 'here', geo_uri: 'geo:1.5,-2' }).mapUrl,
    'https://www.openstreetmap.org/?mlat=1.5&mlon=-2#map=16/1.5/-2',
  );
  assert.equal(geoMapUrl('geo:37.786971,-122.399677;u=35'), 'https://www.openstreetmap.org/?mlat=37.786971&mlon=-122.399677#map=16/37.786971/-122.399677');
  for (const bad of ['geo:91,0', 'geo:0,181', 'javascript:alert(1)', 'geo:a,b', 'https://example.org']) assert.equal(geoMapUrl(bad), null, bad);
});

// --- The sanitiser, in Chromium ----------------------------------------------------------------

const LIB = fileURLToPath(new URL('../../renderer/src/lib/', import.meta.url));
const DOMPURIFY = fileURLToPath(new URL('../../node_modules/dompurify/dist/purify.es.mjs', import.meta.url));
const ORIGIN = 'http://sanitize.test';

/** A module of ours as the browser can load it: types stripped, bare imports pointed at our routes. */
function moduleSource(file: string): string {
  return stripTypeScriptTypes(readFileSync(`${LIB}${file}`, 'utf8')).replace(/from 'dompurify'/g, "from '/dompurify.js'");
}

describe('sanitizeHtml in Chromium, under the client CSP', { skip: !existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM}` }, () => {
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  before(async () => {
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('pageerror', (err) => problems.push(err.message));
    await page.route(`${ORIGIN}/**`, (route) => {
      const path = new URL(route.request().url()).pathname;
      const js = (body: string) => route.fulfill({ contentType: 'text/javascript', body });
      if (path === '/')
        return route.fulfill({
          contentType: 'text/html',
          headers: { 'content-security-policy': CONTENT_SECURITY_POLICY },
          body: '<!doctype html><title>t</title><div id=out></div>',
        });
      if (path === '/dompurify.js') return js(readFileSync(DOMPURIFY, 'utf8'));
      if (/^\/[a-z-]+\.ts$/.test(path)) return js(moduleSource(path.slice(1)));
      return route.fulfill({ status: 404, body: '' });
    });
    await page.goto(`${ORIGIN}/`);
  });
  after(() => browser?.close());

  /** The sanitised HTML as markup, and each element's inline style (set through CSSOM). */
  const sanitize = (html: string) =>
    page.evaluate(async (html) => {
      const { sanitizeHtml } = await import('/sanitize.ts' as string);
      const out = document.getElementById('out')!;
      out.replaceChildren(sanitizeHtml(html, { pillName: (id: string) => (id === '@bob:localhost' ? 'Bob Chen' : null) }));
      return out.innerHTML;
    }, html);

  const cases: [string, string, string][] = [
    [
      'the spec subset passes as it is',
      '<p><strong>b</strong> <em>i</em> <del>d</del> <code>c</code></p><ul><li>x</li></ul><ol start="3"><li>y</li></ol>',
      '<p><strong>b</strong> <em>i</em> <del>d</del> <code>c</code></p><ul><li>x</li></ul><ol start="3"><li>y</li></ol>',
    ],
    [
      'script, style, iframe, object and form go with their content',
      '<script>alert(1)</script><style>*{}</style><iframe src="https://x.test"></iframe><object data="x"></object>ok',
      'ok',
    ],
    ['event handlers and style attributes go', '<p onclick="alert(1)" style="font-size:90px" class="x" id="y">t</p>', '<p>t</p>'],
    ['an unknown tag goes, its text stays', '<marquee>moving</marquee><custom-el>x</custom-el>', 'movingx'],
    ['a javascript: or relative link is only its text', '<a href="javascript:alert(1)">a</a> <a href="/x">b</a> <a href=" JAVASCRIPT:alert(1)">c</a>', 'a b c'],
    [
      'a link opens in a new window, without a handle on this one',
      '<a href="https://example.org" target="_self">e</a>',
      '<a href="https://example.org" target="_blank" rel="noopener noreferrer">e</a>',
    ],
    [
      'a link to a user is a pill with their name',
      '<a href="https://matrix.to/#/@bob:localhost">bob</a>',
      '<a href="https://matrix.to/#/@bob:localhost" class="pill" data-user-id="@bob:localhost" target="_blank" rel="noopener noreferrer">Bob Chen</a>',
    ],
    [
      'the rich-reply fallback goes with its content',
      '<mx-reply><blockquote><a href="https://matrix.to/#/!r:x/$e">In reply to</a> quoted</blockquote></mx-reply>answer',
      'answer',
    ],
    [
      'an image, even mxc, shows as its alt text (no unauthenticated media fetch)',
      '<img src="mxc://a.test/b" alt="cat"><img src="https://x.test/t.png" onerror="alert(1)">',
      '<span class="img-alt">[cat]</span><span class="img-alt">[image]</span>',
    ],
    [
      'colours become CSSOM styles; a bad colour none',
      '<span data-mx-color="#ff0000" data-mx-bg-color="#00ff00">c</span><font color="#0000ff">f</font><span data-mx-color="red">n</span>',
      '<span data-mx-color="#ff0000" data-mx-bg-color="#00ff00" style="color: rgb(255, 0, 0); background-color: rgb(0, 255, 0);">c</span><font color="#0000ff" style="color: rgb(0, 0, 255);">f</font><span>n</span>',
    ],
    [
      'code keeps only language-* classes',
      '<pre><code class="language-js hljs">x</code></pre><code class="evil">y</code>',
      '<pre><code class="language-js">x</code></pre><code>y</code>',
    ],
    [
      'a spoiler is a button that hides its text; other data attributes go',
      '<span data-mx-spoiler="plot" data-foo="x">s</span>',
      '<span data-mx-spoiler="plot" class="spoiler" role="button" tabindex="0" aria-label="Spoiler: plot. Show it" title="Spoiler: plot"><span class="spoiler-text">s</span></span>',
    ],
    ['svg and math are not in the subset', '<svg><script>alert(1)</script><a href="javascript:alert(1)">s</a></svg><math><mi>x</mi></math>', ''],
  ];
  for (const [name, input, expected] of cases) {
    test(name, async () => {
      assert.equal(await sanitize(input), expected);
    });
  }

  test('nesting is capped at 100 levels: deeper elements become their text', async () => {
    const html = await sanitize('<div>'.repeat(120) + '<b>deep</b>' + '</div>'.repeat(120));
    assert.equal((html.match(/<div>/g) ?? []).length, 100);
    assert.ok(html.includes('<div>deep</div>') || html.includes('>deep<'), 'the text is kept');
    assert.ok(!html.includes('<b>'), 'the element past the limit is flattened');
  });

  test('a spoiler shows its text on a click or on Enter, not on other keys', async () => {
    const [clicked, afterOtherKey, entered] = await page.evaluate(async () => {
      const { sanitizeHtml, revealSpoiler } = await import('/sanitize.ts' as string);
      const out = document.createElement('div');
      document.body.append(out);
      out.replaceChildren(sanitizeHtml('<span data-mx-spoiler>a</span><span data-mx-spoiler="">b</span>'));
      out.addEventListener('click', revealSpoiler);
      out.addEventListener('keydown', revealSpoiler);
      const [a, b] = Array.from(out.querySelectorAll('.spoiler'));
      a!.querySelector('.spoiler-text')!.dispatchEvent(new MouseEvent('click', { bubbles: true }));
      b!.dispatchEvent(new KeyboardEvent('keydown', { key: 'x', bubbles: true }));
      const afterOtherKey = b!.outerHTML;
      b!.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
      out.remove();
      return [a!.outerHTML, afterOtherKey, b!.outerHTML];
    });
    assert.equal(clicked, '<span data-mx-spoiler="" class="spoiler revealed" title="Spoiler"><span class="spoiler-text">a</span></span>');
    assert.match(afterOtherKey, /^<span data-mx-spoiler="" class="spoiler" role="button" tabindex="0" aria-label="Spoiler. Show it"/);
    assert.match(entered, /class="spoiler revealed"/);
  });

  test('nothing ran and the page saw no error', async () => {
    await sanitize('<img src=x onerror="window.__ran=1"><svg onload="window.__ran=2"></svg><details open ontoggle="window.__ran=3">d</details>');
    await page.waitForTimeout(200);
    assert.equal(await page.evaluate(() => (window as { __ran?: unknown }).__ran), undefined);
    assert.deepEqual(problems, []);
  });
});
