// Two federating test servers for the routes that serve room data: `a` holds the rooms (made
// through its client API), `b` asks for them with real signed requests. Every answer is checked
// against the server-server OpenAPI before a test sees it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, registerUser, startFederatedTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';
import { checked } from '../../helpers/checked-call.ts';
import { serverServerValidator } from '../../helpers/openapi.ts';
import { FederationRequestError } from '../../../homeserver/federation/client.ts';
import { Connection } from '../../../homeserver/storage/sqlite.ts';
import { getRoomVersion } from '../../../homeserver/protocol/room-versions.ts';
import { computeEventId, hashAndSignEvent } from '../../../homeserver/protocol/event-hashing.ts';
import { decodeSigningKeyFile } from '../../../homeserver/protocol/signing-key.ts';
import type { PDU } from '../../../homeserver/protocol/types.ts';

const validator = serverServerValidator();
export const enc = encodeURIComponent;

export interface Pair {
  a: TestServer;
  b: TestServer;
  /** A's server name, and B's. */
  aName: string;
  bName: string;
  alice: TestUser;
  /** A's SQLite file opened read-only: what the tests compare answers with. */
  aDb: Connection;
  stop(): Promise<void>;
}

export async function startPair(): Promise<Pair> {
  const [pa, pb] = [await freePort(), await freePort()];
  const aName = `127.0.0.1:${pa}`;
  const bName = `127.0.0.1:${pb}`;
  const a = await startFederatedTestServer(pa, { trustSelfSigned: [bName] });
  const b = await startFederatedTestServer(pb, { trustSelfSigned: [aName] });
  const alice = await registerUser(a, 'alice');
  const aDb = await Connection.open(join(a.dataDir, 'hearth.sqlite'), true);
  return {
    a,
    b,
    aName,
    bName,
    alice,
    aDb,
    async stop() {
      await aDb.close();
      await Promise.all([a.stop(), b.stop()]);
    },
  };
}

export interface FedResponse {
  status: number;
  body: any;
}

/** B asks A (signed); the answer, success or error, is validated against the spec. */
export async function fed(p: Pair, method: string, path: string, body?: unknown): Promise<FedResponse> {
  const template = path.split('?')[0]!;
  try {
    // As plain objects: the client parses answers into null-prototype ones, which deepEqual tells apart.
    const res = JSON.parse(JSON.stringify(await p.b.hs.federation!.client.request<any>(p.aName, method, path, body)));
    validator.validateResponse(method, template, 200, res);
    return { status: 200, body: res };
  } catch (err) {
    if (!(err instanceof FederationRequestError) || err.kind !== 'response') throw err;
    validator.validateErrorBody(err.body, `${method} ${template}`);
    // Where the spec describes the error status, the body must match it too.
    validator.validateResponse(method, template, err.status, err.body);
    return { status: err.status, body: err.body };
  }
}

export function assertError(r: FedResponse, status: number, errcode: string): void {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.body.errcode, errcode);
}

/** A room on A made through the client API; returns its id. */
export async function createRoom(p: Pair, body: Record<string, unknown>): Promise<string> {
  const r = await checked(p.a, p.alice, 'POST', '/createRoom', body);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.room_id;
}

let txn = 0;
export async function send(p: Pair, roomId: string, text: string): Promise<string> {
  const r = await checked(p.a, p.alice, 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/t${++txn}`, { msgtype: 'm.text', body: text });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.event_id;
}

export async function setState(p: Pair, roomId: string, type: string, content: Record<string, unknown>, key = ''): Promise<string> {
  const r = await checked(p.a, p.alice, 'PUT', `/rooms/${enc(roomId)}/state/${type}/${enc(key)}`, content);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.event_id;
}

export async function currentStateId(p: Pair, roomId: string, type: string, key = ''): Promise<string> {
  const row = await p.aDb.get<{ event_id: string }>('SELECT event_id FROM current_state WHERE room_id = ? AND type = ? AND state_key = ?', roomId, type, key);
  assert.ok(row, `${type} in the state of ${roomId}`);
  return row.event_id;
}

/** The event id a PDU in the federation format hashes to (room versions 4+). */
export async function idOfPdu(p: Pair, roomId: string, pdu: PDU): Promise<string> {
  const row = await p.aDb.get<{ room_version: string }>('SELECT room_version FROM rooms WHERE room_id = ?', roomId);
  return computeEventId(pdu, getRoomVersion(row!.room_version)!);
}

/**
 * A user of B joins a public room of A the way make_join/send_join would leave it: B builds and
 * signs the join on top of A's current extremities and pushes it to A in a transaction (/send).
 * Returns the join's event id once A accepted it.
 */
export async function remoteJoin(p: Pair, roomId: string, localpart: string): Promise<string> {
  const userId = `@${localpart}:${p.bName}`;
  const room = await p.aDb.get<{ room_version: string }>('SELECT room_version FROM rooms WHERE room_id = ?', roomId);
  const version = getRoomVersion(room!.room_version)!;
  const extremities = (await p.aDb.all<{ event_id: string }>('SELECT event_id FROM forward_extremities WHERE room_id = ?', roomId)).map((r) => r.event_id);
  const depth = (await p.aDb.get<{ d: number }>('SELECT MAX(depth) AS d FROM events WHERE room_id = ?', roomId))!.d;
  const auth = [await currentStateId(p, roomId, 'm.room.power_levels'), await currentStateId(p, roomId, 'm.room.join_rules')];
  if (!version.roomIdFromCreateEvent) auth.unshift(await currentStateId(p, roomId, 'm.room.create'));
  const key = decodeSigningKeyFile(readFileSync(join(p.b.dataDir, 'signing.key'), 'utf8'));
  const pdu = hashAndSignEvent(
    {
      type: 'm.room.member',
      state_key: userId,
      sender: userId,
      room_id: roomId,
      content: { membership: 'join' },
      prev_events: extremities,
      auth_events: auth,
      depth: depth + 1,
      origin_server_ts: Date.now(),
    } as unknown as PDU,
    version,
    p.bName,
    key,
  );
  const eventId = computeEventId(pdu, version);
  const res = await p.b.hs.federation!.client.request<{ pdus: Record<string, { error?: string }> }>(
    p.aName,
    'PUT',
    `/_matrix/federation/v1/send/join${++txn}`,
    {
      origin: p.bName,
      origin_server_ts: Date.now(),
      pdus: [pdu],
    },
  );
  assert.deepEqual({ ...res.pdus[eventId] }, {}, `A accepted ${userId}'s join: ${JSON.stringify(res)}`);
  return eventId;
}
