// Streams an upload's body into a temp file: never more than the limit, hashed on the way, and
// synced to disk before the caller moves it into place.
import { createHash } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { MatrixError } from '../http/matrix-error.ts';
import { SNIFF_BYTES } from './content-type.ts';

export interface ReceivedFile {
  sizeBytes: number;
  sha256: string;
  /** The first bytes, for sniffing the content type. */
  head: Buffer;
}

export function tooLarge(limit: number): MatrixError {
  return new MatrixError(413, 'M_TOO_LARGE', `Upload is larger than the limit of ${limit} bytes`);
}

/**
 * Writes `body` to `tempFile`, answering M_TOO_LARGE as soon as the limit is passed (or before
 * reading anything when Content-Length already says so). On any failure the temp file is removed.
 * The body is never destroyed here: the caller still has to send its error response on that socket.
 */
export async function receiveUpload(body: Readable, tempFile: string, limit: number, declaredLength: number | undefined): Promise<ReceivedFile> {
  if (declaredLength !== undefined && declaredLength > limit) throw tooLarge(limit);
  const fh = await open(tempFile, 'wx', 0o600);
  const hash = createHash('sha256');
  const headChunks: Buffer[] = [];
  let headBytes = 0;
  let size = 0;
  let ok = false;
  try {
    // destroyOnReturn: false, so that leaving the loop early (the limit) does not tear down the socket.
    const chunks = body.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>;
    for await (const chunk of chunks) {
      size += chunk.length;
      if (size > limit) {
        body.pause();
        throw tooLarge(limit);
      }
      if (headBytes < SNIFF_BYTES) {
        headChunks.push(chunk);
        headBytes += chunk.length;
      }
      hash.update(chunk);
      let written = 0;
      while (written < chunk.length) written += (await fh.write(chunk, written, chunk.length - written)).bytesWritten;
    }
    if (body.readableAborted) throw interrupted();
    await fh.sync();
    ok = true;
  } catch (err) {
    // The client hung up mid-body: nothing to answer, nothing stored. A full disk (ENOSPC) is
    // answered by the error middleware (http/disk-errors.ts).
    if (body.readableAborted || isAbort(err)) throw interrupted();
    throw err;
  } finally {
    await fh.close();
    if (!ok) await rm(tempFile, { force: true });
  }
  return { sizeBytes: size, sha256: hash.digest('hex'), head: Buffer.concat(headChunks).subarray(0, SNIFF_BYTES) };
}

function isAbort(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === 'ECONNRESET' || e?.code === 'ERR_STREAM_PREMATURE_CLOSE' || e?.message === 'aborted';
}

function interrupted(): MatrixError {
  return new MatrixError(400, 'M_UNKNOWN', 'The upload was interrupted before its body was complete');
}
