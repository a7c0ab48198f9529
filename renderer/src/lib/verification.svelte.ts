// One verification by emoji (client-server-api "Short Authentication String (SAS)
// verification"), as reactive state for VerificationDialog: either side may ask, the other
// accepts, the one who asked starts SAS, and both see the same seven emoji and say whether
// they match. A session of one's own over to-device messages; another person in a direct chat
// (then cross-signing records it: lib/cross-signing.ts).
import type { MatrixClient } from 'matrix-js-sdk/lib/client.js';
import {
  VerificationPhase,
  VerificationRequestEvent,
  VerifierEvent,
  type ShowSasCallbacks,
  type VerificationRequest,
  type Verifier,
} from 'matrix-js-sdk/lib/crypto-api/verification.js';

export type VerificationStep =
  /** We asked; the other session has not answered yet. */
  | 'waiting'
  /** They asked; we have not answered yet. */
  | 'incoming'
  /** Accepted; the emoji are being worked out. */
  | 'starting'
  /** The emoji are shown: the user compares them. */
  | 'compare'
  /** We said they match; the other side has not yet. */
  | 'confirmed'
  | 'done'
  | 'cancelled';

export interface SasEmoji {
  emoji: string;
  name: string;
}

export class Verification {
  step = $state<VerificationStep>('waiting');
  emoji = $state<SasEmoji[]>([]);
  /** Why it stopped, when it was cancelled ("They said the emoji do not match"). */
  reason = $state('');
  readonly request: VerificationRequest;
  private sas: ShowSasCallbacks | null = null;
  private verifier: Verifier | null = null;

  constructor(request: VerificationRequest) {
    this.request = request;
    this.step = request.initiatedByMe ? 'waiting' : 'incoming';
    request.on(VerificationRequestEvent.Change, this.update);
    this.update();
  }

  /** Asks one of our own (or another user's) devices to verify, over to-device messages. */
  static async requestDevice(client: MatrixClient, userId: string, deviceId: string): Promise<Verification> {
    const crypto = client.getCrypto();
    if (!crypto) throw new Error('Encryption is still loading. Try again in a moment.');
    return new Verification(await crypto.requestDeviceVerification(userId, deviceId));
  }

  /**
   * Asks another person to verify, by a request in our direct chat with them (client-server-api
   * "Key verification framework", in-room: m.key.verification.request as a room message), opened
   * or made by `directRoom`. Once done, our user-signing key signs their master key: every
   * session they verify is then trusted here too.
   */
  static async requestUser(client: MatrixClient, userId: string, directRoom: (userId: string) => Promise<string>): Promise<Verification> {
    const crypto = client.getCrypto();
    if (!crypto) throw new Error('Encryption is still loading. Try again in a moment.');
    const roomId = await directRoom(userId);
    return new Verification(await crypto.requestVerificationDM(userId, roomId));
  }

  get otherDeviceId(): string | undefined {
    return this.request.otherDeviceId;
  }

  async accept(): Promise<void> {
    this.step = 'starting';
    await this.request.accept();
  }

  async confirm(): Promise<void> {
    this.step = 'confirmed';
    await this.sas?.confirm();
  }

  mismatch(): void {
    this.reason = 'You said the emoji do not match: this session was not verified.';
    this.sas?.mismatch();
  }

  cancel(): void {
    if (this.request.pending) void this.request.cancel().catch(() => {});
    this.stop();
  }

  stop(): void {
    this.request.off(VerificationRequestEvent.Change, this.update);
  }

  private readonly update = () => {
    const r = this.request;
    switch (r.phase) {
      case VerificationPhase.Ready:
        this.step = 'starting';
        // The side that asked chooses the method, once the other is ready.
        if (r.initiatedByMe && !this.verifier) void r.startVerification('m.sas.v1').then(this.watch, this.fail);
        break;
      case VerificationPhase.Started:
        if (r.verifier && !this.verifier) this.watch(r.verifier);
        break;
      case VerificationPhase.Done:
        this.step = 'done';
        this.stop();
        break;
      case VerificationPhase.Cancelled:
        if (this.step !== 'done') {
          this.step = 'cancelled';
          if (!this.reason)
            this.reason =
              r.cancellationCode === 'm.mismatched_sas' ? 'The emoji did not match: this session was not verified.' : 'The verification was cancelled.';
        }
        this.stop();
        break;
    }
  };

  private readonly watch = (verifier: Verifier) => {
    if (this.verifier) return;
    this.verifier = verifier;
    const show = (sas: ShowSasCallbacks) => {
      this.sas = sas;
      this.emoji = (sas.sas.emoji ?? []).map(([emoji, name]) => ({ emoji, name }));
      if (this.step !== 'confirmed') this.step = 'compare';
    };
    verifier.on(VerifierEvent.ShowSas, show);
    const already = verifier.getShowSasCallbacks();
    if (already) show(already);
    verifier.verify().catch(this.fail);
  };

  private readonly fail = (err: unknown) => {
    if (this.step === 'done') return;
    this.step = 'cancelled';
    if (!this.reason) this.reason = err instanceof Error && err.message ? `The verification stopped: ${err.message}` : 'The verification was cancelled.';
  };
}
