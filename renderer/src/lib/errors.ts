// Turns what a Matrix request threw into a sentence a person can act on. The server's own
// words and errcode are kept alongside, so a support question can quote them.

export interface ShownError {
  /** What happened and what to do, in plain words. */
  message: string;
  /** The server's `error` text and `errcode`, when the server answered. */
  detail?: string;
}

/** Where the error happened changes what some codes mean (M_FORBIDDEN on login vs. on join). */
export type ErrorContext = 'login' | 'token' | 'register' | 'join' | 'dm' | 'invite' | 'send' | 'general';

interface ErrorLike {
  errcode?: string;
  httpStatus?: number;
  name?: string;
  message?: string;
  data?: { error?: string; errcode?: string; retry_after_ms?: number };
}

export function describeError(err: unknown, context: ErrorContext = 'general'): ShownError {
  const e = (err ?? {}) as ErrorLike;
  const errcode = e.errcode ?? e.data?.errcode;
  const serverText = e.data?.error;
  const detail = errcode ? `${serverText ? `${serverText} ` : ''}(${errcode})` : undefined;
  const shown = (message: string): ShownError => (detail ? { message, detail } : { message });

  if (!errcode) {
    if (e.name === 'ConnectionError' || e.name === 'TypeError' || e.httpStatus === undefined) {
      return { message: "Can't reach the server. Check that Hearth is running and try again.", detail: e.message };
    }
    // A proxy in front of the server may refuse a large body without a Matrix error body.
    if (e.httpStatus === 413) return { message: tooLarge(context), detail: e.message };
    return { message: `The server answered with an error (HTTP ${e.httpStatus}).`, detail: e.message };
  }

  switch (errcode) {
    case 'HEARTH_TOKEN_REQUIRED':
      return { message: 'This server needs a registration token to create an account.' };
    case 'M_FORBIDDEN':
      if (context === 'login') return shown('Wrong username or password.');
      if (context === 'token') return shown('The sign-in token has expired or was already used.');
      if (context === 'register')
        return shown(
          serverText?.toLowerCase().includes('token') ? 'That registration token is not valid.' : 'This server does not allow new accounts right now.',
        );
      if (context === 'join') return shown("You can't join that room: it is invite-only or you were banned.");
      if (context === 'invite') return shown("You can't invite people to this room.");
      if (context === 'send') return shown("You can't send messages in this room: you may have been muted, or are no longer a member.");
      return shown("You're not allowed to do that.");
    case 'M_USER_IN_USE':
      return shown('That username is taken. Try another one.');
    case 'M_INVALID_USERNAME':
      return shown('Usernames may only use letters a-z, digits and . _ = - / +');
    case 'M_EXCLUSIVE':
      return shown('That username is reserved. Try another one.');
    case 'M_WEAK_PASSWORD':
      return shown('That password is too weak. Choose a longer one.');
    case 'M_LIMIT_EXCEEDED': {
      const ms = e.data?.retry_after_ms;
      if (context === 'send')
        return shown(
          ms ? `You are sending too fast. Wait ${Math.max(1, Math.ceil(ms / 1000))} s, then retry.` : 'You are sending too fast. Wait a moment, then retry.',
        );
      return shown(ms ? `Too many attempts. Try again in ${Math.max(1, Math.ceil(ms / 1000))} s.` : 'Too many attempts. Wait a moment and try again.');
    }
    case 'M_USER_DEACTIVATED':
      return shown('This account has been deactivated.');
    case 'M_UNKNOWN_TOKEN':
    case 'M_MISSING_TOKEN':
      return shown('Your session has ended. Sign in again.');
    case 'M_NOT_FOUND':
      if (context === 'join') return shown('No room has that address.');
      if (context === 'dm' || context === 'invite') return shown('No user has that ID.');
      return shown('Not found.');
    case 'M_ROOM_IN_USE':
      return shown('That room address is taken. Choose another one.');
    case 'M_INVALID_ROOM_STATE':
      return shown('The room settings were not accepted.');
    case 'M_UNSUPPORTED_ROOM_VERSION':
    case 'M_INCOMPATIBLE_ROOM_VERSION':
      return shown('This server cannot use that room version.');
    case 'M_GUEST_ACCESS_FORBIDDEN':
      return shown('Guests are not allowed here.');
    case 'M_TOO_LARGE':
      return shown(tooLarge(context));
    case 'M_INVALID_PARAM':
      if (context === 'dm' || context === 'invite') return shown('That is not a valid user ID. User IDs look like @name:server.');
      return shown('The server did not accept that request.');
    case 'M_BAD_JSON':
    case 'M_NOT_JSON':
    case 'M_MISSING_PARAM':
      return shown('The server did not accept that request.');
    case 'M_UNRECOGNIZED':
      return shown('This server does not support that yet.');
    case 'M_RESOURCE_LIMIT_EXCEEDED':
      return shown('The server has reached a limit. Contact its administrator.');
    case 'M_SERVER_NOT_TRUSTED':
      return shown('The server is not trusted.');
    default:
      // The server's own words are the message: the detail keeps only the code, else they were said twice.
      return { message: serverText ?? 'Something went wrong.', detail: `(${errcode})` };
  }
}

function tooLarge(context: ErrorContext): string {
  return context === 'send' ? 'This message is too large to send. Shorten it, or split it into several messages.' : 'That is too large to send.';
}
