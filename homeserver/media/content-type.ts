// What an upload is: sniffed from its first bytes where the format has a reliable signature, else
// what the client declared, else application/octet-stream. And how it may be served.

/** Enough bytes for every signature below. */
export const SNIFF_BYTES = 64;

/**
 * Content types that share a container with the sniffed one: when the client declared one of
 * these, its more precise word wins (an .m4a is `audio/mp4` though its box says only "isom").
 */
const SAME_CONTAINER: Record<string, string[]> = {
  'video/mp4': ['video/mp4', 'audio/mp4', 'audio/x-m4a', 'video/quicktime', 'video/x-m4v'],
  'video/webm': ['video/webm', 'audio/webm', 'video/x-matroska', 'audio/x-matroska'],
  'audio/ogg': ['audio/ogg', 'video/ogg', 'application/ogg', 'audio/opus'],
};

const ascii = (b: Buffer, start: number, end: number) => b.subarray(start, end).toString('latin1');

/** The format's own type from its magic number, or undefined when the bytes say nothing reliable. */
export function sniff(head: Buffer): string | undefined {
  if (head.length >= 8 && head.readUInt32BE(0) === 0x89504e47 && head.readUInt32BE(4) === 0x0d0a1a0a) return 'image/png';
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'image/jpeg';
  if (head.length >= 6 && (ascii(head, 0, 6) === 'GIF87a' || ascii(head, 0, 6) === 'GIF89a')) return 'image/gif';
  if (head.length >= 12 && ascii(head, 0, 4) === 'RIFF') {
    const form = ascii(head, 8, 12);
    if (form === 'WEBP') return 'image/webp';
    if (form === 'WAVE') return 'audio/wav';
  }
  if (head.length >= 12 && ascii(head, 4, 8) === 'ftyp') {
    const brand = ascii(head, 8, 12);
    if (brand === 'avif' || brand === 'avis') return 'image/avif';
    if (brand === 'heic' || brand === 'heix' || brand === 'mif1' || brand === 'msf1') return 'image/heic';
    if (brand === 'qt  ') return 'video/quicktime';
    if (brand === 'M4A ' || brand === 'M4B ') return 'audio/mp4';
    return 'video/mp4';
  }
  if (head.length >= 4 && head.readUInt32BE(0) === 0x1a45dfa3) {
    // EBML: WebM declares its DocType "webm" within the first header; anything else is Matroska.
    return head.includes('webm', 0, 'latin1') ? 'video/webm' : 'video/x-matroska';
  }
  if (head.length >= 4 && ascii(head, 0, 4) === 'OggS') return 'audio/ogg';
  if (head.length >= 4 && ascii(head, 0, 4) === 'fLaC') return 'audio/flac';
  if (head.length >= 3 && ascii(head, 0, 3) === 'ID3') return 'audio/mpeg';
  if (head.length >= 5 && ascii(head, 0, 5) === '%PDF-') return 'application/pdf';
  return undefined;
}

/**
 * An MPEG audio frame header (11 sync bits, layer III) is only two bytes long, so random data
 * (an encrypted attachment) matches one time in a few thousand: trusted only when the client
 * said audio, or said nothing.
 */
function looksLikeMp3Frame(head: Buffer): boolean {
  return head.length >= 2 && head[0] === 0xff && (head[1]! & 0xe0) === 0xe0 && (head[1]! & 0x06) === 0x02;
}

/** A syntactically valid media type, lower-cased, parameters kept; undefined otherwise. */
export function normaliseDeclared(declared: string | undefined): string | undefined {
  if (!declared) return undefined;
  const m = /^\s*([A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+)\s*(;[\x20-\x7e]*)?$/.exec(declared);
  if (!m || declared.length > 255) return undefined;
  return m[1]!.toLowerCase() + (m[2] ? m[2].trim() : '');
}

export function baseType(contentType: string): string {
  return contentType.split(';', 1)[0]!.trim().toLowerCase();
}

/** The type stored for an upload and served with it. */
export function chooseContentType(head: Buffer, declaredHeader: string | undefined): string {
  const declared = normaliseDeclared(declaredHeader);
  const sniffed = sniff(head);
  if (sniffed) {
    if (declared && SAME_CONTAINER[sniffed]?.includes(baseType(declared))) return declared;
    return sniffed;
  }
  if (looksLikeMp3Frame(head) && (!declared || baseType(declared).startsWith('audio/'))) return declared ?? 'audio/mpeg';
  return declared ?? 'application/octet-stream';
}

/**
 * content_repo.md "Serving inline content": the types a browser will only ever render as what they
 * claim to be. Everything else (HTML, SVG, XML, scripts, unknown) is served as an attachment.
 */
const INLINE_TYPES = new Set([
  'text/css',
  'text/plain',
  'text/csv',
  'application/json',
  'application/ld+json',
  'image/jpeg',
  'image/gif',
  'image/png',
  'image/apng',
  'image/webp',
  'image/avif',
  'video/mp4',
  'video/webm',
  'video/ogg',
  'video/quicktime',
  'audio/mp4',
  'audio/webm',
  'audio/aac',
  'audio/mpeg',
  'audio/ogg',
  'audio/wave',
  'audio/wav',
  'audio/x-wav',
  'audio/x-pn-wav',
  'audio/flac',
  'audio/x-flac',
]);

export function isInlineSafe(contentType: string): boolean {
  return INLINE_TYPES.has(baseType(contentType));
}

/**
 * The Content-Disposition value (RFC 6266). A plain ASCII name goes in a quoted `filename`; any
 * other name (non-ASCII, quotes, backslashes, control characters) only as RFC 8187 `filename*`,
 * whose percent-encoding leaves nothing that could break the header.
 */
export function contentDisposition(disposition: 'inline' | 'attachment', filename: string | null | undefined): string {
  if (filename === null || filename === undefined || filename === '') return disposition;
  if (/^[\x20-\x7e]*$/.test(filename) && !/["\\%]/.test(filename)) return `${disposition}; filename="${filename}"`;
  const encoded = encodeURIComponent(wellFormed(filename)).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${disposition}; filename*=utf-8''${encoded}`;
}

/** Lone UTF-16 surrogates (which encodeURIComponent rejects) become U+FFFD. */
export function wellFormed(s: string): string {
  return s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/**
 * The file name a Content-Disposition header gives (RFC 6266): `filename*` (RFC 8187, UTF-8) wins
 * over `filename`. Undefined when it gives none or cannot be decoded.
 */
export function filenameOf(disposition: string | undefined): string | undefined {
  if (!disposition) return undefined;
  const star = /;\s*filename\*\s*=\s*utf-8''([^;\s]+)/i.exec(disposition);
  if (star) {
    try {
      return decodeURIComponent(star[1]!);
    } catch {
      return undefined;
    }
  }
  const plain = /;\s*filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(disposition);
  if (!plain) return undefined;
  return plain[1] !== undefined ? plain[1].replace(/\\(.)/g, '$1') : plain[2];
}
