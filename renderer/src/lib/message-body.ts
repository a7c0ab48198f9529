// What a message row's body shows, read from the event once as plain values (the SDK mutates
// its events in place, so rows must not read them later): the msgtype, the text, the HTML when
// the sender formatted it, and a map link for a location (client-server-api "m.room.message
// msgtypes"). A msgtype this client does not know shows its `body`, as the spec asks.
import { HTML_FORMAT } from './html-policy.ts';

export interface BodyContent {
  msgtype: string;
  /** org.matrix.custom.html `formatted_body`, unsanitised: lib/sanitize.ts makes it safe. */
  html: string | null;
  /** For m.location: a web map of its geo: URI. */
  mapUrl: string | null;
}

/** Formatted text is read for these; others show their body (media captions are shown plain by MediaBody). */
const FORMATTED_MSGTYPES = new Set(['m.text', 'm.emote', 'm.notice']);

export function bodyContent(content: Record<string, unknown>): BodyContent {
  const msgtype = typeof content.msgtype === 'string' ? content.msgtype : '';
  const html =
    FORMATTED_MSGTYPES.has(msgtype) && content.format === HTML_FORMAT && typeof content.formatted_body === 'string' && content.formatted_body.trim()
      ? content.formatted_body
      : null;
  const mapUrl = msgtype === 'm.location' && typeof content.geo_uri === 'string' ? geoMapUrl(content.geo_uri) : null;
  return { msgtype, html, mapUrl };
}

/**
 * An OpenStreetMap link for a geo: URI (RFC 5870: `geo:lat,lon[,alt][;u=uncertainty]`), or null
 * when it is not one: the URI itself is no link a browser can open.
 */
export function geoMapUrl(geoUri: string): string | null {
  const m = /^geo:(-?\d{1,2}(?:\.\d+)?),(-?\d{1,3}(?:\.\d+)?)(?:,-?\d+(?:\.\d+)?)?(?:;.*)?$/i.exec(geoUri.trim());
  if (!m) return null;
  const lat = Number(m[1]);
  const lon = Number(m[2]);
  if (Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
  return `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=16/${lat}/${lon}`;
}
