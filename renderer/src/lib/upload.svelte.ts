// The upload queue: each file the user attaches, pastes or drops is checked against the server's
// size limit, uploaded with progress (and can be cancelled), then sent as an m.image, m.video,
// m.audio or m.file message (client-server-api "m.room.message msgtypes"). One queue per signed-in
// chat, so uploads go on while the user looks at another room. In an encrypted room each file
// (and its thumbnail) is encrypted before a byte leaves (lib/attachment-crypto.ts).
import { encryptAttachment } from './attachment-crypto.ts';
import type { Chat } from './chat.svelte.ts';
import { describeError } from './errors.ts';
import { formatBytes, mediaFetcherOf } from './media.ts';
import { uploadedContent, type Probed, type Uploaded } from './media-content.ts';
import { probeMedia } from './media-probe.ts';

export interface Upload {
  id: number;
  roomId: string;
  name: string;
  size: number;
  /** Bytes sent so far, of `size`. */
  loaded: number;
  /** uploading: the bytes are on their way (can be cancelled); sending: the message is. */
  status: 'uploading' | 'sending' | 'failed';
  /** Why it failed, in words. */
  error: string | null;
  /** A failure that trying again may fix (the network, not the file's size). */
  retryable: boolean;
}

/** What an upload needs to be tried again: the file, and what is already done. */
interface Job {
  roomId: string;
  file: File;
  probed?: Probed;
  /** Set once the bytes are on the server: a retry only sends the message. */
  uploaded?: Uploaded;
  /** The poster made at upload, once it is on the server. */
  thumbnail?: Uploaded;
  /** Whether what is uploaded was encrypted: a room that changed since must not get it (see run). */
  encrypted?: boolean;
}

export class UploadQueue {
  items = $state<Upload[]>([]);
  private nextId = 1;
  /** The client's upload promises, by upload id: what client.cancelUpload takes. */
  private readonly inFlight = new Map<number, ReturnType<Chat['client']['uploadContent']>>();
  private readonly cancelled = new Set<number>();
  private readonly jobs = new Map<number, Job>();
  /** The server's m.upload.size (GET /_matrix/client/v1/media/config), asked once. */
  private maxBytes: Promise<number | null> | null = null;

  private readonly chat: Chat;

  constructor(chat: Chat) {
    this.chat = chat;
  }

  forRoom(roomId: string): Upload[] {
    return this.items.filter((u) => u.roomId === roomId);
  }

  /** Uploads and sends one file; resolves when it is sent, failed or cancelled (never rejects). */
  add(roomId: string, file: File): Promise<void> {
    const id = this.nextId++;
    this.items.push({ id, roomId, name: file.name || 'file', size: file.size, loaded: 0, status: 'uploading', error: null, retryable: false });
    this.jobs.set(id, { roomId, file });
    return this.run(id);
  }

  /** Tries a failed upload again; the bytes are not sent twice when only the message failed. */
  retry(id: number): Promise<void> {
    const item = this.items.find((u) => u.id === id);
    if (!item || item.status !== 'failed' || !item.retryable || !this.jobs.has(id)) return Promise.resolve();
    item.status = 'uploading';
    item.error = null;
    return this.run(id);
  }

