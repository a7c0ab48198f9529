// The federation media answer (server-server content_repository.yaml, "multipart/mixed"): exactly
// two parts, a JSON object of metadata (always `{}` today), then either the bytes with their own
// Content-Type and Content-Disposition, or a Location header to fetch them from (RFC 2046 5.1).
// Writing it is a fixed head and tail around the file; reading it streams the second part without
// holding it in memory, and fails when the closing delimiter never comes (a peer that died half way).
import { randomBytes } from 'node:crypto';
import { MatrixError } from '../http/matrix-error.ts';

/** A fresh boundary: random, so that it cannot occur in the bytes around which it is put. */
export function newBoundary(): string {
  return randomBytes(16).toString('hex');
}

/** What goes before the media's bytes. */
export function multipartHead(boundary: string, contentType: string, disposition: string): Buffer {
  return Buffer.from(
    `--${boundary}\r\nContent-Type: application/json\r\n\r\n{}\r\n--${boundary}\r\nContent-Type: ${contentType}\r\nContent-Disposition: ${disposition}\r\n\r\n`,
    'latin1',
  );
}

/** What goes after them: the close delimiter. */
export function multipartTail(boundary: string): Buffer {
  return Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1');
}

/** The boundary parameter of a multipart/mixed Content-Type, or undefined when it is not one. */
export function boundaryOf(contentType: string | undefined): string | undefined {
  if (!contentType || !/^\s*multipart\/mixed\s*;/i.test(contentType)) return undefined;
  const m = /;\s*boundary\s*=\s*(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(contentType);
  return m ? (m[1] ?? m[2]) : undefined;
}

export interface MultipartMedia {
  /** The first part, parsed. */
  metadata: unknown;
  /** The second part's headers, names lower-cased. */
  headers: Record<string, string>;
  /** The second part's bytes (empty when it carries a Location instead). */
  body: AsyncGenerator<Buffer>;
}

/**
 * The metadata part and the second part's headers are small; more than this before the bytes
 * start is not a media answer. 64 KiB holds any real header block many times over.
 */
export const MAX_MULTIPART_PREAMBLE_BYTES = 64 * 1024;

const malformed = (why: string) => new MatrixError(502, 'M_UNKNOWN', `The remote server's media answer is malformed: ${why}`);

/** Reads a federation media answer from `source` (the response body). */
export async function readMultipart(source: AsyncIterable<Buffer>, boundary: string): Promise<MultipartMedia> {
  const it = source[Symbol.asyncIterator]();
  let buf: Buffer = Buffer.alloc(0);
  let ended = false;
  const more = async (): Promise<boolean> => {
    if (ended) return false;
    const next = await it.next();
    if (next.done) {
      ended = true;
      return false;
    }
    buf = buf.length === 0 ? next.value : Buffer.concat([buf, next.value]);
    return true;
  };
  /** Waits until `needle` is in buf (from `from`) and returns its index, within the preamble bound. */
  const find = async (needle: string, from: number): Promise<number> => {
    for (;;) {
      const at = buf.indexOf(needle, from, 'latin1');
      if (at >= 0) return at;
      if (buf.length > MAX_MULTIPART_PREAMBLE_BYTES) throw malformed('no media part within the first 64 KiB');
      if (!(await more())) throw malformed('it ended before its media part');
    }
  };
  const dash = `--${boundary}`;
  const delimiter = `\r\n--${boundary}`;
  // RFC 2046: the first delimiter may follow a preamble; it starts the body or a line.
  let start = await find(dash, 0);
  if (start > 0 && buf.indexOf(delimiter, start - 2, 'latin1') !== start - 2) start = (await find(delimiter, 0)) + 2;
  const firstHeadersEnd = await find('\r\n\r\n', start);
  const firstEnd = await find(delimiter, firstHeadersEnd + 4);
  const firstHeaders = parseHeaders(buf.subarray(start + dash.length, firstHeadersEnd).toString('latin1'));
  if (!/^application\/json\b/i.test(firstHeaders['content-type'] ?? '')) throw malformed('its first part is not application/json');
  let metadata: unknown;
  try {
    metadata = JSON.parse(buf.subarray(firstHeadersEnd + 4, firstEnd).toString('utf8'));
  } catch {
    throw malformed('its first part is not JSON');
  }
  const secondStart = firstEnd + delimiter.length;
  const secondHeadersEnd = await find('\r\n\r\n', secondStart);
  const headers = parseHeaders(buf.subarray(secondStart, secondHeadersEnd).toString('latin1'));
  buf = buf.subarray(secondHeadersEnd + 4);

  async function* body(): AsyncGenerator<Buffer> {
    // Everything before the first "\r\n--boundary" is the media. A chunk may end inside the
    // delimiter, so the last delimiter.length - 1 bytes wait for the next chunk.
    for (;;) {
      const at = buf.indexOf(delimiter, 0, 'latin1');
      if (at >= 0) {
        if (at > 0) yield buf.subarray(0, at);
        buf = Buffer.alloc(0);
        return;
      }
      const keep = Math.min(buf.length, delimiter.length - 1);
      if (buf.length > keep) {
        const out = buf.subarray(0, buf.length - keep);
        buf = buf.subarray(buf.length - keep);
        yield out;
      }
      if (!(await more())) throw malformed('it ended before the close of its media part');
    }
  }
  return { metadata, headers, body: body() };
}

function parseHeaders(block: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    out[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return out;
}
