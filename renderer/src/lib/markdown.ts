// The composer's markdown, as Element sends it: CommonMark to HTML in `formatted_body` (format
// org.matrix.custom.html) only when the text has formatting beyond plain paragraphs; `body`
// stays what the user typed (client-server-api, instant_messaging.md "m.room.message msgtypes").
// Mentions picked in the composer (pills) become matrix.to links in the HTML and stay names in
// the body. Raw HTML typed in the composer is shown as text, never sent as markup.
import { HtmlRenderer, Node, Parser } from 'commonmark';
import { HTML_FORMAT, isAllowedHref, isMxcUri, pillHref } from './html-policy.ts';

/** A member picked from the @-autocomplete: their name as inserted in the text. */
export interface Pill {
  name: string;
  userId: string;
}

export interface FormattedText {
  body: string;
  format?: typeof HTML_FORMAT;
  formatted_body?: string;
}

/** Nodes that carry nothing a plain `body` would not: a message of only these is sent without HTML. */
const PLAIN_NODES = new Set(['document', 'paragraph', 'text', 'softbreak', 'linebreak', 'html_inline', 'html_block']);

const parser = new Parser();
const renderer = new HtmlRenderer({ safe: true, softbreak: '<br />' });
/** The renderer's output methods, which @types/commonmark leaves out. */
type Output = { lit(s: string): void; cr(): void };
// Typed HTML is text: escape it rather than pass it on (or drop it, as `safe` alone would).
Object.assign(renderer, {
  html_inline(this: Output, node: Node) {
    this.lit(escapeHtml(node.literal ?? ''));
  },
  html_block(this: Output, node: Node) {
    this.cr();
    this.lit(escapeHtml(node.literal ?? ''));
    this.cr();
  },
});

/** `text` as a message: always a body, plus HTML when the markdown (or a pill) formats something. */
export function formatMessage(text: string, pills: readonly Pill[] = []): FormattedText {
  const doc = parser.parse(text);
  const used = pills.filter((p) => p.name && text.includes(p.name));
  if (used.length > 0) insertPills(doc, used);
  restrictLinks(doc);
  if (isPlain(doc)) return { body: text };
  let html = renderer.render(doc).trim();
  // One paragraph needs no <p> around it ("clients should not generate HTML that is not needed").
  const only = doc.firstChild;
  if (only && only === doc.lastChild && only.type === 'paragraph' && html.startsWith('<p>') && html.endsWith('</p>')) html = html.slice(3, -4);
  return { body: text, format: HTML_FORMAT, formatted_body: html };
}

function isPlain(doc: Node): boolean {
  const walker = doc.walker();
  for (let step = walker.next(); step; step = walker.next()) {
    if (!PLAIN_NODES.has(step.node.type)) return false;
  }
  return true;
}

/** Replaces each pill's name in text nodes (outside links and code) with a link to the user. */
function insertPills(doc: Node, pills: readonly Pill[]): void {
  const byLength = [...pills].sort((a, b) => b.name.length - a.name.length);
  const texts: Node[] = [];
  const walker = doc.walker();
  for (let step = walker.next(); step; step = walker.next()) {
    if (step.entering && step.node.type === 'text' && !insideLink(step.node)) texts.push(step.node);
  }
  for (const node of texts) {
    let rest = node.literal ?? '';
    const parts: Node[] = [];
    for (;;) {
      const hit = firstPill(rest, byLength);
      if (!hit) break;
      if (hit.at > 0) parts.push(textNode(rest.slice(0, hit.at)));
      const link = new Node('link');
      link.destination = pillHref(hit.pill.userId);
      link.title = '';
      link.appendChild(textNode(hit.pill.name));
      parts.push(link);
      rest = rest.slice(hit.at + hit.pill.name.length);
    }
    if (parts.length === 0) continue;
    if (rest) parts.push(textNode(rest));
    for (const part of parts) node.insertBefore(part);
    node.unlink();
  }
}

function firstPill(text: string, pills: readonly Pill[]): { at: number; pill: Pill } | null {
  let best: { at: number; pill: Pill } | null = null;
  for (const pill of pills) {
    const at = text.indexOf(pill.name);
    if (at !== -1 && (!best || at < best.at)) best = { at, pill };
  }
  return best;
}

/**
 * Links the receiving side would refuse (a relative or javascript: destination) become their
 * text, and images become links: an <img> must have an mxc:// source, and a link to an image on
 * the web is what the user meant.
 */
function restrictLinks(doc: Node): void {
  const links: Node[] = [];
  const walker = doc.walker();
  for (let step = walker.next(); step; step = walker.next()) {
    if (step.entering && (step.node.type === 'link' || step.node.type === 'image')) links.push(step.node);
  }
  for (const node of links) {
    const dest = node.destination ?? '';
    if (node.type === 'image' && isMxcUri(dest)) continue;
    if (isAllowedHref(dest)) {
      if (node.type === 'image') {
        const link = new Node('link');
        link.destination = dest;
        link.title = node.title ?? '';
        while (node.firstChild) link.appendChild(node.firstChild);
        if (!link.firstChild) link.appendChild(textNode(dest));
        node.insertBefore(link);
        node.unlink();
      }
      continue;
    }
    while (node.firstChild) node.insertBefore(node.firstChild);
    node.unlink();
  }
}

function insideLink(node: Node): boolean {
  for (let p = node.parent; p; p = p.parent) if (p.type === 'link' || p.type === 'image') return true;
  return false;
}

function textNode(literal: string): Node {
  const n = new Node('text');
  n.literal = literal;
  return n;
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
