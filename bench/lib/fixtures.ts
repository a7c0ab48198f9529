// Data dirs for the growth figures (bench/sync-growth.ts), written in this process through
// Hearth's own storage and room service: the same rows, state groups and notifications as over
// HTTP, but without a round trip, an access check and a commit per event, so that 2,000 rooms or
// a room of 200,000 events take seconds to build, not minutes. The figures themselves are then
// measured over HTTP against a `hearth serve` on the data dir.
//
// The modules come from the checkout whose server is measured (`root`): an older Hearth builds a
// data dir in its own schema, which it can then open.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BenchUser } from './matrix.ts';
import type { Database } from '../../homeserver/storage/database.ts';
import type { RoomService } from '../../homeserver/rooms/room-service.ts';
import type { UserService } from '../../homeserver/users/user-service.ts';
import type { SearchIndexer } from '../../homeserver/rooms/search-indexer.ts';

type DatabaseModule = typeof import('../../homeserver/storage/database.ts');
type SigningKeyModule = typeof import('../../homeserver/protocol/signing-key.ts');
type NotifierModule = typeof import('../../homeserver/sync/notifier.ts');
type AccountDataModule = typeof import('../../homeserver/users/account-data.ts');
type PushRulesModule = typeof import('../../homeserver/push/push-rules.ts');
type RoomServiceModule = typeof import('../../homeserver/rooms/room-service.ts');
type UserServiceModule = typeof import('../../homeserver/users/user-service.ts');
type CreateRoomModule = typeof import('../../homeserver/rooms/create-room.ts');
type MembershipModule = typeof import('../../homeserver/rooms/membership.ts');
type SearchIndexerModule = typeof import('../../homeserver/rooms/search-indexer.ts');

const SERVER_NAME = 'localhost';
/** Messages appended per write job while filling a big room: one commit per thousand, not per event. */
const EVENTS_PER_JOB = 1000;

/** One data dir opened for writing in this process, as `hearth serve --server-name localhost` would open it. */
export class Fixture {
  private readonly db: Database;
  private readonly rooms: RoomService;
  private readonly users: UserService;
  private readonly createRoom: CreateRoomModule['createRoom'];
  private readonly joinRoom: MembershipModule['joinRoom'];
  private readonly indexer: SearchIndexer;

  private constructor(
    db: Database,
    rooms: RoomService,
    users: UserService,
    createRoom: CreateRoomModule['createRoom'],
    joinRoom: MembershipModule['joinRoom'],
    indexer: SearchIndexer,
  ) {
    this.indexer = indexer;
    this.db = db;
    this.rooms = rooms;
    this.users = users;
    this.createRoom = createRoom;
    this.joinRoom = joinRoom;
  }

  static async open(root: string, dataDir: string): Promise<Fixture> {
    const load = <T>(path: string) => import(pathToFileURL(join(root, path)).href) as Promise<T>;
    const { Database } = await load<DatabaseModule>('homeserver/storage/database.ts');
    const { encodeSigningKeyFile, generateSigningKey } = await load<SigningKeyModule>('homeserver/protocol/signing-key.ts');
    const { Notifier } = await load<NotifierModule>('homeserver/sync/notifier.ts');
    const { AccountData } = await load<AccountDataModule>('homeserver/users/account-data.ts');
    const { PushRules } = await load<PushRulesModule>('homeserver/push/push-rules.ts');
    const { RoomService } = await load<RoomServiceModule>('homeserver/rooms/room-service.ts');
    const { UserService } = await load<UserServiceModule>('homeserver/users/user-service.ts');
    const { createRoom } = await load<CreateRoomModule>('homeserver/rooms/create-room.ts');
    const { joinRoom } = await load<MembershipModule>('homeserver/rooms/membership.ts');
    const { SearchIndexer } = await load<SearchIndexerModule>('homeserver/rooms/search-indexer.ts');

    mkdirSync(dataDir, { recursive: true });
    const keyFile = join(dataDir, 'signing.key');
    // The server signs with its own key from the file; the events built here need not match it.
    if (!existsSync(keyFile)) writeFileSync(keyFile, encodeSigningKeyFile(generateSigningKey()) + '\n', { mode: 0o600 });
    // The bench's requests come fast from one user: lift the per-user rate limit.
    writeFileSync(join(dataDir, 'hearth.yaml'), 'rate_limit:\n  per_second: 1000000\n  burst: 1000000\n');
    const db = await Database.open(join(dataDir, 'hearth.sqlite'));
    const notifier = new Notifier();
    const accountData = new AccountData(db, notifier);
    await accountData.init();
    const push = new PushRules(db, accountData);
    const rooms = new RoomService({ db, serverName: SERVER_NAME, signingKey: generateSigningKey(), notifier, push });
    await rooms.init();
    const indexer = new SearchIndexer(db, (msg, err) => process.stderr.write(`[fixture] ${msg} ${String(err ?? '')}\n`));
    return new Fixture(db, rooms, new UserService(db, SERVER_NAME), createRoom, joinRoom, indexer);
  }

  async user(localpart: string): Promise<BenchUser> {
    const { userId, session } = await this.users.register(localpart, 'bench password not secret');
    return { userId, token: session!.accessToken };
  }

  /** A public room named `name` that `members` joined after its creator. */
  async room(creator: BenchUser, name: string, members: BenchUser[]): Promise<string> {
    const { roomId } = await this.createRoom(this.rooms, { creator: creator.userId, preset: 'public_chat', name, creatorProfile: {} });
    for (const m of members) await this.joinRoom(this.rooms, roomId, m.userId);
    return roomId;
  }

  async messages(roomId: string, sender: BenchUser, count: number, label: string): Promise<void> {
    for (let done = 0; done < count; done += EVENTS_PER_JOB) {
      await this.rooms.write(async (w) => {
        for (let i = done; i < Math.min(count, done + EVENTS_PER_JOB); i++) {
          await w.append(roomId, { type: 'm.room.message', sender: sender.userId, content: { msgtype: 'm.text', body: `${label} ${i}` } });
        }
      });
    }
  }

  /**
   * Indexes what was written for search, as the server would have by then (else the server indexes
   * it in the background after its start, under the requests measured), and closes.
   */
  async close(): Promise<void> {
    await this.indexer.catchUp();
    await this.db.close();
  }
}
