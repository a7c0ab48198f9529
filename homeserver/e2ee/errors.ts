import { MatrixError } from '../http/matrix-error.ts';
import type { KeyProblem } from '../protocol/e2e-keys.ts';

/** The standard error for a key that fails a protocol check. */
export function keyError(p: KeyProblem): MatrixError {
  if (p.kind === 'bad_json') return new MatrixError(400, 'M_BAD_JSON', p.message);
  if (p.kind === 'invalid_signature') return new MatrixError(400, 'M_INVALID_SIGNATURE', p.message);
  return new MatrixError(400, 'M_INVALID_PARAM', p.message);
}

/** Throws the problem's error, if there is one. */
export function check(p: KeyProblem | null): void {
  if (p) throw keyError(p);
}
