// OS notifications (the browser's Notification API; Electron shows them from the renderer too) for
// what the user's push rules say should notify (push.md "Push Rules": matrix-js-sdk evaluates them
// on the client, from the m.push_rules the server syncs), as Element does: only for events that
// arrive live after the first sync, never the user's own, never in the room the user is looking at.
import type { MatrixClient } from 'matrix-js-sdk/lib/client.js';
import type { Room } from 'matrix-js-sdk/lib/models/room.js';
import { RoomEvent } from 'matrix-js-sdk/lib/models/room.js';
import { MatrixEventEvent, type MatrixEvent } from 'matrix-js-sdk/lib/models/event.js';
import type { IRoomTimelineData } from 'matrix-js-sdk/lib/models/event-timeline-set.js';
import { describeEvent, isEdit, isUndecryptable } from './events.ts';

/** The user's switch (Settings → Notifications): 'on' or 'off'; unset means on once permitted. */
export const NOTIFICATIONS_SETTING_KEY = 'hearth.notifications';

/**
 * Older events are not announced: a room joined, or a sync after a long time offline, brings in
 * messages that are history by now, and the badge counts already tell of them. Five minutes
 * covers a short network drop, after which what was missed is still news.
 */
export const NOTIFY_MAX_AGE_MS = 5 * 60_000;

/** A notification's text is a preview; the OS cuts it to a few lines anyway. */
export const NOTIFICATION_BODY_CHARS = 300;

/** Event IDs already announced, remembered so that one event never notifies twice. */
const REMEMBERED_IDS = 500;

/** What the notifier needs from the signed-in chat (lib/chat.svelte.ts's Chat). */
export interface NotifyHost {
  readonly client: MatrixClient;
  readonly userId: string;
  readonly selectedRoomId: string | null;
  select(roomId: string): void;
  roomName(room: Room): string;
  memberName(room: Room | null, userId: string): string;
  isDirect(room: Room): boolean;
  /** The crypto (lib/crypto.ts) loads after the first sync: until then encrypted events wait. */
  readonly cryptoState: 'loading' | 'ready' | 'failed';
}

/** Whether to notify at all: permission given, and the user's switch not turned off. */
export function notificationsEnabled(setting: string | null, permission: NotificationPermission | 'unsupported'): boolean {
  return permission === 'granted' && setting !== 'off';
}

/** The facts about one arriving event that decide whether it notifies. */
export interface Arrival {
  /** The first sync has completed: what the first sync brings is the past. */
  synced: boolean;
  /** Milliseconds since the server received it (unsigned.age as matrix-js-sdk tracks it). */
  age: number;
  fromMe: boolean;
  /** The push rules' verdict for the user (matrix-js-sdk getPushActionsForEvent). */
  notify: boolean;
  /** Its room is the one open, in a window that has the focus. */
  roomInView: boolean;
  enabled: boolean;
}

export function shouldNotify(a: Arrival): boolean {
  return a.enabled && a.synced && !a.fromMe && a.notify && !a.roomInView && a.age <= NOTIFY_MAX_AGE_MS;
}

export interface NotificationText {
  title: string;
  body: string;
}

/**
 * Title: the sender, and the room's name unless it is a DM ("Bob (Design team)", as Element
 * titles them); body: what they said, or what happened ("Invited you"). Null when there is nothing
 * to say in words (an event the timeline does not show either).
 */
export function notificationText(
  ev: MatrixEvent,
  opts: { me: string; roomName: string; isDirect: boolean; nameOf: (userId: string) => string },
): NotificationText | null {
  const sender = opts.nameOf(ev.getSender() ?? '');
  const title = opts.isDirect ? sender : `${sender} (${opts.roomName})`;
  let body: string;
  if (ev.getType() === 'm.room.member' && ev.getStateKey() === opts.me && ev.getContent().membership === 'invite') {
    body = opts.isDirect ? 'Invited you to chat' : `Invited you to ${opts.roomName}`;
  } else if (isUndecryptable(ev)) {
    body = 'Encrypted message';
  } else if (isEdit(ev)) {
    return null;
  } else {
    body = describeEvent(ev, opts.nameOf);
  }
  if (!body) return null;
  return { title, body: body.length > NOTIFICATION_BODY_CHARS ? `${body.slice(0, NOTIFICATION_BODY_CHARS - 1)}…` : body };
}

/**
 * Whether an event is to be judged later, once decrypted: the push rules must see what it says (a
 * mention, a keyword), not that it is encrypted, or every encrypted message in a group notifies
 * (`.m.rule.encrypted`) and no mention in one does, as Element judges the decrypted event. That
 * includes while the crypto is still loading (it decrypts what came meanwhile once attached); only
 * without crypto for good is it judged as it is, an "Encrypted message".
 */
