// The typing line's words and when the composer tells the server its user is typing
// (renderer/src/lib/typing.ts; client-server-api "Typing Notifications"). Time is Node's mock clock.
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { TYPING_IDLE_MS, TYPING_RENEW_MS, TYPING_SERVER_TIMEOUT_MS, TypingNotifier, typingLine } from '../../renderer/src/lib/typing.ts';

test('the typing line names one or two people and counts more as several', () => {
  assert.equal(typingLine([]), null);
  assert.equal(typingLine(['Bob']), 'Bob is typing…');
  assert.equal(typingLine(['Bob', 'Carol']), 'Bob and Carol are typing…');
  assert.equal(typingLine(['Bob', 'Carol', 'Dan']), 'Several people are typing…');
});

function notifier() {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const sent: [string, boolean, number][] = [];
  const n = new TypingNotifier(
    async (roomId, typing, timeout) => void sent.push([roomId, typing, timeout]),
    () => Date.now(),
  );
  return { n, sent };
}

test('keystrokes send typing once with the server timeout, and a cleared text stops it', (t) => {
  t.after(() => mock.timers.reset());
  const { n, sent } = notifier();
  n.input('!a', 'H');
  n.input('!a', 'He');
  n.input('!a', 'Hello');
  assert.deepEqual(sent, [['!a', true, TYPING_SERVER_TIMEOUT_MS]]);
  n.input('!a', '  ');
  assert.deepEqual(sent.at(-1), ['!a', false, 0]);
  n.stop();
  assert.equal(sent.length, 2, 'no second stop once stopped');
});

test('typing is renewed while it goes on, and stops after an idle pause', (t) => {
  t.after(() => mock.timers.reset());
  const { n, sent } = notifier();
  n.input('!a', 'a');
  for (let i = 0; i < 5; i++) {
    mock.timers.tick(TYPING_IDLE_MS / 2);
    n.input('!a', 'a'.repeat(i + 2));
  }
  assert.deepEqual(
    sent.map((s) => s[1]),
    [true, true],
    `renewed once after ${TYPING_RENEW_MS} ms`,
  );
  mock.timers.tick(TYPING_IDLE_MS);
  assert.deepEqual(sent.at(-1), ['!a', false, 0]);
});

test('moving to another room stops typing in the first', (t) => {
  t.after(() => mock.timers.reset());
  const { n, sent } = notifier();
  n.input('!a', 'draft');
  n.input('!b', 'other');
  assert.deepEqual(sent, [
    ['!a', true, TYPING_SERVER_TIMEOUT_MS],
    ['!a', false, 0],
    ['!b', true, TYPING_SERVER_TIMEOUT_MS],
  ]);
});
