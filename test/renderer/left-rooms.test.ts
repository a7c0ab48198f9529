// Which left rooms the room list keeps under "Historical" and what it says about each
// (renderer/src/lib/left-rooms.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHistorical, leftNotice } from '../../renderer/src/lib/left-rooms.ts';

const me = '@bob:localhost';
const nameOf = (id: string) => (id === '@alice:localhost' ? 'Alice' : id);

test('a room the user was in and left, was removed or banned from is history; a declined or withdrawn invite is not', () => {
  assert.equal(isHistorical({ membership: 'leave', sender: me, prevMembership: 'join' }), true);
  assert.equal(isHistorical({ membership: 'leave', sender: '@alice:localhost', prevMembership: 'join' }), true);
  assert.equal(isHistorical({ membership: 'ban', sender: '@alice:localhost', prevMembership: 'join' }), true);
  assert.equal(isHistorical({ membership: 'leave', sender: me, prevMembership: 'invite' }), false, 'declined invite');
  assert.equal(isHistorical({ membership: 'leave', sender: '@alice:localhost', prevMembership: 'invite' }), false, 'withdrawn invite');
  assert.equal(isHistorical({ membership: 'join', sender: me }), false);
  assert.equal(isHistorical(null), false);
});

test('the notice says who removed or banned the user and why, on one bounded line', () => {
  assert.equal(leftNotice({ membership: 'leave', sender: me }, me, nameOf), 'You left');
  assert.equal(leftNotice({ membership: 'leave', sender: '@alice:localhost', reason: 'off\ntopic' }, me, nameOf), 'Removed by Alice: off topic');
  assert.equal(leftNotice({ membership: 'ban', sender: '@alice:localhost', reason: 42 }, me, nameOf), 'Banned by Alice');
  const long = leftNotice({ membership: 'ban', sender: '@alice:localhost', reason: 'x'.repeat(5000) }, me, nameOf);
  assert.ok(long.length < 150 && long.endsWith('…'));
});