export function awaitsDecryption(ev: Pick<MatrixEvent, 'isBeingDecrypted' | 'shouldAttemptDecryption'>, cryptoState: NotifyHost['cryptoState']): boolean {
  return ev.isBeingDecrypted() || (ev.shouldAttemptDecryption() && cryptoState !== 'failed');
}

function permission(): NotificationPermission | 'unsupported' {
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
}

function setting(): string | null {
  try {
    return localStorage.getItem(NOTIFICATIONS_SETTING_KEY);
  } catch {
    return null;
  }
}

/** For the Settings switch: asks the browser for permission (needs a click) and turns them on. */
export async function enableNotifications(): Promise<boolean> {
  if (permission() === 'unsupported') return false;
  const granted = (await Notification.requestPermission()) === 'granted';
  if (granted) localStorage.setItem(NOTIFICATIONS_SETTING_KEY, 'on');
  return granted;
}

export function disableNotifications(): void {
  localStorage.setItem(NOTIFICATIONS_SETTING_KEY, 'off');
}

/** Starts announcing new events as OS notifications; returns the function that stops it. */
export function watchNotifications(host: NotifyHost): () => void {
  const { client } = host;
  const announced = new Set<string>();

  const consider = (ev: MatrixEvent, room: Room, recalculate: boolean, id = ev.getId()) => {
    if (!id || announced.has(id)) return;
    const enabled = notificationsEnabled(setting(), permission());
    if (!enabled) return;
    const actions = client.getPushActionsForEvent(ev, recalculate);
    const arrival: Arrival = {
      synced: client.isInitialSyncComplete(),
      age: ev.getLocalAge(),
      fromMe: ev.getSender() === host.userId,
      notify: Boolean(actions?.notify),
      roomInView: host.selectedRoomId === room.roomId && document.visibilityState === 'visible' && document.hasFocus(),
      enabled,
    };
    if (!shouldNotify(arrival)) return;
    const text = notificationText(ev, {
      me: host.userId,
      roomName: host.roomName(room),
      isDirect: host.isDirect(room),
      nameOf: (userId) => host.memberName(room, userId),
    });
    if (!text) return;
    announced.add(id);
    if (announced.size > REMEMBERED_IDS) announced.delete(announced.values().next().value!);
    try {
      // One notification per room (the tag): a newer message replaces the older one.
      const n = new Notification(text.title, { body: text.body, tag: room.roomId, silent: !actions?.tweaks?.sound });
      n.onclick = () => {
        // In the desktop app the preload raises the window; a browser raises its tab on focus().
        (window as { hearth?: { focusWindow?: () => void } }).hearth?.focusWindow?.();
        window.focus();
        host.select(room.roomId);
        n.close();
      };
    } catch {
      // Some platforms only allow notifications from a service worker; there is nothing to show then.
    }
  };

  const onTimeline = (ev: MatrixEvent, room: Room | undefined, toStart: boolean | undefined, removed: boolean, data: IRoomTimelineData) => {
    // Only what /sync appends to a live timeline: not back-pagination, not a reload of history.
    if (!room || toStart || removed || !data.liveEvent) return;
    // Changes to the user's own membership are onMembership's: the invite that a join brings into
    // the timeline is history by then.
    if (ev.getType() === 'm.room.member' && ev.getStateKey() === host.userId) return;
    if (!awaitsDecryption(ev, host.cryptoState)) return consider(ev, room, false);
    // A failure (its key not here yet) is judged as it is, and judged again if the key comes
    // later: a mention whose key arrives late still notifies (announced ones never twice).
    const onDecrypted = () => {
      if (!ev.isDecryptionFailure()) ev.off(MatrixEventEvent.Decrypted, onDecrypted);
      consider(ev, room, true);
    };
    ev.on(MatrixEventEvent.Decrypted, onDecrypted);
  };

  // An invite comes as the room's stripped state, not in a timeline (client-server-api "Syncing"):
  // its member event is announced when the user's membership turns to invite.
  const onMembership = (room: Room, membership: string, previous: string | undefined) => {
    if (membership !== 'invite' || previous === 'invite') return;
    const ev = room.currentState.getMember(host.userId)?.events.member;
    // Stripped state has no event ID: the invite is known by its room and sender.
    if (ev) consider(ev, room, false, ev.getId() ?? `invite ${room.roomId} ${ev.getSender()}`);
  };

  client.on(RoomEvent.Timeline, onTimeline);
  client.on(RoomEvent.MyMembership, onMembership);
  return () => {
    client.off(RoomEvent.Timeline, onTimeline);
    client.off(RoomEvent.MyMembership, onMembership);
  };
}
