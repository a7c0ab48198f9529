// Which timeline rows are "in use" and get their message toolbar mounted: the row under the
// pointer, the row holding the keyboard focus, and a row whose toolbar has a dialog open. A
// toolbar on every row (six buttons each, a thousand rows once history is loaded) made each
// scrolled frame paint and hit-test them all and each update recompute them all.
//
// Keyboard: the log is one tab stop; the Up and Down arrows move the focus from message to
// message (each row is focusable, tabindex -1, so not a tab stop of its own), and Tab goes on
// into the focused message's toolbar. Listeners are attached to the log once, not to each row.

/** The message row an element is in: its `data-key`, or null outside any message. */
function rowKeyOf(target: EventTarget | null): string | null {
  return target instanceof Element ? (target.closest<HTMLElement>('li.msg')?.dataset.key ?? null) : null;
}

export class RowFocus {
  private hovered = $state<string | null>(null);
  private focused = $state<string | null>(null);
  private pinned = $state<string | null>(null);

  isActive(key: string): boolean {
    return key === this.hovered || key === this.focused || key === this.pinned;
  }

  /** Keeps `key`'s toolbar mounted while `busy` (a dialog of it is open and holds the focus). */
  pin(key: string, busy: boolean): void {
    if (busy) this.pinned = key;
    else if (this.pinned === key) this.pinned = null;
  }

  /** Listens on the log; returns the function that stops listening. */
  attach(log: HTMLElement): () => void {
    const over = (e: MouseEvent) => (this.hovered = rowKeyOf(e.target));
    const leave = () => (this.hovered = null);
    const focusin = (e: FocusEvent) => (this.focused = rowKeyOf(e.target));
    const focusout = (e: FocusEvent) => {
      if (e.relatedTarget instanceof Node) {
        // Moving within the log: focusin names the new row.
        if (!log.contains(e.relatedTarget)) this.focused = null;
        return;
      }
      // To nowhere, or the window lost focus (it comes back to the same element): look once settled.
      setTimeout(() => {
        if (document.hasFocus() && !log.contains(document.activeElement)) this.focused = null;
      });
    };
    const keydown = (e: KeyboardEvent) => moveBetweenMessages(log, e);
    log.addEventListener('mouseover', over);
    log.addEventListener('mouseleave', leave);
    log.addEventListener('focusin', focusin);
    log.addEventListener('focusout', focusout);
    log.addEventListener('keydown', keydown);
    return () => {
      log.removeEventListener('mouseover', over);
      log.removeEventListener('mouseleave', leave);
      log.removeEventListener('focusin', focusin);
      log.removeEventListener('focusout', focusout);
      log.removeEventListener('keydown', keydown);
    };
  }
}

/**
 * Up and Down: from a message to the one before or after it; from the log itself, to the last
 * (Up) or first (Down) message in view. Past either end, and with modifiers, the keys keep their
 * own meaning (scrolling, which loads older messages at the top); so do widgets that use them.
 */
function moveBetweenMessages(log: HTMLElement, e: KeyboardEvent): void {
  if (e.defaultPrevented || (e.key !== 'ArrowUp' && e.key !== 'ArrowDown') || e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
  const from = e.target as Element;
  if (from.closest('input, textarea, select, [contenteditable="true"], [role="dialog"], dialog')) return;
  const current = from.closest<HTMLElement>('li.msg');
  // Elsewhere in the log (the jump buttons, the room's creation details): not a message to move from.
  if (!current && from !== log) return;
  const rows = [...log.querySelectorAll<HTMLElement>('li.msg')];
  const up = e.key === 'ArrowUp';
  let next: HTMLElement | undefined;
  if (current) {
    const at = rows.indexOf(current);
    next = at === -1 ? undefined : rows[up ? at - 1 : at + 1];
  } else {
    // Read on a key press, not in any per-row effect: no layout work while scrolling.
    const view = log.getBoundingClientRect();
    const inView = rows.filter((r) => {
      const box = r.getBoundingClientRect();
      return box.bottom > view.top && box.top < view.bottom;
    });
    next = up ? inView.at(-1) : inView[0];
  }
  if (!next) return;
  e.preventDefault();
  next.focus({ preventScroll: true });
  next.scrollIntoView({ block: 'nearest' });
}
