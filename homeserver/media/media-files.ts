// Where media bytes live on disk, and the id rules that keep every path inside that folder.
//
//   <dataDir>/media/<aa>/<bb>/<mediaId>                           the uploaded bytes
//   <dataDir>/media/thumbnails/<aa>/<bb>/<mediaId>/<w>x<h>-<method>.<ext>
//   <dataDir>/media/tmp/                                          uploads in progress; emptied at start
//
// <aa> and <bb> are the id's first two pairs of characters, so that no folder grows past a few
// thousand entries. Ids are random (18 bytes, 144 bits), so two ids that differ only in case (which
// a case-insensitive file system would confuse) never meet in practice.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * content_repo.md "Security considerations": a media id is only `A-Za-z0-9`, `_` and `-`. An
 * allow-list rather than a block-list of `.` and `/`, so that percent-encoding or UTF-8 tricks
 * cannot smuggle a traversal through. 255 bounds the file name length every file system accepts.
 */
const MEDIA_ID = /^[A-Za-z0-9_-]{1,255}$/;

export function isValidMediaId(id: string): boolean {
  return MEDIA_ID.test(id);
}

/** 24 URL-safe characters. */
export function newMediaId(): string {
  return randomBytes(18).toString('base64url');
}

export class MediaFiles {
  readonly root: string;
  readonly tmpDir: string;
  readonly thumbnailRoot: string;
  private tmpCounter = 0;

  constructor(dataDir: string) {
    this.root = join(dataDir, 'media');
    this.tmpDir = join(this.root, 'tmp');
    this.thumbnailRoot = join(this.root, 'thumbnails');
  }

  /** Creates the folders, and empties tmp: anything there is an upload a crash interrupted. */
  async init(): Promise<void> {
    await mkdir(this.tmpDir, { recursive: true });
    for (const name of await readdir(this.tmpDir)) await rm(join(this.tmpDir, name), { recursive: true, force: true });
    await mkdir(this.thumbnailRoot, { recursive: true });
  }

  /** A fresh temp file name; the file itself is created by the writer (flag 'wx'). */
  tempPath(): string {
    return join(this.tmpDir, `${process.pid}-${++this.tmpCounter}-${randomBytes(6).toString('hex')}`);
  }

  contentPath(mediaId: string): string {
    return join(this.root, ...shard(mediaId), mediaId);
  }

  thumbnailDir(mediaId: string): string {
    return join(this.thumbnailRoot, ...shard(mediaId), mediaId);
  }

  thumbnailPath(mediaId: string, width: number, height: number, method: string, ext: string): string {
    return join(this.thumbnailDir(mediaId), `${width}x${height}-${method}.${ext}`);
  }

  /**
   * Moves a complete, fsynced temp file to its final name and makes the rename itself durable by
   * syncing the folder, so that a row committed afterwards never points at a file a crash lost.
   */
  async commit(tempFile: string, finalPath: string, durable: boolean): Promise<void> {
    const dir = dirname(finalPath);
    await mkdir(dir, { recursive: true });
    await rename(tempFile, finalPath);
    if (durable) await syncDir(dir);
  }
}

function shard(mediaId: string): [string, string] {
  // The path is built only from ids that passed the allow-list; anything else is a bug upstream.
  if (!isValidMediaId(mediaId)) throw new Error(`refusing to build a path from media id ${JSON.stringify(mediaId)}`);
  const padded = mediaId.padEnd(4, '_');
  return [padded.slice(0, 2), padded.slice(2, 4)];
}

/** fsync on a folder: needed on Linux and macOS for a rename to survive power loss; Windows cannot open folders, and does not need it. */
async function syncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
