// The composer's markdown (renderer/src/lib/markdown.ts): what a message sends as `body` and, only
// when something is formatted, as `formatted_body` (client-server-api "m.room.message msgtypes").
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatMessage } from '../../renderer/src/lib/markdown.ts';

test('plain text, even over several lines, is sent without HTML', () => {
  assert.deepEqual(formatMessage('hello there'), { body: 'hello there' });
  assert.deepEqual(formatMessage('two\nlines'), { body: 'two\nlines' });
  assert.deepEqual(formatMessage('a paragraph\n\nand another'), { body: 'a paragraph\n\nand another' });
  assert.deepEqual(formatMessage('snake_case_name, a < b, 3 * 4'), { body: 'snake_case_name, a < b, 3 * 4' });
});

test('bold, italics and a link become HTML, without a <p> around a single paragraph; body stays the typed text', () => {
  const text = '**bold** and _it_ and a [link](https://example.org)';
  assert.deepEqual(formatMessage(text), {
    body: text,
    format: 'org.matrix.custom.html',
    formatted_body: '<strong>bold</strong> and <em>it</em> and a <a href="https://example.org">link</a>',
  });
});

test('block markdown keeps its structure, line breaks inside a paragraph become <br />', () => {
  assert.equal(formatMessage('# Title\n\n- one\n- two').formatted_body, '<h1>Title</h1>\n<ul>\n<li>one</li>\n<li>two</li>\n</ul>');
  assert.equal(formatMessage('**a**\nb').formatted_body, '<strong>a</strong><br />b');
  assert.equal(formatMessage('```js\nx < 1\n```').formatted_body, '<pre><code class="language-js">x &lt; 1\n</code></pre>');
});

test('HTML typed in the composer is sent as text, never as markup', () => {
  assert.deepEqual(formatMessage('<b>hi</b>'), { body: '<b>hi</b>' });
  assert.equal(formatMessage('**x** <img src=x onerror=alert(1)>').formatted_body, '<strong>x</strong> &lt;img src=x onerror=alert(1)&gt;');
  assert.equal(formatMessage('*x*\n\n<script>alert(1)</script>').formatted_body, '<p><em>x</em></p>\n&lt;script&gt;alert(1)&lt;/script&gt;');
});

test('links the spec does not allow (javascript:, relative) are sent as their text; a web image becomes a link', () => {
  assert.deepEqual(formatMessage('[click](javascript:alert(1))'), { body: '[click](javascript:alert(1))' });
  assert.deepEqual(formatMessage('[up](../x)'), { body: '[up](../x)' });
  assert.equal(formatMessage('![cat](https://example.org/cat.png)').formatted_body, '<a href="https://example.org/cat.png">cat</a>');
  assert.equal(formatMessage('![cat](mxc://example.org/abc)').formatted_body, '<img src="mxc://example.org/abc" alt="cat" />');
});

test('a picked mention becomes a matrix.to link in the HTML and stays the name in the body', () => {
  const pills = [{ name: 'Bob Smith', userId: '@bob:localhost' }];
  assert.deepEqual(formatMessage('hi Bob Smith, lunch?', pills), {
    body: 'hi Bob Smith, lunch?',
    format: 'org.matrix.custom.html',
    formatted_body: 'hi <a href="https://matrix.to/#/@bob:localhost">Bob Smith</a>, lunch?',
  });
  assert.equal(
    formatMessage('**Bob Smith** and Bob Smith', pills).formatted_body,
    '<strong><a href="https://matrix.to/#/@bob:localhost">Bob Smith</a></strong> and <a href="https://matrix.to/#/@bob:localhost">Bob Smith</a>',
  );
  // A pill whose name was deleted from the text sends nothing.
  assert.deepEqual(formatMessage('never mind', pills), { body: 'never mind' });
  // Not inside code: there it is what was typed.
  assert.equal(formatMessage('`Bob Smith`', pills).formatted_body, '<code>Bob Smith</code>');
});
