// End-to-end encryption support: the services the client API and /sync share.
import type { Database } from '../storage/database.ts';
import type { Queryable } from '../storage/sqlite.ts';
import { deviceKeysStore } from '../storage/e2ee-store.ts';
import type { Notifier } from '../sync/notifier.ts';
import { DeviceLists } from './device-lists.ts';
import { DeviceKeys } from './device-keys.ts';
import { CrossSigning } from './cross-signing.ts';
import { ToDevice } from './to-device.ts';
import type { ToDeviceLimits } from './to-device-quota.ts';
import { KeyBackup } from './key-backup.ts';

export interface E2ee {
  deviceLists: DeviceLists;
  keys: DeviceKeys;
  crossSigning: CrossSigning;
  toDevice: ToDevice;
  backup: KeyBackup;
  /** Inside the transaction that deletes devices: drops their keys and pending messages. */
  forgetDevices(tx: Queryable, userId: string, deviceIds: string[]): Promise<number | undefined>;
  /** After that transaction committed, with what forgetDevices returned. */
  devicesForgotten(userId: string, changeId: number | undefined): Promise<void>;
}

export async function createE2ee(db: Database, notifier: Notifier, limits?: ToDeviceLimits, log?: (message: string) => void): Promise<E2ee> {
  const deviceLists = new DeviceLists(db, notifier);
  const toDevice = new ToDevice(db, notifier, limits, log);
  await deviceLists.init();
  await toDevice.init();
  // The devices each pending removal dropped, for the change passed on after its commit.
  const removed = new Map<number, string[]>();
  const keys = new DeviceKeys(db, deviceLists);
  return {
    deviceLists,
    keys,
    crossSigning: new CrossSigning(db, deviceLists),
    toDevice,
    backup: new KeyBackup(db),
    async forgetDevices(tx, userId, deviceIds) {
      if (deviceIds.length === 0) return undefined;
      for (const d of deviceIds) await deviceKeysStore.deleteDevice(tx, userId, d);
      // A device gone is a device-list change: room-mates stop encrypting to it.
      const changeId = await deviceLists.recordChange(tx, userId);
      removed.set(changeId, deviceIds);
      return changeId;
    },
    async devicesForgotten(userId, changeId) {
      if (changeId === undefined) return;
      // A device id can come back (a login may name it): its key figures start over.
      keys.keysChanged();
      const deviceIds = removed.get(changeId);
      removed.delete(changeId);
      await deviceLists.committed(changeId, userId, deviceIds ? { deviceIds } : undefined);
    },
  };
}
