// What a new password must be: for registration and password changes, not for logins (an
// account made before a stricter policy must still be able to log in and change it).
import { MatrixError } from '../http/matrix-error.ts';

/** Longer than any passphrase a person types; past it, a "password" is only work for scrypt. */
export const MAX_PASSWORD_LENGTH = 512;

/** Throws 400 M_WEAK_PASSWORD (client-server-api "Registration", "Password management") when too short or too long. */
export function checkNewPassword(password: string, minimumLength: number): void {
  // Code points, not UTF-16 units: an emoji counts as the one character its owner typed.
  const length = [...password].length;
  if (length < minimumLength) {
    throw new MatrixError(400, 'M_WEAK_PASSWORD', `Password must be at least ${minimumLength} characters long`);
  }
  if (password.length > MAX_PASSWORD_LENGTH) throw new MatrixError(400, 'M_WEAK_PASSWORD', 'Password is too long');
}
