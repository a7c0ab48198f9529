// The user directory (users.yaml, POST /user_directory/search): the spec's minimum is what Hearth
// searches, namely users who share a room with the requester and users joined to rooms with a
// `public` join rule or `world_readable` history, matched case-insensitively on user id and
// display name.
import type { Queryable } from '../storage/sqlite.ts';
import { userDirectoryStore, type DirectoryProfileRow } from '../storage/user-directory-store.ts';

export interface DirectoryResult {
  user_id: string;
  display_name?: string;
  avatar_url?: string;
}

export async function searchUserDirectory(
  q: Queryable,
  requester: string,
  term: string,
  limit: number,
): Promise<{ results: DirectoryResult[]; limited: boolean }> {
  const visible = new Set(await userDirectoryStore.usersSharingARoom(q, requester));
  for (const roomId of await openRooms(q)) for (const u of await userDirectoryStore.joinedMembers(q, roomId)) visible.add(u);
  visible.delete(requester);
  const needle = term.trim().toLowerCase();
  const matches = (await userDirectoryStore.profiles(q, [...visible])).filter(
    (p) => p.user_id.toLowerCase().includes(needle) || (p.displayname ?? '').toLowerCase().includes(needle),
  );
  // "Ordered by rank and then whether or not profile info is available": a match at the start of
  // a word ranks above one inside a word.
  matches.sort((a, b) => rank(a, needle) - rank(b, needle) || profileScore(b) - profileScore(a) || (a.user_id < b.user_id ? -1 : 1));
  const results = matches.slice(0, limit).map((p) => {
    const r: DirectoryResult = { user_id: p.user_id };
    if (p.displayname) r.display_name = p.displayname;
    if (p.avatar_url) r.avatar_url = p.avatar_url;
    return r;
  });
  return { results, limited: matches.length > limit };
}

async function openRooms(q: Queryable): Promise<string[]> {
  const open = new Set<string>();
  for (const row of await userDirectoryStore.visibilityStateOfRooms(q)) {
    const content = (JSON.parse(row.json) as { content?: Record<string, unknown> }).content ?? {};
    if (row.type === 'm.room.join_rules' && content.join_rule === 'public') open.add(row.room_id);
    if (row.type === 'm.room.history_visibility' && content.history_visibility === 'world_readable') open.add(row.room_id);
  }
  return [...open];
}

function rank(p: DirectoryProfileRow, needle: string): number {
  const localpart = p.user_id.slice(1).toLowerCase();
  const words = (p.displayname ?? '').toLowerCase().split(/\s+/);
  if (localpart === needle || (p.displayname ?? '').toLowerCase() === needle) return 0;
  if (localpart.startsWith(needle) || words.some((w) => w.startsWith(needle))) return 1;
  return 2;
}

function profileScore(p: DirectoryProfileRow): number {
  return (p.displayname ? 1 : 0) + (p.avatar_url ? 1 : 0);
}
