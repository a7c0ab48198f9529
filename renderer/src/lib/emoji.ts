// The emoji picker's data and search. The data (emojibase-data's English compact set, 570 kB of
// JSON) is loaded with a dynamic import the first time a picker opens, so it never weighs on
// the start of the client.

export interface Emoji {
  unicode: string;
  /** "party popper": what the picker's button is called. */
  label: string;
  /** Search words ("tada", "celebrate"). */
  tags: string[];
}

/** The fields of emojibase's CompactEmoji that the picker reads. */
interface CompactEmojiLike {
  unicode: string;
  label: string;
  tags?: string[];
  group?: number;
  order?: number;
  emoticon?: string | string[];
}

/** emojibase's group 2 is "component": skin tones and hair styles, not emoji to send alone. */
const COMPONENT_GROUP = 2;

let loading: Promise<Emoji[]> | null = null;

/** All emoji in Unicode's order, loaded once. */
export function loadEmoji(): Promise<Emoji[]> {
  loading ??= import('emojibase-data/en/compact.json')
    .then((m) => prepareEmoji(m.default))
    .catch((err: unknown) => {
      loading = null; // let the next opening try again
      throw err;
    });
  return loading;
}

/** Drops what is not an emoji to send (components; regional indicators, which have no group). */
export function prepareEmoji(data: readonly CompactEmojiLike[]): Emoji[] {
  return data
    .filter((e) => typeof e.group === 'number' && e.group !== COMPONENT_GROUP && e.unicode)
    .sort((a, b) => (a.order ?? 0) - (b.order ?? 0))
    .map((e) => {
      const emoticons = e.emoticon === undefined ? [] : Array.isArray(e.emoticon) ? e.emoticon : [e.emoticon];
      return { unicode: e.unicode, label: e.label, tags: [...(e.tags ?? []), ...emoticons] };
    });
}

/**
 * Emoji matching every word of `query`, each word the start of a word of the label or of a tag;
 * a label or tag equal to the whole query comes first ("tada" finds 🎉 first).
 */
export function searchEmoji(all: readonly Emoji[], query: string): Emoji[] {
  const raw = query.trim().toLowerCase();
  // ":tada:" is searched as "tada"; an emoticon (":D") is also matched as typed.
  const q = raw.replace(/^:|:$/g, '');
  if (!q) return [...all];
  const words = q.split(/\s+/);
  const exact: Emoji[] = [];
  const rest: Emoji[] = [];
  for (const e of all) {
    const label = e.label.toLowerCase();
    const tags = e.tags.map((t) => t.toLowerCase());
    if (label === q || tags.includes(q) || tags.includes(raw)) {
      exact.push(e);
      continue;
    }
    const terms = [...label.split(/[\s:,-]+/), ...tags];
    if (words.every((w) => terms.some((t) => t.startsWith(w)))) rest.push(e);
  }
  return [...exact, ...rest];
}
