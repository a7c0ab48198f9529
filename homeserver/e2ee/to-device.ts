// Send-to-device messaging (client-server-api/modules/send_to_device.md): messages are stored per
// device until delivered, listed in /sync in order of arrival (at most 100 at a time), and deleted
// once the device syncs again with the next_batch of the response that carried them.
import { MatrixError } from '../http/matrix-error.ts';
import type { Database } from '../storage/database.ts';
import type { Queryable } from '../storage/sqlite.ts';
import { accountsStore } from '../storage/accounts-store.ts';
import { currentStreamId } from '../storage/edus-store.ts';
import { toDeviceStore } from '../storage/e2ee-store.ts';
import { diskFailure } from '../storage/disk-errors.ts';
import { toDeviceSeenStore } from '../storage/federation-edus-store.ts';
import { isRecord } from '../protocol/e2e-keys.ts';
import type { JsonObject } from '../protocol/types.ts';
import type { Notifier } from '../sync/notifier.ts';
import { StreamChangeCache } from '../sync/stream-change-cache.ts';
import { DEFAULT_GROWTH_LIMITS } from '../config/growth-limits.ts';
import { checkFanOut, queueFull, withinQueueBounds, type Delivery, type ToDeviceLimits } from './to-device-quota.ts';

/** "100 messages is recommended as a reasonable limit." */
export const TO_DEVICE_LIMIT = 100;
/**
 * Content bytes of one /sync batch (at least one message, whatever its size). 100 messages of up
 * to 1 MiB each made every /sync of a long queue 100 MB, and 20 of them at once took the process
 * past 5 GB (issue #13). Room keys are 1-2 kB: 1 MiB still carries a hundred of them at a time.
 */
export const TO_DEVICE_BATCH_BYTES = 1024 * 1024;
/**
 * Transaction ids remembered per sending device. A retry comes within seconds or minutes of its
 * first try, after a handful of other requests at most; one row per request kept for ever was
 * growth without a bound.
 */
const TXN_IDS_KEPT_PER_DEVICE = 1_000;
/** How long a federation message id is remembered for idempotence. */
const SEEN_MESSAGE_IDS_MS = 24 * 3600_000;

export type Messages = Record<string, Record<string, JsonObject>>;

/** Checks the `messages` map of a to-device request or EDU: user id -> device id -> content. */
function checkedMessages(messages: unknown): Messages {
  if (!isRecord(messages)) throw new MatrixError(400, 'M_BAD_JSON', "'messages' must be an object");
  for (const [user, byDevice] of Object.entries(messages)) {
    if (!isRecord(byDevice) || Object.values(byDevice).some((c) => !isRecord(c))) {
      throw new MatrixError(400, 'M_BAD_JSON', `'messages.${user}' must map device ids to message contents`);
    }
  }
  return messages as Messages;
}

export class ToDevice {
  private readonly db: Database;
  private readonly notifier: Notifier;
  /** Recipients by the position of their latest message. */
  private changes = new StreamChangeCache(0);
  /** Per device (user and device id), the position up to which its messages are known deleted. */
  private readonly acknowledged = new Map<string, number>();
  private lastPrune = 0;
  private readonly localListeners: Array<(sender: string, type: string, messages: Messages) => void> = [];

  private readonly limits: ToDeviceLimits;
  private readonly log: (message: string) => void;

  constructor(db: Database, notifier: Notifier, limits: ToDeviceLimits = DEFAULT_GROWTH_LIMITS, log: (message: string) => void = () => {}) {
    this.db = db;
    this.notifier = notifier;
    this.limits = limits;
    this.log = log;
  }

  async init(): Promise<void> {
    this.changes = new StreamChangeCache(await currentStreamId(this.db.reader, 'to_device'));
  }

  get currentPosition(): number {
    return this.changes.position;
  }

  /** Calls `fn` after each new to-device request of a local user (federation takes the remote recipients' part). */
  onLocalSend(fn: (sender: string, type: string, messages: Messages) => void): void {
    this.localListeners.push(fn);
  }

  /** PUT /sendToDevice/{eventType}/{txnId}; a repeated transaction id of the same device sends nothing. */
  async send(sender: string, senderDevice: string, type: string, txnId: string, messages: unknown): Promise<void> {
    const checked = checkedMessages(messages);
    const recipients = new Set<string>();
    const last = await this.db.write(async (tx) => {
      if (await toDeviceStore.txnSeen(tx, sender, senderDevice, txnId)) return -1;
      await toDeviceStore.recordTxn(tx, sender, senderDevice, txnId, TXN_IDS_KEPT_PER_DEVICE);
      return this.deliverIn(tx, sender, type, checked, recipients, false);
    });
    this.delivered(last, recipients);
    if (last >= 0) for (const fn of this.localListeners) fn(sender, type, checked);
  }

