// Messages leave in the order the user typed them. Preparing one is asynchronous (the markdown
// chunk loads on the first send, an encrypted room waits for the crypto), and the wait is not
// the same for each: vite's loader makes the first import of a chunk wait for its preloads while
// a second import right behind it goes straight on, so the second message overtook the first.
// The SDK's scheduler sends what it is handed in order; this hands it over in order.

/** A prepared send: `sent` settles with the send itself, after later sends may have been handed over. */
export interface Handed<T> {
  sent: Promise<T>;
}

export class SendOrder {
  private last: Promise<unknown> = Promise.resolve();

  /**
   * Runs `prepare` after every earlier one has handed its send over (or failed), then `hand` at
   * once, without yielding, so nothing can be handed in between. Resolves with what `hand` sent.
   */
  async run<C, T>(prepare: () => Promise<C>, hand: (prepared: C) => Promise<T>): Promise<T> {
    const step = this.last.then(async (): Promise<Handed<T>> => ({ sent: hand(await prepare()) }));
    // A failed preparation must not hold up the messages behind it.
    this.last = step.catch(() => undefined);
    return (await step).sent;
  }
}
