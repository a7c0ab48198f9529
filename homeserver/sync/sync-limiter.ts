// How many /sync requests run at once, and for whom (issue #13: 20 concurrent /syncs of one
// device took the process past 5 GB, each computing and holding its own copy of one answer).
//  - Identical requests of one device (same since, filter, full_state, set_presence) share one
//    computation and one answer, as Synapse's ResponseCache does for /sync (rest/client/sync.py
//    keys it by requester, device, since, filter, full_state and timeout).
//  - A different request of the same device ends the long-poll of the older one: a client waits
//    on one /sync at a time, so the older is a request it gave up on (a retry after a network
//    change, a restarted client). The older answers at once with what it has; its next_batch stays
//    valid, so nothing is lost if the client does read it.
//  - Initial syncs (no since), the expensive ones, run at most MAX_CONCURRENT_INITIAL_SYNCS at a
//    time; the rest wait their turn in order.
import type { JsonObject } from '../protocol/types.ts';
import { Slots } from '../lib/slots.ts';

/**
 * Initial syncs computed at once. Each holds a user's whole room list and state in memory while
 * it runs; a desktop server rarely sees more than a couple of new logins at a time, and four lets
 * them proceed while a flood of them queues instead of multiplying the memory it takes.
 */
export const MAX_CONCURRENT_INITIAL_SYNCS = 4;

export interface LimitedSync {
  userId: string;
  deviceId: string;
  /** Everything that makes two requests of one device give the same answer. */
  requestKey: string;
  initial: boolean;
  /** The client went away. */
  signal?: AbortSignal;
}

interface Running {
  requestKey: string;
  /** Ends the computation's long-poll: when superseded, or when every client sharing it left. */
  controller: AbortController;
  clients: number;
  answer: Promise<JsonObject>;
}

export class SyncLimiter {
  private readonly byDevice = new Map<string, Running>();
  private readonly initialSlots: Slots;

  constructor(initialLimit = MAX_CONCURRENT_INITIAL_SYNCS) {
    this.initialSlots = new Slots(initialLimit);
  }

  /** Runs `compute` (whose long-poll must end when the given signal fires) under the rules above. */
  run(req: LimitedSync, compute: (signal: AbortSignal) => Promise<JsonObject>): Promise<JsonObject> {
    const device = `${req.userId}\u0000${req.deviceId}`;
    const running = this.byDevice.get(device);
    if (running && running.requestKey === req.requestKey && !running.controller.signal.aborted) {
      this.attach(running, req.signal);
      return running.answer;
    }
    running?.controller.abort();
    const controller = new AbortController();
    const entry: Running = { requestKey: req.requestKey, controller, clients: 0, answer: Promise.resolve({}) };
    // An initial sync whose clients all left while it waited for its turn is not computed at all.
    const start = () => (controller.signal.aborted ? Promise.resolve({}) : compute(controller.signal));
    entry.answer = (req.initial ? this.initialSlots.run(start) : start()).finally(() => {
      if (this.byDevice.get(device) === entry) this.byDevice.delete(device);
    });
    this.byDevice.set(device, entry);
    this.attach(entry, req.signal);
    return entry.answer;
  }

  /** Devices with a /sync running (for tests and diagnostics). */
  get devicesSyncing(): number {
    return this.byDevice.size;
  }

  private attach(entry: Running, signal: AbortSignal | undefined): void {
    entry.clients++;
    if (!signal) return;
    const leave = () => {
      if (--entry.clients === 0) entry.controller.abort();
    };
    if (signal.aborted) leave();
    else signal.addEventListener('abort', leave, { once: true });
  }
}
