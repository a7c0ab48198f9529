// m.receipt (server-server-api.md "Receipts"): room id -> m.read -> user id -> { event_ids, data }.
// Only the receipts listed are updated; only public read receipts cross servers (m.read.private
// never leaves its server), and only for users of the origin who are joined to the room. All of a
// room's receipts are ignored when its server ACL denies the origin (v1.13, "Server Access Control
// Lists"); the other rooms' receipts of the same EDU still apply.
import type { EduHandler } from './edus.ts';
import { isRecord } from '../../protocol/e2e-keys.ts';
import { aclAllowsEdu, isJoined, isUserOf } from './edu-checks.ts';

export const receiveReceipts: EduHandler = async (s, origin, c) => {
  const dropped: string[] = [];
  for (const [roomId, byType] of Object.entries(c)) {
    if (!isRecord(byType) || !isRecord(byType['m.read'])) continue;
    if (!(await aclAllowsEdu(s, roomId, origin))) {
      dropped.push(`${origin} is denied by the server ACL of ${roomId}`);
      continue;
    }
    for (const [userId, receipt] of Object.entries(byType['m.read'])) {
      if (!isUserOf(userId, origin)) {
        dropped.push(`${userId} is not a user of the origin`);
        continue;
      }
      if (!isRecord(receipt) || !Array.isArray(receipt.event_ids) || typeof receipt.event_ids[0] !== 'string') {
        dropped.push(`the receipt of ${userId} has no event_ids`);
        continue;
      }
      const data = isRecord(receipt.data) ? receipt.data : {};
      const ts = typeof data.ts === 'number' && Number.isFinite(data.ts) ? data.ts : Date.now();
      const threadId = typeof data.thread_id === 'string' ? data.thread_id : undefined;
      if (!(await isJoined(s.db.reader, roomId, userId))) {
        dropped.push(`${userId} is not joined to ${roomId}`);
        continue;
      }
      // "event_ids": the spec allows exactly one.
      await s.edus.receipts.setRemoteReceipt(roomId, userId, 'm.read', receipt.event_ids[0], threadId, ts);
    }
  }
  if (dropped.length > 0) return dropped.join('; ');
};
