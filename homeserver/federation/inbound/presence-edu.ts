// m.presence (server-server-api.md "Presence"): `push`, a list of presence updates for users of
// the origin. Updates about users no local user can see are not kept (PresenceService decides).
import type { EduHandler } from './edus.ts';
import { isRecord } from '../../protocol/e2e-keys.ts';
import { isUserOf } from './edu-checks.ts';
import { MAX_STATUS_MSG_BYTES } from '../../edus/presence.ts';

export const receivePresence: EduHandler = async (s, origin, c) => {
  if (!Array.isArray(c.push)) return "'push' must be an array";
  const dropped: string[] = [];
  for (const p of c.push) {
    if (!isRecord(p) || !isUserOf(p.user_id, origin)) {
      dropped.push('an update for a user not of the origin');
      continue;
    }
    if (typeof p.presence !== 'string' || typeof p.last_active_ago !== 'number') {
      dropped.push(`the update for ${p.user_id} lacks presence or last_active_ago`);
      continue;
    }
    const statusMsg = typeof p.status_msg === 'string' && Buffer.byteLength(p.status_msg) <= MAX_STATUS_MSG_BYTES ? p.status_msg : null;
    await s.edus.presence.setRemotePresence(p.user_id, p.presence, statusMsg, p.last_active_ago);
  }
  if (dropped.length > 0) return dropped.join('; ');
};
