// The signed-in chat: one matrix-js-sdk client, and the reactive views the screens read.
// The SDK's objects are not reactive, so every SDK event that can change what is shown bumps
// `version`, and the screens derive what they show from it.
import type { MatrixClient } from 'matrix-js-sdk/lib/client.js';
import { ClientEvent } from 'matrix-js-sdk/lib/client.js';
import type { Room } from 'matrix-js-sdk/lib/models/room.js';
import { NotificationCountType, RoomEvent } from 'matrix-js-sdk/lib/models/room.js';
import type { MatrixEvent } from 'matrix-js-sdk/lib/models/event.js';
import { RoomMemberEvent } from 'matrix-js-sdk/lib/models/room-member.js';
import { RoomStateEvent } from 'matrix-js-sdk/lib/models/room-state.js';
import { Direction } from 'matrix-js-sdk/lib/models/event-timeline.js';
import { EventType } from 'matrix-js-sdk/lib/@types/event.js';
import { HttpApiEvent } from 'matrix-js-sdk/lib/http-api/interface.js';
import { MatrixEventEvent } from 'matrix-js-sdk/lib/models/event.js';
import { makeClient, START_OPTIONS } from './sdk.ts';
import type { Session } from './session.ts';
import { describeEvent, isShownInTimeline } from './events.ts';
import { ReadMarkers } from './read-markers.ts';
import { findMentions, type Mentions } from './mentions.ts';
import type { Pill } from './markdown.ts';
import { editContent, reactionContent, reactionKeyOf, type Composing } from './relations.ts';
import { stopMedia, uploadsOf } from './upload.svelte.ts';
import { latestThreadReply } from './threads.ts';
import { attachCrypto, deleteCryptoStore, SyncGate } from './crypto.ts';
import { SecretStorageKeys } from './key-backup.ts';
import { SendOrder } from './send-order.ts';
import { splitPeople } from './search.ts';

export interface RoomSummary {
  roomId: string;
  name: string;
  topic: string;
  membership: 'join' | 'invite';
  isDirect: boolean;
  /** "Alice: hello", or what last happened ("Bob joined"). */
  lastMessage: string;
  lastTs: number;
  /** The server's count of notifying events since the user's read receipt (unread_notifications). */
  unread: number;
  /** Of those, the ones that mention the user (highlight_count). */
  highlights: number;
  /** For invites: who invited us. */
  inviter?: string;
}

const REFRESH_EVENTS = [
  ClientEvent.Sync,
  ClientEvent.Room,
  ClientEvent.DeleteRoom,
  ClientEvent.AccountData,
  RoomEvent.Timeline,
  RoomEvent.TimelineReset,
  RoomEvent.LocalEchoUpdated,
  RoomEvent.Name,
  RoomEvent.MyMembership,
  RoomEvent.AccountData,
  RoomEvent.Receipt,
  RoomStateEvent.Members,
  RoomStateEvent.Events,
  RoomMemberEvent.Name,
  RoomMemberEvent.Membership,
  // An encrypted message becomes readable (or is known unreadable): redraw it and the preview.
  MatrixEventEvent.Decrypted,
] as const;

export class Chat {
  readonly client: MatrixClient;
  readonly session: Session;
  /** Bumped on every SDK change that may alter the screens. */
  version = $state(0);
  /** The first sync has completed. */
  ready = $state(false);
  /** The sync loop is failing (server unreachable); the client keeps retrying. */
  offline = $state(false);
  selectedRoomId = $state<string | null>(null);
  /** Counts messages this window sent, so the timeline can jump to the bottom after each. */
  sentCount = $state(0);
  /** Called once when the server ends our session (M_UNKNOWN_TOKEN) or we sign out. */
  onSignedOut: (reason: string | null) => void = () => {};

