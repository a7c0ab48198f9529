// When the web client shows an OS notification, and what it says (renderer/src/lib/notify.ts), on
// matrix-js-sdk's own MatrixEvent objects.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MatrixEvent } from 'matrix-js-sdk';
import {
  awaitsDecryption,
  NOTIFICATION_BODY_CHARS,
  NOTIFY_MAX_AGE_MS,
  notificationsEnabled,
  notificationText,
  shouldNotify,
  type Arrival,
} from '../../renderer/src/lib/notify.ts';

const ME = '@alice:localhost';
const names: Record<string, string> = { '@bob:localhost': 'Bob Chen', [ME]: 'Alice Martin' };
const opts = (isDirect: boolean) => ({ me: ME, roomName: 'Garden club', isDirect, nameOf: (id: string) => names[id] ?? id });
const event = (type: string, content: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  new MatrixEvent({ type, content, sender: '@bob:localhost', room_id: '!r:localhost', event_id: '$e', origin_server_ts: 1, ...extra });

test('a notification needs permission and a switch that is not off', () => {
  assert.equal(notificationsEnabled(null, 'granted'), true, 'on by default once permitted');
  assert.equal(notificationsEnabled('on', 'granted'), true);
  assert.equal(notificationsEnabled('off', 'granted'), false);
  assert.equal(notificationsEnabled('on', 'default'), false);
  assert.equal(notificationsEnabled('on', 'denied'), false);
  assert.equal(notificationsEnabled(null, 'unsupported'), false);
});

test('only a new event from someone else that the push rules say notifies, outside the room in view', () => {
  const yes: Arrival = { synced: true, age: 1000, fromMe: false, notify: true, roomInView: false, enabled: true };
  assert.equal(shouldNotify(yes), true);
  assert.equal(shouldNotify({ ...yes, synced: false }), false, 'the first sync is the past');
  assert.equal(shouldNotify({ ...yes, fromMe: true }), false, 'never for my own messages');
  assert.equal(shouldNotify({ ...yes, notify: false }), false, 'a muted room, or a rule that does not notify');
  assert.equal(shouldNotify({ ...yes, roomInView: true }), false, 'the room I am looking at');
  assert.equal(shouldNotify({ ...yes, enabled: false }), false);
  assert.equal(shouldNotify({ ...yes, age: NOTIFY_MAX_AGE_MS }), true);
  assert.equal(shouldNotify({ ...yes, age: NOTIFY_MAX_AGE_MS + 1 }), false, 'history a join or a long absence brings in');
});

test('the title names the sender, and the room unless it is a DM; the body is the text', () => {
  assert.deepEqual(notificationText(event('m.room.message', { msgtype: 'm.text', body: 'the seeds are here' }), opts(false)), {
    title: 'Bob Chen (Garden club)',
    body: 'the seeds are here',
  });
  assert.deepEqual(notificationText(event('m.room.message', { msgtype: 'm.text', body: 'hi' }), opts(true)), { title: 'Bob Chen', body: 'hi' });
  assert.deepEqual(notificationText(event('m.room.message', { msgtype: 'm.emote', body: 'waves' }), opts(true)), {
    title: 'Bob Chen',
    body: '* Bob Chen waves',
  });
});

test('an encrypted message says so; an invite says who to; an edit and an event with no words say nothing', () => {
  assert.deepEqual(notificationText(event('m.room.encrypted', { algorithm: 'm.megolm.v1.aes-sha2', ciphertext: 'x' }), opts(true))?.body, 'Encrypted message');
  const invite = (isDirect: boolean) => notificationText(event('m.room.member', { membership: 'invite' }, { state_key: ME }), opts(isDirect))?.body;
  assert.equal(invite(false), 'Invited you to Garden club');
  assert.equal(invite(true), 'Invited you to chat');
  const edit = event('m.room.message', {
    msgtype: 'm.text',
    body: '* fixed',
    'm.new_content': { msgtype: 'm.text', body: 'fixed' },
    'm.relates_to': { rel_type: 'm.replace', event_id: '$o' },
  });
  assert.equal(notificationText(edit, opts(false)), null);
  assert.equal(notificationText(event('m.reaction', { 'm.relates_to': { rel_type: 'm.annotation', event_id: '$o', key: '👍' } }), opts(false)), null);
});

test('a long message is cut to a preview', () => {
  const body = notificationText(event('m.room.message', { msgtype: 'm.text', body: 'x'.repeat(70_000) }), opts(true))!.body;
  assert.equal(body.length, NOTIFICATION_BODY_CHARS);
  assert.ok(body.endsWith('…'));
});

test('an encrypted event is judged once decrypted, also while the crypto is still loading; as it is only without crypto for good', () => {
  const encrypted = () => event('m.room.encrypted', { algorithm: 'm.megolm.v1.aes-sha2', ciphertext: 'x', sender_key: 'k', session_id: 's' });
  assert.equal(awaitsDecryption(encrypted(), 'loading'), true, 'the crypto decrypts it once attached: the push rules then see the mention, or no mention');
  assert.equal(awaitsDecryption(encrypted(), 'ready'), true);
  assert.equal(awaitsDecryption(encrypted(), 'failed'), false, 'nothing will decrypt it: an "Encrypted message"');
  assert.equal(awaitsDecryption(event('m.room.message', { msgtype: 'm.text', body: 'hi' }), 'loading'), false, 'a plain message is judged at once');
});
