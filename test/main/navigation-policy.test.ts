import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isAppPage, navigationPolicy, type NavigationDecision } from '../../main/navigation-policy.ts';

const APP = 'http://127.0.0.1:45123';

describe('navigationPolicy: only the exact app origin stays in the window', () => {
  const table: Array<[string, NavigationDecision, string]> = [
    // same origin
    ['http://127.0.0.1:45123/', 'allow', 'the app root'],
    ['http://127.0.0.1:45123/#/room/!abc:localhost', 'allow', 'a client route'],
    ['http://127.0.0.1:45123/_matrix/media/v3/download/x/y?a=1', 'allow', 'a same-origin path with a query'],
    ['HTTP://127.0.0.1:45123/', 'allow', 'the scheme in capitals'],
    // other origins, http(s): the system browser
    ['https://matrix.org/', 'external', 'another site over https'],
    ['http://example.com/page', 'external', 'another site over http'],
    ['https://127.0.0.1:45123/', 'external', 'the app host and port over https'],
    ['http://127.0.0.1:45124/', 'external', 'the app host on another port'],
    ['http://127.0.0.1/', 'external', 'the app host on the default port'],
    ['http://localhost:45123/', 'external', 'another name for the loopback host'],
    ['http://[::1]:45123/', 'external', 'IPv6 loopback on the app port'],
    ['http://user:pw@evil.example@127.0.0.1:45123/', 'allow', 'userinfo is not the host'],
    ['http://127.0.0.1:45123@evil.example/', 'external', 'the app origin as userinfo'],
    // everything else: refused
    ['file:///etc/passwd', 'deny', 'a local file'],
    ['javascript:alert(1)', 'deny', 'a javascript: URL'],
    ['data:text/html,<script>alert(1)</script>', 'deny', 'a data: URL'],
    ['blob:http://127.0.0.1:45123/0d2f', 'deny', 'a blob: URL, even of the app origin'],
    ['mailto:someone@example.com', 'deny', 'a mailto: link'],
    ['ftp://example.com/file', 'deny', 'ftp'],
    ['chrome://settings', 'deny', 'a browser-internal page'],
    ['about:blank', 'deny', 'about:blank'],
    ['/relative/path', 'deny', 'a relative URL (not absolute, cannot be judged)'],
    ['', 'deny', 'an empty string'],
    ['not a url', 'deny', 'garbage'],
  ];
  for (const [url, expected, what] of table) {
    test(`${what}: ${JSON.stringify(url)} -> ${expected}`, () => {
      assert.equal(navigationPolicy(APP, url), expected);
    });
  }

  test('the app origin may be given as a URL with a path; the default port counts as the same', () => {
    assert.equal(navigationPolicy('http://127.0.0.1:80/some/page', 'http://127.0.0.1/x'), 'allow');
    assert.equal(navigationPolicy('https://hearth.example/', 'https://hearth.example:443/'), 'allow');
  });

  test('an app origin that is not http(s) is a programming error, not a silent allow', () => {
    assert.throws(() => navigationPolicy('file:///app', 'file:///app/index.html'));
  });
});

describe('isAppPage: the login token goes only to the app origin', () => {
  test('the app page is trusted', () => assert.equal(isAppPage(APP, `${APP}/#/login`), true));
  test('another origin is not', () => assert.equal(isAppPage(APP, 'https://evil.example/'), false));
  test('another port is not', () => assert.equal(isAppPage(APP, 'http://127.0.0.1:1/'), false));
  test('a sender without a URL (a destroyed frame) is not', () => assert.equal(isAppPage(APP, undefined), false));
  test('about:blank is not', () => assert.equal(isAppPage(APP, 'about:blank'), false));
});
