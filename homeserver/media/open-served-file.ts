// Opening a file the content repository serves, for the client and the federation media routes.
import { open } from 'node:fs/promises';
import type { ReadStream } from 'node:fs';
import { MatrixError } from '../http/matrix-error.ts';

/**
 * The bytes of `path` and their length, both from the one file opened: a thumbnail rendered on
 * demand and the same size rendered in the background replace each other's file (atomically), and
 * a length taken from one with the bytes of the other left the client waiting for bytes that never
 * came, until the connection timed out. A file gone since it was looked up is 404.
 */
export async function openServedFile(path: string): Promise<{ stream: ReadStream; size: number }> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new MatrixError(404, 'M_NOT_FOUND', 'Media not found');
    throw err;
  }
  try {
    const { size } = await handle.stat();
    return { stream: handle.createReadStream(), size };
  } catch (err) {
    await handle.close();
    throw err;
  }
}
