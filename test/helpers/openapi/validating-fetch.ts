// A fetch that validates every response it passes through against the Matrix spec, recording
// failures for the test to assert on: callers like matrix-js-sdk swallow errors thrown by fetch.
import type { ApiValidator } from '../openapi.ts';

const failures: string[] = [];
const counts = { validated: 0, noSchema: 0, failed: 0 };

/** Every validation failure recorded by any validatingFetch since the last clear. */
export function validationFailures(): string[] {
  return [...failures];
}

/** How many responses each wrapper outcome saw, so a test can prove validation really ran. */
export function validationCounts(): { validated: number; noSchema: number; failed: number } {
  return { ...counts };
}

/** Records a failure found outside a validatingFetch (e.g. a federation response). */
export function recordValidationFailure(message: string): void {
  counts.failed++;
  failures.push(message);
}

/** Counts a response validated outside a validatingFetch. */
export function countValidated(outcome: 'validated' | 'no-schema'): void {
  if (outcome === 'validated') counts.validated++;
  else counts.noSchema++;
}

export function clearValidationFailures(): void {
  failures.length = 0;
  counts.validated = counts.noSchema = counts.failed = 0;
}

/** Throws one Error listing every recorded failure (and clears them), or returns quietly. */
export function assertNoValidationFailures(): void {
  if (failures.length === 0) return;
  const all = failures.splice(0);
  throw new Error(`${all.length} response(s) did not match the Matrix spec:\n\n${all.join('\n\n')}`);
}

export interface ValidatingFetchOptions {
  /** The fetch to wrap; the global one by default. */
  fetch?: typeof fetch;
  /** Error statuses the spec does not declare for an operation must still be standard errors. */
  checkUndeclaredErrors?: boolean;
  /** Called with each failure message, besides recording it. */
  onFailure?: (message: string) => void;
}

/**
 * A fetch that performs the real request, then validates a clone of the response against the
 * spec before handing the response back untouched. Failures are recorded rather than thrown
 * because callers such as matrix-js-sdk (`createClient({ fetchFn })`) catch errors from fetch;
 * end each test with `assertNoValidationFailures()`.
 */
export function validatingFetch(validator: ApiValidator, opts: ValidatingFetchOptions = {}): typeof fetch {
  const inner = opts.fetch ?? globalThis.fetch;
  const checkUndeclared = opts.checkUndeclaredErrors ?? true;
  const record = (message: string) => {
    counts.failed++;
    failures.push(message);
    opts.onFailure?.(message);
  };

  const wrapped = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const response = await inner(input, init);
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    // A followed redirect (media downloads, SSO) ends somewhere the operation does not describe.
    if (method === 'HEAD' || response.redirected) return response;
    const label = `${method} ${url.pathname} -> ${response.status}`;
    let text: string;
    try {
      text = await response.clone().text();
    } catch {
      return response; // the caller aborted (e.g. a long-poll /sync on client stop): nothing to judge
    }
    try {
      const isJson = /^application\/([\w.+-]+\+)?json\b/i.test(response.headers.get('content-type') ?? '');
      if (!isJson) {
        if (validator.expectsJson(method, url.pathname, response.status)) {
          const type = response.headers.get('content-type') ?? '(none)';
          record(`${label}: the spec declares an application/json body, got content-type ${type}`);
        } else counts.noSchema++;
        return response;
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        record(`${label}: content-type is JSON but the body does not parse: ${text.slice(0, 200)}`);
        return response;
      }
      const outcome = validator.validateResponse(method, url.pathname, response.status, body);
      if (outcome === 'no-schema' && response.status >= 400 && checkUndeclared) {
        validator.validateErrorBody(body, label);
        counts.validated++;
      } else if (outcome === 'validated') counts.validated++;
      else counts.noSchema++;
    } catch (err) {
      record(err instanceof Error ? err.message : String(err));
    }
    return response;
  };
  return wrapped as typeof fetch;
}
