// m.typing (server-server-api.md "Typing Notifications"): "Receiving servers should verify that the
// user is in the room, and is a user belonging to the sending server." And the room's server ACL
// must allow the sending server, or the EDU is ignored (v1.13, "Server Access Control Lists").
import type { EduHandler } from './edus.ts';
import { aclAllowsEdu, isJoined, isUserOf } from './edu-checks.ts';

export const receiveTyping: EduHandler = async (s, origin, c) => {
  if (typeof c.room_id !== 'string' || typeof c.typing !== 'boolean') return 'room_id and typing are required';
  if (!(await aclAllowsEdu(s, c.room_id, origin))) return `${origin} is denied by the server ACL of ${c.room_id}`;
  if (!isUserOf(c.user_id, origin)) return `${String(c.user_id)} is not a user of the origin`;
  if (!(await isJoined(s.db.reader, c.room_id, c.user_id))) return `${c.user_id} is not joined to ${c.room_id}`;
  await s.edus.typing.setRemoteTyping(c.room_id, c.user_id, c.typing);
};