  /** Display names from profiles, for people no member event has named yet (null: being fetched). */
  private readonly profiles = new Map<string, string | null>();
  private readonly reads: ReadMarkers;
  private scheduled = false;
  /**
   * Sends, edits and uploads go to the SDK in the order they were made (lib/send-order.ts), per
   * room: one room waiting for its crypto must not hold up another's messages.
   */
  private readonly sendOrders = new Map<string, SendOrder>();
  /** End-to-end encryption: loaded once the room list shows (lib/crypto.ts). */
  cryptoState = $state<'loading' | 'ready' | 'failed'>('loading');
  readonly secretStorageKeys = new SecretStorageKeys();
  /** Holds /sync back until the crypto is attached (lib/crypto.ts): set by makeClient's wrapFetch. */
  private syncGate!: SyncGate;
  private cryptoReady: Promise<void> | null = null;
  /** Signed out (or the session ended): the crypto must not start, nor its store be made again. */
  private closed = false;

  constructor(session: Session) {
    this.session = session;
    this.client = makeClient(session.baseUrl, session, {
      wrapFetch: (inner) => {
        this.syncGate = new SyncGate(inner);
        return this.syncGate.fetch;
      },
      cryptoCallbacks: this.secretStorageKeys.callbacks,
    });
    this.reads = new ReadMarkers(this.client, session.userId);
  }

  /** Loads the crypto once the first sync is painted; sending to an encrypted room waits for it. */
  private orderOf(roomId: string): SendOrder {
    let order = this.sendOrders.get(roomId);
    if (!order) this.sendOrders.set(roomId, (order = new SendOrder()));
    return order;
  }

  /**
   * Sends an upload's finished message: in order with the room's other sends, and in an encrypted
   * room once the crypto is there (without it the SDK refuses, as in send()).
   */
  async sendUploaded(roomId: string, content: Record<string, unknown>): Promise<void> {
    const prepare = async () => {
      const room = this.client.getRoom(roomId);
      if (room && this.isEncrypted(room)) await this.startCrypto();
      return content;
    };
    await this.orderOf(roomId).run(prepare, (c) => this.client.sendMessage(roomId, c as never));
  }

  private startCrypto(): Promise<void> {
    this.cryptoReady ??= afterPaint()
      .then(() => (this.closed ? undefined : attachCrypto(this.client, this.syncGate, this.userId, this.session.deviceId)))
      .then(
        () => {
          this.cryptoState = 'ready';
          this.refresh();
        },
        (err: unknown) => {
          console.error('[crypto]', err);
          this.cryptoState = 'failed';
        },
      );
    return this.cryptoReady;
  }

  /** Whether messages in this room are end-to-end encrypted (m.room.encryption in its state). */
  isEncrypted(room: Room): boolean {
    return room.hasEncryptionStateEvent();
  }

  async start(): Promise<void> {
    const bump = () => this.refresh();
    for (const name of REFRESH_EVENTS) this.client.on(name as ClientEvent.Sync, bump);
    this.client.on(ClientEvent.Sync, (state) => {
      if (state === 'PREPARED' || state === 'SYNCING') {
        if (!this.ready) {
          // Everything the first sync brought, shown in one update (refresh() waited for it).
          this.ready = true;
          this.version++;
          void this.startCrypto();
        }
        this.offline = false;
      } else if (state === 'ERROR' || state === 'RECONNECTING') {
        this.offline = true;
      }
    });
    this.client.on(HttpApiEvent.SessionLoggedOut, () => {
      // Signing out ends the token too: the requests still on their way then see it gone.
      if (this.closed) return;
      void this.endCrypto().then(() => this.onSignedOut('Your session has ended. Sign in again.'));
    });
    await this.client.startClient({ ...START_OPTIONS });
  }

  stop(): void {
    this.client.stopClient();
    this.reads.stop();
    stopMedia(this);
  }

  async signOut(): Promise<void> {
    this.closed = true;
    try {
      await this.client.logout(true);
    } catch {
      // The token may already be gone; signing out locally is what matters.
    }
    await this.endCrypto();
    this.onSignedOut(null);
  }

  /**
   * The device is gone: its keys are of no more use, and must not stay on this computer. A crypto
   * still loading would open its store after the deletion and so make it again: it is let finish
   * (it is stopped with the client), and one not yet started never starts.
   */
  private async endCrypto(): Promise<void> {
    this.closed = true;
    await this.cryptoReady;
    this.stop();
    await deleteCryptoStore(this.userId, this.session.deviceId);
  }

