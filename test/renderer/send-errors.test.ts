// What the composer says when a send fails (renderer/src/lib/errors.ts, context 'send'): the
// reason in words a person can act on, for the errors a message send can meet.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeError } from '../../renderer/src/lib/errors.ts';

const matrixError = (httpStatus: number, errcode: string, error: string, extra: Record<string, unknown> = {}) => ({
  httpStatus,
  errcode,
  data: { errcode, error, ...extra },
});

test('a too-large message is told to be shortened, with the server words kept as detail', () => {
  const shown = describeError(matrixError(413, 'M_TOO_LARGE', 'Event is larger than 65536 bytes'), 'send');
  assert.match(shown.message, /too large to send\. Shorten it/);
  assert.equal(shown.detail, 'Event is larger than 65536 bytes (M_TOO_LARGE)');
});

test('a 413 from a proxy without a Matrix body still says too large', () => {
  assert.match(describeError({ httpStatus: 413, name: 'HTTPError', message: 'Payload Too Large' }, 'send').message, /too large to send/);
});

test('rate limiting says how long to wait; a refusal says the room does not let the user send', () => {
  assert.match(
    describeError(matrixError(429, 'M_LIMIT_EXCEEDED', 'Too many requests', { retry_after_ms: 2500 }), 'send').message,
    /sending too fast\. Wait 3 s/,
  );
  assert.match(describeError(matrixError(403, 'M_FORBIDDEN', 'You cannot send here'), 'send').message, /can't send messages in this room/);
});

test("an error the client has no words for shows the server's words once, with the code as detail", () => {
  // Seen in the invite dialog: "Cannot reach elsewhere.example Cannot reach elsewhere.example (M_UNKNOWN)".
  const shown = describeError(matrixError(502, 'M_UNKNOWN', 'Cannot reach elsewhere.example'), 'invite');
  assert.deepEqual(shown, { message: 'Cannot reach elsewhere.example', detail: '(M_UNKNOWN)' });
  assert.deepEqual(describeError({ httpStatus: 500, errcode: 'M_UNKNOWN', data: { errcode: 'M_UNKNOWN' } }), {
    message: 'Something went wrong.',
    detail: '(M_UNKNOWN)',
  });
});
