// Received `formatted_body` HTML, made safe to show: DOMPurify restricted to the spec's subset
// (lib/html-policy.ts), then the changes the timeline needs, made on the DOM rather than in
// markup: colours through CSSOM (the page's CSP has no 'unsafe-inline' for styles, so a style
// attribute would be refused, while `el.style.color = …` is not), links that open a new window
// without a handle on this one, the reply fallback gone, and no tree deeper than the spec allows.
import DOMPurify from 'dompurify';
import { ALLOWED_ATTRIBUTES, ALLOWED_TAGS, MAX_NESTING_DEPTH, codeClass, isAllowedAttribute, mxColor, pillUserId } from './html-policy.ts';

/** What the caller knows that the HTML does not. */
export interface SanitizeOptions {
  /** The display name for a pill's user ID (a matrix.to link to a user); the link's own text otherwise. */
  pillName?: (userId: string) => string | null;
}

let purify: ReturnType<typeof DOMPurify> | null = null;

/** A DOMPurify of our own (its hooks are global to an instance), made on first use. */
function instance(): ReturnType<typeof DOMPurify> {
  if (purify) return purify;
  purify = DOMPurify(window);
  purify.addHook('uponSanitizeAttribute', (node, data) => {
    const tag = node.nodeName.toLowerCase();
    if (!isAllowedAttribute(tag, data.attrName, data.attrValue)) {
      data.keepAttr = false;
      return;
    }
    if (tag === 'code' && data.attrName === 'class') data.attrValue = codeClass(data.attrValue)!;
    // DOMPurify's own URI check would refuse mxc:, which isAllowedAttribute has just checked.
    if (data.attrName === 'src' || data.attrName === 'href') data.forceKeepAttr = true;
  });
  return purify;
}

const CONFIG = {
  ALLOWED_TAGS: [...ALLOWED_TAGS],
  ALLOWED_ATTR: [...new Set(Object.values(ALLOWED_ATTRIBUTES).flat())],
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: false,
  // The rich-reply fallback: "Clients SHOULD strip this tag and its content" (instant_messaging.md, v1.13).
  ADD_FORBID_CONTENTS: ['mx-reply'],
  RETURN_DOM_FRAGMENT: true as const,
};

/** `html` as a fragment of the spec's subset, ready to append; never anything that runs. */
export function sanitizeHtml(html: string, options: SanitizeOptions = {}): DocumentFragment {
  const fragment = instance().sanitize(html, CONFIG);
  flattenDeepTrees(fragment);
  for (const el of [...fragment.querySelectorAll('*')]) adjust(el, options);
  return fragment;
}

/** Elements below the spec's depth limit are replaced by their text: still readable, no longer a tree. */
function flattenDeepTrees(root: DocumentFragment): void {
  const walk = (el: Element, depth: number) => {
    for (const child of [...el.children]) {
      if (depth + 1 > MAX_NESTING_DEPTH) child.replaceWith(document.createTextNode(child.textContent ?? ''));
      else walk(child, depth + 1);
    }
  };
  for (const child of [...root.children]) walk(child, 1);
}

function adjust(el: Element, options: SanitizeOptions): void {
  if (!(el instanceof HTMLElement)) return;
  switch (el.localName) {
    case 'a': {
      const href = el.getAttribute('href');
      // Its href was refused (javascript:, relative): what is left is text, not a dead link.
      if (!href) {
        el.replaceWith(...el.childNodes);
        break;
      }
      const userId = href ? pillUserId(href) : null;
      if (userId) {
        el.classList.add('pill');
        el.dataset.userId = userId;
        const name = options.pillName?.(userId);
        if (name) el.textContent = name;
      }
      // "web clients should ensure that all a tags get a rel="noopener"" (instant_messaging.md).
      el.setAttribute('target', '_blank');
      el.setAttribute('rel', 'noopener noreferrer');
      break;
    }
    case 'img': {
      // mxc:// media needs the access token (authenticated media): not fetched from here.
      const alt = el.getAttribute('alt') || el.getAttribute('title') || 'image';
      const text = document.createElement('span');
      text.className = 'img-alt';
      text.textContent = `[${alt}]`;
      el.replaceWith(text);
      break;
    }
    case 'span':
    case 'font': {
      const color = mxColor(el.getAttribute('data-mx-color')) ?? (el.localName === 'font' ? mxColor(el.getAttribute('color')) : null);
      const background = mxColor(el.getAttribute('data-mx-bg-color'));
      if (color) el.style.color = color;
      if (background) el.style.backgroundColor = background;
      if (el.localName === 'span' && el.hasAttribute('data-mx-spoiler')) hideSpoiler(el);
      break;
    }
  }
}

/**
 * A spoiler (instant_messaging.md "Spoiler messages"): its text hidden (visibility, so that it is
 * hidden from screen readers too) behind a button-like box that reveals it (revealSpoiler).
 */
function hideSpoiler(el: HTMLElement): void {
  const reason = el.getAttribute('data-mx-spoiler');
  const text = document.createElement('span');
  text.className = 'spoiler-text';
  text.append(...el.childNodes);
  el.append(text);
  el.classList.add('spoiler');
  el.setAttribute('role', 'button');
  el.setAttribute('tabindex', '0');
  el.setAttribute('aria-label', reason ? `Spoiler: ${reason}. Show it` : 'Spoiler. Show it');
  el.title = reason ? `Spoiler: ${reason}` : 'Spoiler';
}

/** Shows the spoiler an event in a sanitised fragment activated (a click, or Enter or Space on it); true if it did. */
export function revealSpoiler(e: Event): boolean {
  if (e instanceof KeyboardEvent && e.key !== 'Enter' && e.key !== ' ') return false;
  const el = (e.target as Element | null)?.closest?.('.spoiler:not(.revealed)');
  if (!(el instanceof HTMLElement)) return false;
  e.preventDefault();
  el.classList.add('revealed');
  for (const attr of ['role', 'tabindex', 'aria-label']) el.removeAttribute(attr);
  return true;
}
