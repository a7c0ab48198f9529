// Send-to-device messaging (client-server-api/modules/send_to_device.md): messages are stored per
// device until delivered, listed in /sync in order of arrival (at most 100 at a time), and deleted
// once the device syncs again with the next_batch of the response that carried them.
import { MatrixError } from '../http/matrix-error.ts';
import type { Database } from '../storage/database.ts';
import type { Queryable } from '../storage/sqlite.ts';
import { accountsStore } from '../storage/accounts-store.ts';
import { currentStreamId } from '../storage/edus-store.ts';
import { toDeviceStore } from '../storage/e2ee-store.ts';
import { isRecord } from '../protocol/e2e-keys.ts';
import type { JsonObject } from '../protocol/types.ts';
import type { Notifier } from '../sync/notifier.ts';

/** "100 messages is recommended as a reasonable limit." */
export const TO_DEVICE_LIMIT = 100;

export class ToDevice {
  private readonly db: Database;
  private readonly notifier: Notifier;
  private position = 0;

  constructor(db: Database, notifier: Notifier) {
    this.db = db;
    this.notifier = notifier;
  }

  async init(): Promise<void> {
    this.position = await currentStreamId(this.db.reader, 'to_device');
  }

  get currentPosition(): number {
    return this.position;
  }

  /** PUT /sendToDevice/{eventType}/{txnId}; a repeated transaction id of the same device sends nothing. */
  async send(sender: string, senderDevice: string, type: string, txnId: string, messages: unknown): Promise<void> {
    if (!isRecord(messages)) throw new MatrixError(400, 'M_BAD_JSON', "'messages' must be an object");
    for (const [user, byDevice] of Object.entries(messages)) {
      if (!isRecord(byDevice) || Object.values(byDevice).some((c) => !isRecord(c))) {
        throw new MatrixError(400, 'M_BAD_JSON', `'messages.${user}' must map device ids to message contents`);
      }
    }
    const recipients = new Set<string>();
    const last = await this.db.write(async (tx) => {
      if (await toDeviceStore.txnSeen(tx, sender, senderDevice, txnId)) return 0;
      await toDeviceStore.recordTxn(tx, sender, senderDevice, txnId);
      let id = 0;
      for (const [user, byDevice] of Object.entries(messages) as Array<[string, Record<string, JsonObject>]>) {
        // Users of other servers would need federation, which Hearth does not speak yet; unknown
        // users and devices have nobody to deliver to.
        const known = new Set((await accountsStore.listDevices(tx, user)).map((d) => d.device_id));
        for (const [device, content] of Object.entries(byDevice)) {
          const targets = device === '*' ? [...known] : known.has(device) ? [device] : [];
          for (const d of targets) {
            id = await toDeviceStore.add(tx, user, d, sender, type, JSON.stringify(content));
            recipients.add(user);
          }
        }
      }
      return id;
    });
    if (last > 0) {
      this.position = Math.max(this.position, last);
      this.notifier.notifyUsers(recipients);
    }
  }

  /**
   * Messages for a device in (since, upTo], oldest first, at most TO_DEVICE_LIMIT; `position` is
   * where the next sync must resume (the last one listed when the queue was cut short).
   */
  async forSync(q: Queryable, userId: string, deviceId: string, since: number, upTo: number): Promise<{ events: JsonObject[]; position: number }> {
    const rows = await toDeviceStore.pending(q, userId, deviceId, since, upTo, TO_DEVICE_LIMIT);
    const events = rows.map((r) => ({ sender: r.sender, type: r.type, content: JSON.parse(r.content) as JsonObject }));
    const position = rows.length === TO_DEVICE_LIMIT ? rows[rows.length - 1]!.stream_id : upTo;
    return { events, position };
  }

  /** The device synced with a token at `upTo`: everything it was sent up to there was delivered. */
  async acknowledge(userId: string, deviceId: string, upTo: number): Promise<void> {
    if (upTo <= 0 || !(await toDeviceStore.hasDeliveredUpTo(this.db.reader, userId, deviceId, upTo))) return;
    await this.db.write((tx) => toDeviceStore.deleteUpTo(tx, userId, deviceId, upTo));
  }
}
