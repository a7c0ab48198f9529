// A Svelte action that calls back once an element comes near the screen: media rows fetch their
// file only then, so opening a room or scrolling through a thousand messages fetches the few
// images that are looked at, not all of them. One IntersectionObserver serves every element.

/**
 * How far outside the visible area an element counts as near: about a screen's height, so an image
 * is usually in by the time it scrolls into view, while a scroll through a long history still
 * skips the many it passes.
 */
export const NEAR_SCREEN_MARGIN = '600px 0px';

const callbacks = new WeakMap<Element, () => void>();
let observer: IntersectionObserver | null = null;

function shared(): IntersectionObserver {
  observer ??= new IntersectionObserver(
    (entries) => {
      for (const entry of entries) {
        if (!entry.isIntersecting) continue;
        const cb = callbacks.get(entry.target);
        observer!.unobserve(entry.target);
        callbacks.delete(entry.target);
        cb?.();
      }
    },
    { rootMargin: NEAR_SCREEN_MARGIN },
  );
  return observer;
}

/** `use:whenNear={load}`: `load` runs once, when the element first comes near the screen. */
export function whenNear(node: Element, onNear: () => void) {
  callbacks.set(node, onNear);
  shared().observe(node);
  return {
    destroy() {
      callbacks.delete(node);
      observer?.unobserve(node);
    },
  };
}

/**
 * `use:box={{ width, height }}`: reserves an element's box before its content loads, through the
 * CSSOM (the page's Content-Security-Policy forbids style attributes, not styles set from script).
 * The aspect ratio keeps the box right when a narrow screen scales it down with max-width.
 */
export function box(node: HTMLElement, size: { width: number; height: number }) {
  const apply = (s: { width: number; height: number }) => {
    node.style.width = `${s.width}px`;
    node.style.aspectRatio = `${s.width} / ${s.height}`;
  };
  apply(size);
  return { update: apply };
}
