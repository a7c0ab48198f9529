// The one verification a signed-in window shows at a time, and the request from someone else that
// waits for the user to open it. A request that arrives is not put in front of the user as a
// modal dialog over whatever they are doing (typing, another dialog): it waits as a notice, and
// the dialog opens when they choose to (Element shows a toast the same way).
import type { MatrixClient } from 'matrix-js-sdk/lib/client.js';
import { VerificationPhase, VerificationRequestEvent, type VerificationRequest } from 'matrix-js-sdk/lib/crypto-api/verification.js';
import { Verification } from './verification.svelte.ts';

export class VerificationHub {
  /** The verification in the dialog, asked by us or opened from a notice. */
  current = $state<Verification | null>(null);
  /** A request from another session or user, not opened yet. */
  incoming = $state<VerificationRequest | null>(null);

  /** Shows a verification we started (the dialog follows its steps). */
  show(verification: Verification): void {
    this.current?.cancel();
    this.current = verification;
  }

  /** A request arrived: one at a time, a second one while another is on is left to time out. */
  receive(request: VerificationRequest): void {
    if (this.busy || (this.incoming && this.incoming.phase !== VerificationPhase.Cancelled)) return;
    this.incoming = request;
    const gone = () => {
      if (request.phase !== VerificationPhase.Cancelled && request.phase !== VerificationPhase.Done) return;
      request.off(VerificationRequestEvent.Change, gone);
      if (this.incoming === request) this.incoming = null;
    };
    request.on(VerificationRequestEvent.Change, gone);
  }

  /** The user opens the waiting request. */
  open(): void {
    if (!this.incoming) return;
    this.current = new Verification(this.incoming);
    this.incoming = null;
  }

  /** The user declines the waiting request. */
  decline(): void {
    const request = this.incoming;
    this.incoming = null;
    if (request?.pending) void request.cancel().catch(() => {});
  }

  /** The dialog closes: a verification not finished is cancelled for both sides. */
  close(): void {
    this.current?.cancel();
    this.current = null;
  }

  private get busy(): boolean {
    const step = this.current?.step;
    return step !== undefined && step !== 'done' && step !== 'cancelled';
  }
}

const hubs = new WeakMap<MatrixClient, VerificationHub>();

/** The hub of a signed-in client: the encryption button shows it, the member list starts into it. */
export function verificationsOf(client: MatrixClient): VerificationHub {
  let hub = hubs.get(client);
  if (!hub) hubs.set(client, (hub = new VerificationHub()));
  return hub;
}
