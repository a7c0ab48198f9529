// Moves an element to the end of <body> while it exists: for dialogs opened from inside the
// timeline, which is an aria-live log. Left there, a dialog's contents (a picker's hundred emoji
// names) would be read out as new messages, and it would sit inside the list of messages.
export function portal(node: HTMLElement): { destroy(): void } {
  document.body.appendChild(node);
  return { destroy: () => node.remove() };
}
