// The few Client-Server API calls the bench needs, over the keep-alive client.
import type { HttpClient } from './http.ts';

const API = '/_matrix/client/v3';

export interface BenchUser {
  userId: string;
  token: string;
}

/** Registers through the real UIA flow (m.login.dummy), as a client would. */
export async function register(c: HttpClient, username: string): Promise<BenchUser> {
  const password = 'bench password not secret';
  const first = await c.request('POST', `${API}/register`, { username, password });
  const session = first.body?.session as string | undefined;
  const body = await c.ok('POST', `${API}/register`, { username, password, auth: { type: 'm.login.dummy', session } });
  return { userId: body.user_id, token: body.access_token };
}

export async function createPublicRoom(c: HttpClient, user: BenchUser, name: string): Promise<string> {
  const body = await c.ok('POST', `${API}/createRoom`, { preset: 'public_chat', name }, user.token);
  return body.room_id as string;
}

export async function join(c: HttpClient, user: BenchUser, roomId: string): Promise<void> {
  await c.ok('POST', `${API}/join/${encodeURIComponent(roomId)}`, {}, user.token);
}

export function sendPath(roomId: string, txnId: string): string {
  return `${API}/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${encodeURIComponent(txnId)}`;
}

export async function sendText(c: HttpClient, user: BenchUser, roomId: string, txnId: string, body: string): Promise<string> {
  const res = await c.ok('PUT', sendPath(roomId, txnId), { msgtype: 'm.text', body }, user.token);
  return res.event_id as string;
}

export interface SyncResult {
  nextBatch: string;
  /** Timeline events of the joined rooms, as the server returned them. */
  events: Array<{ event_id: string; type: string; content?: { body?: unknown } }>;
}

export async function sync(c: HttpClient, user: BenchUser, since?: string, timeoutMs = 0): Promise<SyncResult> {
  const q = new URLSearchParams({ timeout: String(timeoutMs) });
  if (since) q.set('since', since);
  const body = await c.ok('GET', `${API}/sync?${q}`, undefined, user.token);
  const events: SyncResult['events'] = [];
  for (const room of Object.values<any>(body.rooms?.join ?? {})) events.push(...(room.timeline?.events ?? []));
  return { nextBatch: body.next_batch as string, events };
}
