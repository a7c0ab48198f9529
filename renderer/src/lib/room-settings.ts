// The room changes the room settings screen and the member list make, over matrix-js-sdk.
import type { MatrixClient } from 'matrix-js-sdk/lib/client.js';
import type { Room } from 'matrix-js-sdk/lib/models/room.js';
import { levelOf, memberActions, stateEventLevel, withSettingLevels, withUserLevel, type PowerLevelsContent, type SettingKey } from './power-levels.ts';

/**
 * The longest room name the settings screen takes: the 255 bytes earlier spec versions set for
 * m.room.name (the current one sets none), which some servers still enforce.
 */
export const ROOM_NAME_MAX = 255;

/** A kick or ban reason is shown in others' timelines in one line: 500 characters is a paragraph. */
export const REASON_MAX = 500;

export type JoinRule = 'invite' | 'public' | 'knock';
export type HistoryVisibility = 'shared' | 'invited' | 'joined' | 'world_readable';

export const JOIN_RULES: ReadonlyArray<{ value: JoinRule; label: string; hint: string }> = [
  { value: 'invite', label: 'Private (invite only)', hint: 'Only people invited can join.' },
  { value: 'knock', label: 'Ask to join', hint: 'Anyone can ask; members with invite power let them in.' },
  { value: 'public', label: 'Public', hint: 'Anyone who finds the room can join.' },
];

export const HISTORY_VISIBILITIES: ReadonlyArray<{ value: HistoryVisibility; label: string }> = [
  { value: 'shared', label: 'Members only (since this option was chosen)' },
  { value: 'invited', label: 'Members only (since they were invited)' },
  { value: 'joined', label: 'Members only (since they joined)' },
  { value: 'world_readable', label: 'Anyone' },
];

/** The room v12 creators (infinite power, rooms/v12.md); empty for earlier versions. */
export function creatorsOf(room: Room): Set<string> {
  const create = room.currentState.getStateEvents('m.room.create', '');
  const version = String(create?.getContent().room_version ?? '1');
  if (!/^\d+$/.test(version) || Number(version) < 12 || !create) return new Set();
  const extra = create.getContent().additional_creators;
  return new Set([create.getSender()!, ...(Array.isArray(extra) ? extra.filter((c): c is string => typeof c === 'string') : [])]);
}

export function powerLevels(room: Room): PowerLevelsContent {
  return room.currentState.getStateEvents('m.room.power_levels', '')?.getContent<PowerLevelsContent>() ?? {};
}

function stateContent<T>(room: Room, type: string): Partial<T> {
  return (room.currentState.getStateEvents(type, '')?.getContent() ?? {}) as Partial<T>;
}

export interface RoomSettingsView {
  name: string;
  topic: string;
  avatarUrl: string | null;
  joinRule: JoinRule;
  history: HistoryVisibility;
  encrypted: boolean;
  levels: PowerLevelsContent;
  /** What my level lets me change, event type by event type. */
  may: { name: boolean; topic: boolean; avatar: boolean; joinRule: boolean; history: boolean; encryption: boolean; powerLevels: boolean };
  myLevel: number;
}

export function roomSettings(room: Room, me: string): RoomSettingsView {
  const levels = powerLevels(room);
  const myLevel = levelOf(levels, me, creatorsOf(room));
  const may = (type: string) => myLevel >= stateEventLevel(levels, type);
  const joinRule = stateContent<{ join_rule: string }>(room, 'm.room.join_rules').join_rule;
  const history = stateContent<{ history_visibility: string }>(room, 'm.room.history_visibility').history_visibility;
  return {
    name: stateContent<{ name: string }>(room, 'm.room.name').name ?? '',
    topic: stateContent<{ topic: string }>(room, 'm.room.topic').topic ?? '',
    avatarUrl: stateContent<{ url: string }>(room, 'm.room.avatar').url ?? null,
    joinRule: joinRule === 'public' || joinRule === 'knock' ? joinRule : 'invite',
    history: history === 'invited' || history === 'joined' || history === 'world_readable' ? history : 'shared',
    encrypted: room.currentState.getStateEvents('m.room.encryption', '') !== null,
    levels,
    may: {
      name: may('m.room.name'),
      topic: may('m.room.topic'),
      avatar: may('m.room.avatar'),
      joinRule: may('m.room.join_rules'),
      history: may('m.room.history_visibility'),
      encryption: may('m.room.encryption'),
      powerLevels: may('m.room.power_levels'),
    },
    myLevel,
  };
}

const send = (client: MatrixClient, roomId: string, type: string, content: object) => client.sendStateEvent(roomId, type as never, content as never, '');

export async function setName(client: MatrixClient, roomId: string, name: string): Promise<void> {
  await send(client, roomId, 'm.room.name', { name: name.trim() });
}

export async function setTopic(client: MatrixClient, roomId: string, topic: string): Promise<void> {
  await send(client, roomId, 'm.room.topic', { topic: topic.trim() });
}

export async function setRoomAvatar(client: MatrixClient, roomId: string, file: File): Promise<void> {
  const { content_uri } = await client.uploadContent(file, { type: file.type, name: file.name });
  await send(client, roomId, 'm.room.avatar', { url: content_uri });
}

export async function setJoinRule(client: MatrixClient, roomId: string, rule: JoinRule): Promise<void> {
  await send(client, roomId, 'm.room.join_rules', { join_rule: rule });
}

export async function setHistoryVisibility(client: MatrixClient, roomId: string, value: HistoryVisibility): Promise<void> {
  await send(client, roomId, 'm.room.history_visibility', { history_visibility: value });
}

/** One way: the spec gives no way to turn a room's encryption off (client-server-api "m.room.encryption"). */
export async function enableEncryption(client: MatrixClient, roomId: string): Promise<void> {
  await send(client, roomId, 'm.room.encryption', { algorithm: 'm.megolm.v1.aes-sha2' });
}

export async function setSettingLevels(client: MatrixClient, room: Room, changes: Partial<Record<SettingKey, number>>): Promise<void> {
  await send(client, room.roomId, 'm.room.power_levels', withSettingLevels(powerLevels(room), changes));
}

export async function setMemberLevel(client: MatrixClient, room: Room, userId: string, level: number): Promise<void> {
  await send(client, room.roomId, 'm.room.power_levels', withUserLevel(powerLevels(room), userId, level));
}

export function actionsOn(room: Room, me: string, target: string) {
  return memberActions(powerLevels(room), me, target, creatorsOf(room));
}

export function memberLevel(room: Room, userId: string): number {
  return levelOf(powerLevels(room), userId, creatorsOf(room));
}
