// m.direct_to_device (server-server-api.md "Send-to-device messaging"): messages from a user of
// the origin to devices of this server's users; `message_id` makes a retried transaction harmless.
import type { EduHandler } from './edus.ts';
import { isUserOf } from './edu-checks.ts';

export const receiveDirectToDevice: EduHandler = async (s, origin, c) => {
  if (!isUserOf(c.sender, origin)) return `sender ${String(c.sender)} is not a user of the origin`;
  if (typeof c.type !== 'string' || typeof c.message_id !== 'string') return 'type and message_id are required';
  // false: already delivered, which a retried transaction makes normal.
  await s.e2ee.toDevice.receiveRemote(origin, c.message_id, c.sender, c.type, c.messages);
};