  private async run(id: number): Promise<void> {
    // The reactive proxy of the item: changes to it redraw the bar.
    const item = this.items.find((u) => u.id === id)!;
    const job = this.jobs.get(id)!;
    const { file } = job;
    const client = this.chat.client;
    try {
      // Attachments in an encrypted room are encrypted before upload (client-server-api
      // "Sending encrypted attachments"): never in the clear beside an encrypted message. A retry
      // after the room turned encryption on starts over: what went up in the clear stays unused.
      const encrypt = !!client.getRoom(job.roomId)?.hasEncryptionStateEvent();
      if (job.encrypted !== undefined && job.encrypted !== encrypt) {
        delete job.uploaded;
        delete job.thumbnail;
        delete job.probed;
      }
      job.encrypted = encrypt;
      if (!job.uploaded) {
        // Said before a byte is sent, rather than after uploading 200 MB for a 413. (AES-CTR
        // adds no byte: the ciphertext is the file's size.)
        const max = await this.maxUploadBytes();
        if (max !== null && file.size > max) {
          item.status = 'failed';
          item.error = `Too large: ${item.name} is ${formatBytes(file.size)}, and this server takes files up to ${formatBytes(max)}.`;
          return;
        }
        job.probed ??= await probeMedia(file, { thumbnailImages: encrypt });
        if (this.cancelled.has(id)) return;
        // The poster first: it is small, and the file's progress bar then ends the upload.
        if (job.probed.thumbnail && !job.thumbnail) {
          job.thumbnail = await this.uploadBytes(id, job.probed.thumbnail.blob, 'thumbnail', encrypt);
          if (this.cancelled.has(id)) return;
        }
        item.loaded = 0;
        job.uploaded = await this.uploadBytes(id, file, item.name, encrypt, (loaded) => {
          item.loaded = Math.min(loaded, file.size);
        });
        if (this.cancelled.has(id)) return;
      }
      item.loaded = file.size;
      item.status = 'sending';
      this.chat.sentCount++;
      const contentUri = job.uploaded.contentUri;
      try {
        await this.chat.sendUploaded(job.roomId, uploadedContent(file, job.uploaded, job.probed, job.thumbnail) as unknown as Record<string, unknown>);
      } catch (err) {
        // The failure is shown here, with Retry; not a second time as a failed row in the timeline.
        const echo = client
          .getRoom(job.roomId)
          ?.getPendingEvents()
          .find((ev) => {
            const c = ev.getContent();
            return (c.url === contentUri || c.file?.url === contentUri) && ev.status === 'not_sent';
          });
        if (echo) client.cancelPendingEvent(echo);
        throw err;
      }
      this.remove(id);
    } catch (err) {
      this.inFlight.delete(id);
      if (this.cancelled.has(id)) return;
      const e = err as { errcode?: string; httpStatus?: number } | null;
      const tooLarge = e?.errcode === 'M_TOO_LARGE' || e?.httpStatus === 413;
      item.status = 'failed';
      item.error = tooLarge ? `Too large: the server refused ${item.name} (${formatBytes(file.size)}).` : describeError(err, 'send').message;
      // The same request would be refused again; a network failure or rate limit may pass.
      item.retryable = !tooLarge && e?.errcode !== 'M_FORBIDDEN';
    } finally {
      this.cancelled.delete(id);
    }
  }

  /**
   * Puts one blob on the server; encrypted first when the room is. The ciphertext goes up as
   * application/octet-stream and without the file's name: the server learns neither.
   */
  private async uploadBytes(id: number, blob: Blob, name: string, encrypt: boolean, progress?: (loaded: number) => void): Promise<Uploaded> {
    let body = blob;
    let encrypted: Uploaded['encrypted'];
    if (encrypt) {
      const sealed = await encryptAttachment(await blob.arrayBuffer());
      body = new Blob([sealed.ciphertext], { type: 'application/octet-stream' });
      encrypted = sealed.file;
      // Cancelled while it was being encrypted: not a byte goes up (run() sees the cancel).
      if (this.cancelled.has(id)) throw new Error('Cancelled');
    }
    const upload = this.chat.client.uploadContent(body, {
      name,
      includeFilename: !encrypt,
      ...(body.type ? { type: body.type } : {}),
      ...(progress ? { progressHandler: ({ loaded }: { loaded: number }) => progress(loaded) } : {}),
    });
    this.inFlight.set(id, upload);
    try {
      const { content_uri: contentUri } = await upload;
      return encrypted ? { contentUri, encrypted } : { contentUri };
    } finally {
      this.inFlight.delete(id);
    }
  }

  /** Stops an upload: the bytes stop, and no message is sent. */
  cancel(id: number): void {
    this.cancelled.add(id);
    const upload = this.inFlight.get(id);
    if (upload) this.chat.client.cancelUpload(upload);
    this.inFlight.delete(id);
    this.remove(id);
  }

  /** Forgets a failed upload once its reason has been read. */
  dismiss(id: number): void {
    this.remove(id);
  }

  private remove(id: number): void {
    const at = this.items.findIndex((u) => u.id === id);
    if (at !== -1) this.items.splice(at, 1);
    this.jobs.delete(id);
  }

  private maxUploadBytes(): Promise<number | null> {
    this.maxBytes ??= this.chat.client.getMediaConfig(true).then(
      (config) => {
        const size = config['m.upload.size'];
        return typeof size === 'number' && size > 0 ? size : null;
      },
      () => {
        // Unknown: the server still refuses what is too large, and the upload says so then.
        this.maxBytes = null;
        return null;
      },
    );
    return this.maxBytes;
  }
}

const queues = new WeakMap<Chat, UploadQueue>();

/** The chat's upload queue, made on first use. */
export function uploadsOf(chat: Chat): UploadQueue {
  let queue = queues.get(chat);
  if (!queue) queues.set(chat, (queue = new UploadQueue(chat)));
  return queue;
}

/**
 * On sign-out: stops the uploads still going and revokes every fetched file's object URL, so
 * that the next account to sign in on this page holds none of this one's files.
 */
export function stopMedia(chat: Chat): void {
  const queue = queues.get(chat);
  if (queue) for (const u of [...queue.items]) queue.cancel(u.id);
  mediaFetcherOf(chat).clear();
}
