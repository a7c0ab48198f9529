// What a message's reaction buttons show, as plain values computed once per timeline update:
// the timeline keeps a row unchanged (lib/row-reuse.ts) while these are equal, so a message
// whose reactions did not change costs nothing when others' do (client-server-api "Event
// annotations and reactions").
import { groupReactions, listNames, type RelatedEventLike } from './relations.ts';

export interface ReactionView {
  key: string;
  count: number;
  /** One of the senders is the user: the button is pressed, and clicking takes it back. */
  mine: boolean;
  /** "Bob and you reacted with 👍": the button's tooltip and part of its accessible name. */
  who: string;
}

/** One entry per emoji, in the order first used; `nameOf` names a sender other than `me`. */
export function reactionView(annotations: Iterable<RelatedEventLike> | undefined, me: string, nameOf: (userId: string) => string): ReactionView[] {
  if (!annotations) return [];
  return groupReactions(annotations, me).map((g) => {
    const names = listNames(g.senders.map((s) => (s === me ? 'you' : nameOf(s))));
    return { key: g.key, count: g.senders.length, mine: g.mine !== null, who: `${names} reacted with ${g.key}` };
  });
}
