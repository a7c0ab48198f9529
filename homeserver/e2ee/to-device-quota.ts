// Bounds on pending send-to-device messages (issue #13: one account queued 72 MB for another).
// A device's queue is capped in messages and bytes, a single sender may fill only a share of it,
// and one request may reach only so many devices. A message beyond a bound is refused before
// anything is stored, never accepted and then dropped: modules/send_to_device.md says a message
// "is delivered exactly once to each client device", so what we acknowledge we keep until the
// device syncs. The queue empties as its device syncs, after which the sender may send again.
import { MatrixError } from '../http/matrix-error.ts';
import type { GrowthLimits } from '../config/growth-limits.ts';
import type { Queryable } from '../storage/sqlite.ts';
import { toDeviceStore } from '../storage/e2ee-store.ts';

export type ToDeviceLimits = Pick<
  GrowthLimits,
  'toDevicePendingPerDevice' | 'toDevicePendingBytesPerDevice' | 'toDeviceSenderShare' | 'toDeviceDevicesPerRequest'
>;

export interface Delivery {
  user: string;
  device: string;
  /** The content as stored (its JSON text). */
  content: string;
}

interface QueueSize {
  count: number;
  bytes: number;
  senderCount: number;
  senderBytes: number;
}

/** 413 when one request reaches more devices than a request may. */
export function checkFanOut(limits: ToDeviceLimits, deliveries: number): void {
  if (deliveries > limits.toDeviceDevicesPerRequest) {
    throw new MatrixError(413, 'M_TOO_LARGE', `One request may reach at most ${limits.toDeviceDevicesPerRequest} devices; this one reaches ${deliveries}`);
  }
}

/**
 * Splits `deliveries` from `sender` into those the receiving queues have room for and those they
 * have not, counting the request's own earlier deliveries. Reads inside the write transaction
 * that will store them, so that no other write can slip in between.
 */
export async function withinQueueBounds(
  tx: Queryable,
  limits: ToDeviceLimits,
  sender: string,
  deliveries: Delivery[],
): Promise<{ accepted: Delivery[]; refused: Delivery[] }> {
  const sizes = new Map<string, QueueSize>();
  const senderCount = Math.floor(limits.toDevicePendingPerDevice * limits.toDeviceSenderShare);
  const senderBytes = Math.floor(limits.toDevicePendingBytesPerDevice * limits.toDeviceSenderShare);
  const accepted: Delivery[] = [];
  const refused: Delivery[] = [];
  for (const d of deliveries) {
    const key = `${d.user}\u0000${d.device}`;
    let size = sizes.get(key);
    if (!size) sizes.set(key, (size = await toDeviceStore.queueSize(tx, d.user, d.device, sender)));
    const bytes = Buffer.byteLength(d.content);
    const fits =
      size.count + 1 <= limits.toDevicePendingPerDevice &&
      size.bytes + bytes <= limits.toDevicePendingBytesPerDevice &&
      size.senderCount + 1 <= senderCount &&
      size.senderBytes + bytes <= senderBytes;
    if (!fits) {
      refused.push(d);
      continue;
    }
    size.count++;
    size.bytes += bytes;
    size.senderCount++;
    size.senderBytes += bytes;
    accepted.push(d);
  }
  return { accepted, refused };
}

/** The answer to a local sender whose message a full queue refused: nothing of the request was stored. */
export function queueFull(refused: Delivery[]): MatrixError {
  const first = refused[0]!;
  // 429 M_LIMIT_EXCEEDED (client-server-api "Rate limiting"): the same request succeeds later,
  // once the receiving device has synced and its queue drained. No retry_after_ms: we cannot know when.
  return new MatrixError(
    429,
    'M_LIMIT_EXCEEDED',
    `Too many messages are waiting for ${refused.length} of the devices (first: ${first.user} ${first.device}); try again once they have synced`,
  );
}
