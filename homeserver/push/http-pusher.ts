// One HTTP pusher's outbound queue (push-gateway-api.md "Homeserver behaviour": on an HTTP error
// the homeserver SHOULD retry for a reasonable amount of time using exponential backoff). The
// queue is in memory and bounded: pushers.ts writes where each queue stands and refills it from
// the notification log after a restart; a gateway that is down for long loses its oldest pushes
// first, never the pusher. One request at a time, in order.
import { postToGateway, type GatewayPolicy, type GatewayResult } from './gateway-request.ts';

/**
 * Pushes queued per pusher at most. A phone shows the latest few notifications of each room; 100
 * covers a busy day of missed messages while a gateway is down, and a pusher costs at most about
 * 100 small JSON bodies of memory. Past it the oldest push is dropped.
 */
export const MAX_QUEUED_PUSHES = 100;

/** 1 s, 2 s, 4 s, ... up to 10 min between attempts while a gateway fails. */
export const PUSH_RETRY = { initialMs: 1_000, maxMs: 600_000, multiplier: 2 };

/**
 * A push still failing this long after it was queued is dropped at its next failure: a
 * notification an hour late tells the user little that their client's next sync does not.
 */
export const PUSH_GIVE_UP_MS = 3_600_000;

export interface QueuedPush {
  body: unknown;
  queuedTs: number;
  /** The event's position in the notification log, to know where the queue stands. */
  streamOrdering: number;
}

export interface PusherTarget {
  url: URL;
  pushkey: string;
}

export interface HttpPusherEvents {
  /** The gateway rejected these pushkeys (push_gateway.yaml "rejected"): remove their pushers. */
  rejected(pushkeys: string[]): void;
  /** A push was dropped (queue full, refused address, or failing past PUSH_GIVE_UP_MS). */
  dropped(reason: string): void;
  /** A push left the queue (delivered or dropped): where the queue stands has moved. */
  progressed?(): void;
}

export class HttpPusher {
  private readonly queue: QueuedPush[] = [];
  private sending = false;
  private stopped = false;
  private retryMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private target: PusherTarget;
  private readonly policy: GatewayPolicy;
  private readonly events: HttpPusherEvents;
  private readonly now: () => number;

  constructor(target: PusherTarget, policy: GatewayPolicy, events: HttpPusherEvents, now: () => number = Date.now) {
    this.target = target;
    this.policy = policy;
    this.events = events;
    this.now = now;
  }

  /** The pusher was set again (same app_id and pushkey): later pushes go to its new URL. */
  retarget(target: PusherTarget): void {
    this.target = target;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** The stream ordering of the oldest push still queued, or null when none is. */
  get pendingFrom(): number | null {
    return this.queue[0]?.streamOrdering ?? null;
  }

  enqueue(body: unknown, streamOrdering: number): void {
    if (this.stopped) return;
    if (this.queue.length >= MAX_QUEUED_PUSHES) {
      this.queue.shift();
      this.events.dropped(`queue full (${MAX_QUEUED_PUSHES})`);
    }
    this.queue.push({ body, queuedTs: this.now(), streamOrdering });
    if (!this.sending && this.timer === undefined) void this.drain();
  }

  /** Stops sending; what is queued stays in the notification log, for the next start (pushers.ts). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }

  private async drain(): Promise<void> {
    this.sending = true;
    try {
      while (!this.stopped && this.queue.length > 0) {
        const head = this.queue[0]!;
        let result: GatewayResult;
        try {
          result = await postToGateway(this.policy, this.target.url, head.body);
        } catch (err) {
          result = { ok: false, permanent: false, reason: (err as Error).message };
        }
        if (this.stopped) return;
        if (result.ok) {
          this.retryMs = 0;
          this.queue.shift();
          this.events.progressed?.();
          if (result.rejected.length > 0) this.events.rejected(result.rejected);
          continue;
        }
        if (result.permanent || this.now() - head.queuedTs >= PUSH_GIVE_UP_MS) {
          this.queue.shift();
          this.events.dropped(result.reason);
          this.events.progressed?.();
          continue;
        }
        this.retryMs = this.retryMs === 0 ? PUSH_RETRY.initialMs : Math.min(this.retryMs * PUSH_RETRY.multiplier, PUSH_RETRY.maxMs);
        this.timer = setTimeout(() => {
          this.timer = undefined;
          void this.drain();
        }, this.retryMs);
        this.timer.unref();
        return;
      }
    } finally {
      this.sending = false;
    }
  }
}
