// Typing notifications (client-server-api "Typing Notifications"): the line a room shows about
// who is typing, and when the composer tells the server that its user is typing or stopped.

/** "Bob is typing…", "Bob and Carol are typing…", "Several people are typing…"; null for nobody. */
export function typingLine(names: string[]): string | null {
  if (names.length === 0) return null;
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return 'Several people are typing…';
}

/**
 * The timeout sent with `typing: true`: the server drops the state by itself after this, should
 * the client vanish without saying it stopped. 30 s, as Element sends.
 */
export const TYPING_SERVER_TIMEOUT_MS = 30_000;
/** Without a keystroke for this long the user has paused: say they stopped (Element uses 10 s). */
export const TYPING_IDLE_MS = 10_000;
/** While the user keeps typing, `typing: true` is sent again this often, before the server's timeout ends it. */
export const TYPING_RENEW_MS = 20_000;

/** Sends the user's typing state for a room; matrix-js-sdk's `client.sendTyping`. */
export type SendTyping = (roomId: string, typing: boolean, timeoutMs: number) => Promise<unknown>;

/**
 * The composer's side: `input` on every change of the text, `stop` when the message is sent or
 * the room changes. Sends `typing: true` once (renewed while typing goes on), and `false` when
 * the text is cleared, sent, or left idle; never one request per keystroke.
 */
export class TypingNotifier {
  private roomId: string | null = null;
  private sentAt = 0;
  private idle: ReturnType<typeof setTimeout> | undefined;

  private readonly send: SendTyping;
  private readonly now: () => number;

  constructor(send: SendTyping, now: () => number = Date.now) {
    this.send = send;
    this.now = now;
  }

  input(roomId: string, text: string): void {
    if (this.roomId !== null && this.roomId !== roomId) this.stop();
    if (!text.trim()) {
      this.stop();
      return;
    }
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.stop(), TYPING_IDLE_MS);
    if (this.roomId === roomId && this.now() - this.sentAt < TYPING_RENEW_MS) return;
    this.roomId = roomId;
    this.sentAt = this.now();
    this.post(roomId, true, TYPING_SERVER_TIMEOUT_MS);
  }

  stop(): void {
    clearTimeout(this.idle);
    this.idle = undefined;
    if (this.roomId === null) return;
    const roomId = this.roomId;
    this.roomId = null;
    this.post(roomId, false, 0);
  }

  private post(roomId: string, typing: boolean, timeoutMs: number): void {
    // A lost typing notice is not worth an error on screen: the server's timeout ends it anyway.
    this.send(roomId, typing, timeoutMs).catch(() => {});
  }
}
