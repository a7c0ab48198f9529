// Helpers for tests where Hearth servers federate: polling until another server has caught up,
// and requests signed as a server (for playing a remote server or a forger).
import https from 'node:https';
import { signRequest } from '../../homeserver/federation/request-auth.ts';
import type { SigningKey } from '../../homeserver/protocol/signing-key.ts';
import { serverServerValidator, type ApiValidator } from './openapi.ts';

/** Polls `fn` until it returns something other than undefined (federation is asynchronous). */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let validator: ApiValidator | undefined;

/**
 * A federation request to the server listening on `port`, signed as `origin` with `key` (X-Matrix),
 * its answer checked against the server-server OpenAPI (`templatePath` names the operation when the
 * real path would not match it, e.g. a txnId with characters the matcher refuses).
 */
export function signedRequest(
  port: number,
  req: { method: string; path: string; origin: string; destination: string; key: SigningKey; body?: unknown; templatePath?: string },
): Promise<{ status: number; body: any }> {
  validator ??= serverServerValidator();
  const v = validator;
  const authorization = signRequest({ method: req.method, uri: req.path, origin: req.origin, destination: req.destination, content: req.body }, req.key);
  return new Promise((resolve, reject) => {
    const r = https.request(
      {
        host: '127.0.0.1',
        port,
        method: req.method,
        path: req.path,
        headers: { 'content-type': 'application/json', authorization },
        rejectUnauthorized: false,
      },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => {
          const out = { status: res.statusCode!, body: text ? JSON.parse(text) : undefined };
          if (out.status >= 400) v.validateErrorBody(out.body, `${req.method} ${req.path}`);
          else v.validateResponse(req.method, req.templatePath ?? req.path.split('?')[0]!, out.status, out.body);
          resolve(out);
        });
      },
    );
    r.on('error', reject);
    r.end(req.body === undefined ? undefined : JSON.stringify(req.body));
  });
}
