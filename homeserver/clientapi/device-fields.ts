// Bounds on what a client names its devices. Both travel far: the display name to other users in
// every /keys/query answer and over federation, the ID into to-device paths, key tables and EDUs.
import { MatrixError } from '../http/matrix-error.ts';

/**
 * Synapse's limit (synapse/handlers/device.py MAX_DEVICE_DISPLAY_NAME_LEN), which clients already
 * keep to; in code points. Synapse also refuses a longer initial name at login; Hearth cuts it
 * instead, so that a client with a long default name can still sign in.
 */
export const MAX_DEVICE_DISPLAY_NAME_LENGTH = 100;
/** Far above any generated ID (Hearth's and Element's are 10 characters), far below the body limit. */
export const MAX_DEVICE_ID_LENGTH = 255;

/** A rename the user typed: too long is refused, so they can choose how to shorten it. */
export function checkDeviceDisplayName(name: string | undefined): string | undefined {
  if (name !== undefined && [...name].length > MAX_DEVICE_DISPLAY_NAME_LENGTH) {
    throw new MatrixError(400, 'M_TOO_LARGE', `A device name may be at most ${MAX_DEVICE_DISPLAY_NAME_LENGTH} characters`);
  }
  return name;
}

/** A client's own name at login or registration: cut, at a whole character, so signing in still works. */
export function initialDeviceDisplayName(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  const chars = [...name];
  return chars.length > MAX_DEVICE_DISPLAY_NAME_LENGTH ? chars.slice(0, MAX_DEVICE_DISPLAY_NAME_LENGTH).join('') : name;
}

export function checkDeviceId(deviceId: string | undefined): string | undefined {
  if (deviceId !== undefined && deviceId.length > MAX_DEVICE_ID_LENGTH) {
    throw new MatrixError(400, 'M_INVALID_PARAM', `A device ID may be at most ${MAX_DEVICE_ID_LENGTH} characters`);
  }
  return deviceId;
}