  /**
   * An m.direct_to_device EDU from `origin` (server-server-api.md "Send-to-device messaging"):
   * delivered to this server's users once per message id. Returns false for a repeated message id.
   */
  async receiveRemote(origin: string, messageId: string, sender: string, type: string, messages: unknown): Promise<boolean> {
    const checked = checkedMessages(messages);
    const recipients = new Set<string>();
    const now = Date.now();
    const last = await this.db.write(async (tx) => {
      if (!(await toDeviceSeenStore.claim(tx, origin, messageId, now))) return -1;
      if (now - this.lastPrune > 3600_000) {
        this.lastPrune = now;
        await toDeviceSeenStore.pruneBefore(tx, now - SEEN_MESSAGE_IDS_MS);
      }
      return this.deliverIn(tx, sender, type, checked, recipients, true);
    });
    this.delivered(last, recipients);
    return last >= 0;
  }

  /**
   * Stores a message per existing device (`*`: every device); returns the last stream id (0:
   * none). Within the bounds of to-device-quota.ts: a local sender's request over them is refused
   * whole; a remote server's message is stored for the devices with room and refused (logged) for
   * the rest, as a federation EDU has nobody to answer.
   */
  private async deliverIn(tx: Queryable, sender: string, type: string, messages: Messages, recipients: Set<string>, remote: boolean): Promise<number> {
    const deliveries: Delivery[] = [];
    for (const [user, byDevice] of Object.entries(messages)) {
      // Users of other servers have no devices here (federation passes their part on); unknown
      // users and devices have nobody to deliver to.
      const known = new Set((await accountsStore.listDevices(tx, user)).map((d) => d.device_id));
      for (const [device, content] of Object.entries(byDevice)) {
        const targets = device === '*' ? [...known] : known.has(device) ? [device] : [];
        for (const d of targets) deliveries.push({ user, device: d, content: JSON.stringify(content) });
        checkFanOut(this.limits, deliveries.length);
      }
    }
    const { accepted, refused } = await withinQueueBounds(tx, this.limits, sender, deliveries);
    if (refused.length > 0 && !remote) throw queueFull(refused);
    if (refused.length > 0) this.log(`to-device from ${sender}: ${refused.length} message(s) refused, the receiving queues are full`);
    let id = 0;
    for (const d of accepted) {
      id = await toDeviceStore.add(tx, d.user, d.device, sender, type, d.content);
      recipients.add(d.user);
    }
    return id;
  }

  private delivered(last: number, recipients: Set<string>): void {
    if (last <= 0) return;
    for (const user of recipients) this.changes.record(user, last);
    this.notifier.notifyUsers(recipients);
  }

  /**
   * Messages for a device in (since, upTo], oldest first, at most TO_DEVICE_LIMIT and
   * TO_DEVICE_BATCH_BYTES; `position` is where the next sync must resume (the last one listed
   * when the queue was cut short).
   */
  async forSync(q: Queryable, userId: string, deviceId: string, since: number, upTo: number): Promise<{ events: JsonObject[]; position: number }> {
    if (since >= upTo || !this.changes.mayHaveChanged(userId, since)) return { events: [], position: upTo };
    // The batch: up to TO_DEVICE_LIMIT messages and TO_DEVICE_BATCH_BYTES, chosen by size before any is loaded.
    const sizes = await toDeviceStore.pendingSizes(q, userId, deviceId, since, upTo, TO_DEVICE_LIMIT);
    let count = 0;
    for (let bytes = 0; count < sizes.length && (count === 0 || bytes + sizes[count]!.bytes <= TO_DEVICE_BATCH_BYTES); count++) bytes += sizes[count]!.bytes;
    const cutShort = count < sizes.length || sizes.length === TO_DEVICE_LIMIT;
    const position = cutShort ? sizes[count - 1]!.stream_id : upTo;
    const rows = count === 0 ? [] : await toDeviceStore.pending(q, userId, deviceId, since, position, count);
    const events = rows.map((r) => ({ sender: r.sender, type: r.type, content: JSON.parse(r.content) as JsonObject }));
    return { events, position };
  }

  /** The device synced with a token at `upTo`: everything it was sent up to there was delivered. */
  async acknowledge(userId: string, deviceId: string, upTo: number): Promise<void> {
    // A new message gets a position past every token handed out, so once a device's messages up
    // to a position are deleted, none can appear there again.
    const device = `${userId}\u0000${deviceId}`;
    if (upTo <= (this.acknowledged.get(device) ?? 0)) return;
    if (await toDeviceStore.hasDeliveredUpTo(this.db.reader, userId, deviceId, upTo)) {
      try {
        await this.db.write((tx) => toDeviceStore.deleteUpTo(tx, userId, deviceId, upTo));
      } catch (err) {
        // Called by /sync, a read: on a full or failing disk the messages stay, and come again
        // with the next sync, as if this one had not acknowledged them. Issue #13 class 8.
        if (!diskFailure(err)) throw err;
        return;
      }
    }
    if (this.acknowledged.size > 10_000) this.acknowledged.clear();
    this.acknowledged.set(device, upTo);
  }
}
