// The HTML a message may carry, as the spec suggests it (client-server-api, instant_messaging.md
// "m.room.message msgtypes"): the tags, the attributes per tag, and the rules on their values.
// Pure, so that both directions use it: what the composer emits (lib/markdown.ts) and what the
// timeline lets through (lib/sanitize.ts).

/** The `format` of a message whose `formatted_body` is HTML. */
export const HTML_FORMAT = 'org.matrix.custom.html';

/** The spec's "strongly suggested set of HTML tags to permit" (font is deprecated there since v1.10 but still sent by old clients). */
export const ALLOWED_TAGS = [
  'del',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'blockquote',
  'p',
  'a',
  'ul',
  'ol',
  'sup',
  'sub',
  'li',
  'b',
  'i',
  'u',
  'strong',
  'em',
  's',
  'code',
  'hr',
  'br',
  'div',
  'table',
  'thead',
  'tbody',
  'tr',
  'th',
  'td',
  'caption',
  'pre',
  'span',
  'img',
  'details',
  'summary',
  'font',
] as const;

/** "Clients should only permit the attributes listed for the tags below." */
export const ALLOWED_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = {
  span: ['data-mx-bg-color', 'data-mx-color', 'data-mx-spoiler', 'data-mx-maths'],
  font: ['data-mx-bg-color', 'data-mx-color', 'color'],
  a: ['target', 'href'],
  img: ['width', 'height', 'alt', 'title', 'src'],
  ol: ['start'],
  code: ['class'],
  div: ['data-mx-maths'],
};

/** "Tags must not be nested more than 100 levels deep." Deeper elements are flattened to their text. */
export const MAX_NESTING_DEPTH = 100;

/** The schemes an `a href` may have: "not relative and has a scheme matching one of" these. */
const LINK_SCHEMES = new Set(['http:', 'https:', 'ftp:', 'mailto:', 'magnet:']);

/** An absolute URL with an allowed scheme (never javascript:, data:, or a relative path). */
export function isAllowedHref(href: string): boolean {
  const m = /^([a-z][a-z0-9+.-]*:)/i.exec(href.trim());
  return m !== null && LINK_SCHEMES.has(m[1]!.toLowerCase());
}

/** An `mxc://server/media-id` URI (client-server-api "Matrix Content (mxc://) URIs"): the only img src allowed. */
export function isMxcUri(src: string): boolean {
  return /^mxc:\/\/[A-Za-z0-9.:[\]-]+\/[A-Za-z0-9_-]+$/.test(src);
}

/** A data-mx-color value: "a # character followed by a 6-character hex color code"; anything else is dropped. */
export function mxColor(value: string | null | undefined): string | null {
  return value && /^#[0-9a-fA-F]{6}$/.test(value) ? value.toLowerCase() : null;
}

/** `code class`: "only classes which start with language-". Returns the class to keep, or null. */
export function codeClass(value: string): string | null {
  const kept = value.split(/\s+/).filter((c) => /^language-[\w+#.-]+$/.test(c));
  return kept.length > 0 ? kept.join(' ') : null;
}

/** Whether `attr="value"` may stay on `tag`. */
export function isAllowedAttribute(tag: string, attr: string, value: string): boolean {
  if (!ALLOWED_ATTRIBUTES[tag]?.includes(attr)) return false;
  if (tag === 'a' && attr === 'href') return isAllowedHref(value);
  if (tag === 'img' && attr === 'src') return isMxcUri(value);
  if (tag === 'code' && attr === 'class') return codeClass(value) !== null;
  if (attr === 'data-mx-color' || attr === 'data-mx-bg-color' || attr === 'color') return mxColor(value) !== null;
  if (tag === 'ol' && attr === 'start') return /^-?\d{1,9}$/.test(value);
  if (tag === 'img' && (attr === 'width' || attr === 'height')) return /^\d{1,5}$/.test(value);
  return true;
}

/** A link to a user as pills are sent (https://matrix.to/#/@alice:example.org): the user ID, else null. */
export function pillUserId(href: string): string | null {
  const m = /^https:\/\/matrix\.to\/#\/([^/?#]+)$/.exec(href);
  if (!m) return null;
  try {
    const id = decodeURIComponent(m[1]!);
    return /^@[^:\s]+:\S+$/.test(id) ? id : null;
  } catch {
    return null;
  }
}

/** The matrix.to link a pill carries (appendices "matrix.to navigation"). */
export function pillHref(userId: string): string {
  return `https://matrix.to/#/${encodeURIComponent(userId).replace(/%40/g, '@').replace(/%3A/g, ':')}`;
}