  /**
   * Coalesces the SDK's bursts of events (one per event in a sync) into one update, from the end
   * of the first sync on: the SDK processes a /sync response across several awaits, and updates
   * between them rendered the whole room list again part-way through the first, largest one.
   */
  private refresh(): void {
    if (!this.ready || this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.version++;
      this.markSelectedRead();
    });
  }

  get userId(): string {
    return this.session.userId;
  }

  displayName(userId: string = this.userId): string {
    const name = this.client.getUser(userId)?.displayName;
    // The SDK fills in the user ID itself when it knows no display name.
    if (name && name !== userId) return name;
    return this.profileName(userId);
  }

  /**
   * The name from the user's profile, fetched once in the background: an invite's member event
   * need not carry the invitee's name, nor does anything tell us our own before we join a room.
   */
  private profileName(userId: string): string {
    const known = this.profiles.get(userId);
    if (known) return known;
    if (known === undefined) {
      this.profiles.set(userId, null);
      this.client
        .getProfileInfo(userId, 'displayname')
        .then((p) => {
          if (typeof p.displayname === 'string' && p.displayname) {
            this.profiles.set(userId, p.displayname);
            this.refresh();
          }
        })
        .catch(() => {});
    }
    return localpart(userId);
  }

  /** The room's name; a DM the SDK can only name by a user ID gets that user's name instead. */
  roomName(room: Room): string {
    const name = room.name;
    if (!name) return 'Unnamed room';
    return /^@[^:\s]+:\S+$/.test(name) ? this.displayName(name) : name;
  }

  room(roomId: string | null): Room | null {
    return roomId ? this.client.getRoom(roomId) : null;
  }

  /** Joined rooms, most recently active first, then invites in the same order. */
  summaries(): { rooms: RoomSummary[]; invites: RoomSummary[] } {
    const rooms: RoomSummary[] = [];
    const invites: RoomSummary[] = [];
    for (const room of this.client.getRooms()) {
      const membership = room.getMyMembership();
      if (membership === 'join') rooms.push(this.summarize(room, 'join'));
      else if (membership === 'invite') invites.push(this.summarize(room, 'invite'));
    }
    const byRecent = (a: RoomSummary, b: RoomSummary) => b.lastTs - a.lastTs || a.name.localeCompare(b.name);
    return { rooms: rooms.sort(byRecent), invites: invites.sort(byRecent) };
  }

  private summarize(room: Room, membership: 'join' | 'invite'): RoomSummary {
    const events = room.getLiveTimeline().getEvents();
    let last: MatrixEvent | undefined;
    for (let i = events.length - 1; i >= 0; i--) {
      if (isShownInTimeline(events[i]!)) {
        last = events[i];
        break;
      }
    }
    // Thread replies are not in the live timeline (threadSupport): the newest one counts too.
    const reply = latestThreadReply(room.getThreads());
    if (reply && (!last || reply.getTs() > last.getTs())) last = reply;
    const me = room.currentState.getMember(this.userId);
    const summary: RoomSummary = {
      roomId: room.roomId,
      name: this.roomName(room),
      topic: topicOf(room),
      membership,
      isDirect: this.isDirect(room),
      lastMessage: last ? describeEvent(last, (id) => this.memberName(room, id), true) : '',
      lastTs: last?.getTs() ?? me?.events.member?.getTs() ?? 0,
      // The server's counts, not the loaded events: after a reload only the last few events are
      // loaded, and counting them said 30 for 60 unread (push.md "Receiving notifications").
      unread: membership === 'join' ? room.getUnreadNotificationCount(NotificationCountType.Total) : 0,
      highlights: membership === 'join' ? room.getUnreadNotificationCount(NotificationCountType.Highlight) : 0,
    };
    if (membership === 'invite') {
      const inviter = me?.events.member?.getSender();
      if (inviter) summary.inviter = this.memberName(room, inviter);
    }
    return summary;
  }

  memberName(room: Room | null, userId: string): string {
    const name = room?.getMember(userId)?.name;
    return name && name !== userId ? name : this.displayName(userId);
  }

  isDirect(room: Room): boolean {
    const direct = this.client.getAccountData(EventType.Direct)?.getContent<Record<string, string[]>>() ?? {};
    if (Object.values(direct).some((ids) => Array.isArray(ids) && ids.includes(room.roomId))) return true;
    return room.currentState.getMember(this.userId)?.events.member?.getContent().is_direct === true;
  }

  /** While a room is open and the window visible, what arrives in it is read. */
  private markSelectedRead(): void {
    const room = this.room(this.selectedRoomId);
    if (!room || room.getMyMembership() !== 'join' || document.visibilityState !== 'visible') return;
    if (this.reads.markRead(room)) {
      // The server moves its counts back when the receipt arrives; the next sync carries them.
      // Until then the open room shows as read.
      room.setUnreadNotificationCount(NotificationCountType.Total, 0);
      room.setUnreadNotificationCount(NotificationCountType.Highlight, 0);
      this.version++;
    }
  }

  select(roomId: string | null): void {
    this.selectedRoomId = roomId;
    this.markSelectedRead();
  }

  /** Alt+ArrowUp/Down: the previous or next joined room in the list's order (people, then rooms). */
  selectRelative(delta: number): void {
    const split = splitPeople(this.summaries().rooms);
    const rooms = [...split.people, ...split.rooms];
    if (rooms.length === 0) return;
    const at = rooms.findIndex((r) => r.roomId === this.selectedRoomId);
    const next = at === -1 ? (delta > 0 ? 0 : rooms.length - 1) : (at + delta + rooms.length) % rooms.length;
    this.select(rooms[next]!.roomId);
  }

  async createRoom(opts: { name: string; topic?: string; alias?: string; isPublic?: boolean; invite?: string[] }): Promise<string> {
    const { room_id } = await this.client.createRoom({
      name: opts.name,
      ...(opts.topic ? { topic: opts.topic } : {}),
      ...(opts.alias ? { room_alias_name: opts.alias } : {}),
      ...(opts.invite?.length ? { invite: opts.invite } : {}),
      visibility: (opts.isPublic ? 'public' : 'private') as never,
      preset: (opts.isPublic ? 'public_chat' : 'private_chat') as never,
    });
    this.select(room_id);
    return room_id;
  }

  /** Opens the existing DM with `userId`, or creates one (is_direct + invite) and records it in m.direct. */
  async startDirectMessage(userId: string): Promise<string> {
    const existing = this.directRoomsWith(userId).find((id) => this.client.getRoom(id)?.getMyMembership() === 'join');
    if (existing) {
      this.select(existing);
      return existing;
    }
    // Fails with M_NOT_FOUND for a user that does not exist, before any room is made.
    await this.client.getProfileInfo(userId);
    const { room_id } = await this.client.createRoom({
      is_direct: true,
      invite: [userId],
      preset: 'trusted_private_chat' as never,
      visibility: 'private' as never,
      // New DMs are end-to-end encrypted, as in Element (client-server-api "End-to-end encryption").
      initial_state: [{ type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } }],
    });
    await this.addDirect(userId, room_id);
    this.select(room_id);
    return room_id;
  }

  private directRoomsWith(userId: string): string[] {
    const direct = this.client.getAccountData(EventType.Direct)?.getContent<Record<string, string[]>>() ?? {};
    return Array.isArray(direct[userId]) ? direct[userId] : [];
  }

  private async addDirect(userId: string, roomId: string): Promise<void> {
    const direct = { ...(this.client.getAccountData(EventType.Direct)?.getContent<Record<string, string[]>>() ?? {}) };
    const rooms = this.directRoomsWith(userId);
    if (rooms.includes(roomId)) return;
    direct[userId] = [...rooms, roomId];
    await this.client.setAccountData(EventType.Direct, direct);
  }

  async join(roomIdOrAlias: string): Promise<string> {
    const room = await this.client.joinRoom(roomIdOrAlias.trim());
    this.select(room.roomId);
    return room.roomId;
  }

  async acceptInvite(roomId: string): Promise<void> {
    const room = this.client.getRoom(roomId);
    const myInvite = room?.currentState.getMember(this.userId)?.events.member;
    await this.client.joinRoom(roomId);
    // An invite marked is_direct is a DM: record it as one, like the inviter did.
    if (myInvite?.getContent().is_direct === true) await this.addDirect(myInvite.getSender()!, roomId).catch(() => {});
    this.select(roomId);
  }

  async declineInvite(roomId: string): Promise<void> {
    await this.client.leave(roomId);
    if (this.selectedRoomId === roomId) this.select(null);
  }

  async leave(roomId: string): Promise<void> {
    await this.client.leave(roomId);
    if (this.selectedRoomId === roomId) this.select(null);
  }

  async invite(roomId: string, userId: string): Promise<void> {
    await this.client.invite(roomId, userId.trim());
  }

  /**
   * Queues a message; its local echo shows at once as pending, then sent or failed. `/me text`
   * sends an m.emote. The message carries m.mentions for the members it names. The promise
   * rejects with the server's error when the send fails for good; a failure no retry can fix
   * (too large, forbidden) also takes the message out of the timeline, for the composer to
   * give back to the user with the reason. With `threadId`, it is a reply in that thread.
   */
  async send(roomId: string, text: string, pills: readonly Pill[] = [], relation: Record<string, unknown> = {}, threadId: string | null = null): Promise<void> {
    const emote = /^\/me\s+([\s\S]+)$/.exec(text);
    const body = emote ? emote[1]! : text;
    // A reply in a thread leaves the main timeline where the user was.
    if (!threadId) this.sentCount++;
    try {
      // Without the crypto, the SDK refuses to send to an encrypted room (never in the clear).
      const prepare = async () => {
        const room = this.client.getRoom(roomId);
        if (room && this.isEncrypted(room)) await this.startCrypto();
        // Markdown to HTML, and the members picked from the autocomplete (lib/markdown.ts; loaded on first send).
        const { formatMessage } = await import('./markdown.ts');
        const mentions = this.mentionsIn(roomId, body);
        const picked = pills.filter((p) => body.includes(p.name) && p.userId !== this.userId).map((p) => p.userId);
        if (picked.length > 0) mentions.user_ids = [...new Set([...(mentions.user_ids ?? []), ...picked])];
        return { msgtype: emote ? 'm.emote' : 'm.text', ...formatMessage(body, pills), 'm.mentions': mentions, ...relation };
      };
      // With a thread, the SDK adds the m.thread relation (is_falling_back, m.in_reply_to the latest reply).
      await this.orderOf(roomId).run(prepare, (content) => this.client.sendMessage(roomId, threadId, content as never));
    } catch (err) {
      if (isPermanentSendFailure(err)) {
        const failed = this.client
          .getRoom(roomId)
          ?.getPendingEvents()
          .find((ev) => ev.getContent().body === body && ev.status === 'not_sent');
        if (failed) this.client.cancelPendingEvent(failed);
      }
      this.refresh();
      throw err;
    }
  }

  /**
   * Uploads a file (progress and cancel in lib/upload.svelte.ts's queue), then sends it as an
   * m.image, m.video, m.audio or m.file message. Never rejects: a failure stays in the queue, said.
   */
  sendFile(roomId: string, file: File): Promise<void> {
    return uploadsOf(this).add(roomId, file);
  }

  private mentionsIn(roomId: string, body: string): Mentions {
    const room = this.client.getRoom(roomId);
    if (!room) return {};
    const members = room.getJoinedMembers().map((m) => ({ userId: m.userId, name: m.rawDisplayName || null }));
    return findMentions(body, members, this.userId, room.currentState.mayTriggerNotifOfType('room', this.userId));
  }

  retry(event: MatrixEvent): void {
    const room = this.client.getRoom(event.getRoomId());
    if (room) this.client.resendEvent(event, room).catch(() => this.refresh());
  }

  discard(event: MatrixEvent): void {
    this.client.cancelPendingEvent(event);
  }

  // --- Message actions: reply, edit, delete, react (lib/relations.ts shapes their content). ---

  /** The reply or edit the composer is making: set by a message's actions, shown and sent by the composer. */
  composing = $state<Composing | null>(null);

  /** Replaces `original`'s text (client-server-api "Event replacements"); its msgtype stays. */
  async edit(original: MatrixEvent, text: string): Promise<void> {
    const roomId = original.getRoomId()!;
    const current = original.getContent();
    const msgtype = typeof current.msgtype === 'string' ? current.msgtype : 'm.text';
    const before = (current['m.mentions'] ?? {}) as { user_ids?: string[]; room?: boolean };
    // Formatted like a new message (lib/markdown.ts), else an edit showed its markdown raw.
    const { formatMessage } = await import('./markdown.ts');
    const content = editContent(original.getId()!, text, msgtype, this.mentionsIn(roomId, text), before, formatMessage(text).formatted_body);
    try {
      // Without the crypto, the SDK refuses to send to an encrypted room (as in send()).
      const prepare = async () => {
        const room = this.client.getRoom(roomId);
        if (room && this.isEncrypted(room)) await this.startCrypto();
      };
      // In order with the messages around it: an edit sent right after its message follows it.
      await this.orderOf(roomId).run(prepare, () => this.client.sendEvent(roomId, EventType.RoomMessage, content as never));
    } catch (err) {
      // An edit that failed has no row of its own to offer Retry: take it back, and the
      // composer keeps the text with the reason.
      const failed = this.client
        .getRoom(roomId)
        ?.getPendingEvents()
        .find((ev) => ev.status === 'not_sent' && ev.getContent().body === content.body && ev.getContent()['m.relates_to']?.event_id === original.getId());
      if (failed) this.client.cancelPendingEvent(failed);
      this.refresh();
      throw err;
    }
  }

  /** Deletes an event for everyone (a redaction); the server checks the power to do it. */
  async redact(event: MatrixEvent): Promise<void> {
    // A local echo still waiting to go out is only taken back (one being sent cannot be: the SDK throws).
    if (event.status === 'queued' || event.status === 'not_sent' || event.status === 'encrypting') {
      this.client.cancelPendingEvent(event);
      return;
    }
    await this.client.redactEvent(event.getRoomId()!, event.getId()!);
  }

  /** Reacts to `event` with `key`, or takes the user's own reaction with that key back. */
  async toggleReaction(event: MatrixEvent, key: string): Promise<void> {
    const roomId = event.getRoomId()!;
    const mine = this.client
      .getRoom(roomId)
      ?.relations.getChildEventsForEvent(event.getId()!, 'm.annotation', EventType.Reaction)
      ?.getRelations()
      .find((r) => r.getSender() === this.userId && !r.isRedacted() && reactionKeyOf(String(r.getContent()['m.relates_to']?.key)) === reactionKeyOf(key));
    if (mine) await this.redact(mine);
    else await this.client.sendEvent(roomId, EventType.Reaction, reactionContent(event.getId()!, key) as never);
    this.refresh();
  }

  /** Whether the user may delete `event`: their own, or another's with the power to redact. */
  mayRedact(event: MatrixEvent): boolean {
    // The SDK's check covers one's own events too: a room may forbid even those (the
    // m.room.redaction event level), and offering Delete there only fails.
    return this.client.getRoom(event.getRoomId())?.currentState.maySendRedactionForEvent(event, this.userId) ?? false;
  }

  /** Whether older events can still be fetched. */
  canPaginate(room: Room): boolean {
    const first = room.getLiveTimeline().getEvents()[0];
    if (first?.getType() === 'm.room.create') return false;
    return room.getLiveTimeline().getPaginationToken(Direction.Backward) !== null;
  }

  async paginate(room: Room, limit = 50): Promise<void> {
    await this.client.scrollback(room, limit);
    this.refresh();
  }
}

/** Resolves after the next frame has painted (or soon, in a window that paints no frames). */
function afterPaint(): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 500);
    requestAnimationFrame(() =>
      setTimeout(() => {
        clearTimeout(timer);
        resolve();
      }),
    );
  });
}

/** Errors a resend cannot fix: the same message would be refused again. */
function isPermanentSendFailure(err: unknown): boolean {
  const e = err as { errcode?: string; httpStatus?: number } | null;
  return e?.errcode === 'M_TOO_LARGE' || e?.errcode === 'M_FORBIDDEN' || e?.httpStatus === 413;
}

export function topicOf(room: Room): string {
  const content = room.currentState.getStateEvents('m.room.topic', '')?.getContent<{ topic?: string }>();
  return typeof content?.topic === 'string' ? content.topic : '';
}

export function localpart(userId: string): string {
  const m = /^@([^:]+)/.exec(userId);
  return m ? m[1]! : userId;
}
