// The ids an operation's path is filled with, owned by user A: a room with secret messages, A's
// devices, account data, filters, backups, tags, media. The authorization walk calls operations on
// them as someone else; the fuzz tests call them as A, so that bodies reach the handlers' logic.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { call, registerUser, type TestServer, type TestUser } from './server.ts';
import type { RoutedOperation } from './route-table.ts';

export const PASSWORD = 'correct horse battery staple';

/** What A owns, and what B must never see: ids to fill the paths with and the secret to look for. */
export interface Fixture {
  serverName: string;
  alice: TestUser;
  roomId: string;
  alias: string;
  /** The secret message: the eventId of paths. */
  eventId: string;
  /** Every event id of A's room, and the secret that every private string of A's contains. */
  eventIds: string[];
  secret: string;
  filterId: string;
  backupVersion: string;
  sessionId: string;
  mediaServer: string;
  mediaId: string;
}

let txn = 0;

/** A transaction id no earlier request used. */
export function freshTxnId(): string {
  return `walk-${++txn}-${randomBytes(3).toString('hex')}`;
}

/** The concrete path of an operation, every param filled with A's own ids. */
export function fillPath(op: RoutedOperation, f: Fixture): string {
  const values: Record<string, string> = {
    roomId: f.roomId,
    roomIdOrAlias: f.roomId,
    eventId: f.eventId,
    eventType: op.path.includes('/relations/') ? 'm.reaction' : op.path.includes('/state/') ? 'm.room.topic' : 'm.room.message',
    stateKey: 'x',
    txnId: freshTxnId(),
    roomAlias: f.alias,
    userId: f.alice.userId,
    field: 'displayname',
    filterId: f.filterId,
    type: 'org.walk.secret',
    kind: 'content',
    ruleId: 'walk-rule',
    receiptType: 'm.read',
    tag: 'u.walk',
    relType: 'm.annotation',
    authType: 'm.login.dummy',
    version: f.backupVersion,
    sessionId: f.sessionId,
    serverName: f.mediaServer,
    mediaId: f.mediaId,
    fileName: 'f.bin',
    deviceId: f.alice.deviceId,
    protocol: 'irc',
  };
  return op.path.replace(/:([A-Za-z]+)/g, (_m, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`${op.method} ${op.path}: no value for the path param :${name}; add one to fillPath`);
    return encodeURIComponent(v);
  });
}

export interface Answer {
  status: number;
  text: string;
  body: any;
}

export async function send(server: TestServer, method: string, path: string, token: string | undefined, body: unknown): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers,
    body: method === 'GET' || (method === 'DELETE' && body === undefined) ? undefined : JSON.stringify(body ?? {}),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, text, body: parsed };
}

export const isUia = (a: Answer) => a.status === 401 && typeof a.body === 'object' && a.body !== null && 'flows' in a.body && !('errcode' in a.body);

/** Problems with an answer that no caller may get: a 5xx, or an error that is not {errcode, error}. */
export function malformed(what: string, a: Answer): string[] {
  // The one 5xx the spec asks for: media whose upload has not arrived (content-repo.yaml, 504).
  if (a.status === 504 && a.body?.errcode === 'M_NOT_YET_UPLOADED') return [];
  if (a.status >= 500) return [`${what} -> ${a.status} ${a.text.slice(0, 200)}`];
  if (a.status >= 400 && !isUia(a) && (typeof a.body?.errcode !== 'string' || typeof a.body?.error !== 'string')) {
    return [`${what} -> ${a.status}: not a standard error body: ${a.text.slice(0, 200)}`];
  }
  return [];
}

/**
 * A's things on `server`: a room (private unless `preset` says otherwise) with secret messages, a
 * reaction, a receipt, an alias, account data, a tag, a filter, a key backup with a key, a push
 * rule and a pending media id, each holding the secret.
 */
export async function setUpOwner(server: TestServer, preset = 'private_chat'): Promise<Fixture> {
  const secret = `walk-secret-${randomBytes(6).toString('hex')}`;
  const alice = await registerUser(server, 'alice', PASSWORD);
  const ok = async (method: string, path: string, body?: unknown) => {
    const res = await call(server, alice, method, path, body);
    assert.equal(res.status, 200, `${method} ${path} -> ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const created = await ok('POST', '/createRoom', { preset, name: `${secret} name`, topic: `${secret} topic`, room_alias_name: 'walk-secret' });
  const roomId: string = created.room_id;
  const r = encodeURIComponent(roomId);
  const u = encodeURIComponent(alice.userId);
  const first = await ok('PUT', `/rooms/${r}/send/m.room.message/a1`, { msgtype: 'm.text', body: `${secret} one` });
  await ok('PUT', `/rooms/${r}/send/m.room.message/a2`, { msgtype: 'm.text', body: `${secret} two` });
  await ok('PUT', `/rooms/${r}/send/m.reaction/a3`, { 'm.relates_to': { rel_type: 'm.annotation', event_id: first.event_id, key: secret } });
  await ok('POST', `/rooms/${r}/receipt/m.read/${encodeURIComponent(first.event_id)}`, {});
  await ok('PUT', `/user/${u}/account_data/org.walk.secret`, { secret });
  await ok('PUT', `/user/${u}/rooms/${r}/account_data/org.walk.secret`, { secret });
  await ok('PUT', `/user/${u}/rooms/${r}/tags/u.walk`, { order: 0.5 });
  const filter = await ok('POST', `/user/${u}/filter`, { room: { timeline: { not_types: [`org.${secret}`] } } });
  // Backup versions are numbered per user, so B's own first backup is "1" too: A's is the third,
  // a number B's walk (one POST /room_keys/version) never reaches for B.
  for (const n of [1, 2]) await ok('POST', '/room_keys/version', { algorithm: 'm.megolm_backup.v1.curve25519-aes-sha2', auth_data: { public_key: `old${n}` } });
  const version = await ok('POST', '/room_keys/version', { algorithm: 'm.megolm_backup.v1.curve25519-aes-sha2', auth_data: { public_key: secret } });
  const sessionId = 'walk-session';
  await ok('PUT', `/room_keys/keys/${r}/${sessionId}?version=${encodeURIComponent(version.version)}`, {
    first_message_index: 0,
    forwarded_count: 0,
    is_verified: true,
    session_data: { ciphertext: secret, ephemeral: 'e', mac: 'm' },
  });
  await ok('PUT', '/pushrules/global/content/walk-rule', { pattern: secret, actions: ['notify'] });
  const pending = await fetch(`${server.url}/_matrix/media/v1/create`, { method: 'POST', headers: { authorization: `Bearer ${alice.accessToken}` } });
  assert.equal(pending.status, 200);
  const mxc = /^mxc:\/\/([^/]+)\/(.+)$/.exec(((await pending.json()) as { content_uri: string }).content_uri)!;
  const state = (await ok('GET', `/rooms/${r}/state`)) as Array<{ event_id: string }>;
  const messages = (await ok('GET', `/rooms/${r}/messages?dir=b&limit=1000`)).chunk as Array<{ event_id: string }>;
  return {
    serverName: server.serverName,
    alice,
    roomId,
    alias: `#walk-secret:${server.serverName}`,
    eventId: first.event_id,
    eventIds: [...new Set([...state, ...messages].map((e) => e.event_id))],
    secret,
    filterId: filter.filter_id,
    backupVersion: version.version,
    sessionId,
    mediaServer: mxc[1]!,
    mediaId: mxc[2]!,
  };
}
