// What federation's route groups and its background workers may use: the homeserver's other
// components (passed in, never imported as singletons) and federation's own client and keys.
import type { Database } from '../storage/database.ts';
import type { RoomService } from '../rooms/room-service.ts';
import type { Visibility } from '../rooms/visibility.ts';
import type { UserService } from '../users/user-service.ts';
import type { Edus } from '../edus/index.ts';
import type { E2ee } from '../e2ee/index.ts';
import type { Notifier } from '../sync/notifier.ts';
import type { Logger } from '../http/errors.ts';
import type { JsonObject, PDU } from '../protocol/types.ts';
import type { SigningKey } from '../protocol/signing-key.ts';
import type { FederationClient } from './client.ts';
import type { RemoteKeys } from './remote-keys.ts';

/** The outbound side: per-destination queues persisted in SQLite (see federation/sender/). */
export interface Outbound {
  /** Queues PDUs for each destination; resolves once they are committed to the queue. */
  sendPdus(destinations: Iterable<string>, pdus: PDU[]): Promise<void>;
  /** Queues one EDU for each destination; resolves once committed. */
  sendEdu(destinations: Iterable<string>, eduType: string, content: JsonObject): Promise<void>;
  /** Retries a destination now (it was seen alive), skipping its backoff. */
  wake(destination: string): void;
}

export interface FederationServices {
  serverName: string;
  signingKey: SigningKey;
  db: Database;
  rooms: RoomService;
  visibility: Visibility;
  users: UserService;
  edus: Edus;
  e2ee: E2ee;
  notifier: Notifier;
  log: Logger;
  client: FederationClient;
  remoteKeys: RemoteKeys;
  /** Set once the outbound sender is created (federation/sender/). */
  outbound?: Outbound;
}
