// Test helper: a signed federation GET whose answer is not JSON (the media endpoints), and a strict
// reading of the multipart/mixed answer that content_repository.yaml (server-server) describes.
import assert from 'node:assert/strict';
import https from 'node:https';
import { signRequest } from '../../../homeserver/federation/request-auth.ts';
import type { SigningKey } from '../../../homeserver/protocol/signing-key.ts';

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  bytes: Buffer;
}

export function signedGet(port: number, path: string, origin: string, destination: string, key: SigningKey): Promise<RawAnswer> {
  const authorization = signRequest({ method: 'GET', uri: path, origin, destination }, key);
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, method: 'GET', path, headers: { authorization }, rejectUnauthorized: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, bytes: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Splits a multipart/mixed answer by the spec's rules: a `boundary` parameter, exactly two parts,
 * the first `application/json` (a JSON object), the second the bytes with their own Content-Type
 * (or a Location). Fails the test on any deviation.
 */
export function parseSpecMultipart(answer: RawAnswer): { metadata: unknown; headers: Record<string, string>; body: Buffer } {
  const type = String(answer.headers['content-type']);
  const m = /^multipart\/mixed;\s*boundary=("?)([^";]+)\1$/i.exec(type);
  assert.ok(m, `Content-Type must be multipart/mixed with a boundary, got ${type}`);
  const boundary = m[2]!;
  assert.ok(boundary.length >= 1 && boundary.length <= 70, 'RFC 2046: a boundary is 1 to 70 characters');
  const text = answer.bytes.toString('latin1');
  const close = `\r\n--${boundary}--`;
  assert.ok(text.startsWith(`--${boundary}\r\n`), 'the body starts with the first delimiter');
  const closeAt = text.lastIndexOf(close);
  assert.ok(closeAt > 0, 'the body ends with the close delimiter');
  const parts = text.slice(`--${boundary}\r\n`.length, closeAt).split(`\r\n--${boundary}\r\n`);
  assert.equal(parts.length, 2, 'exactly two parts');
  const split = (part: string) => {
    const end = part.indexOf('\r\n\r\n');
    assert.ok(end >= 0, 'each part has a header block');
    const headers: Record<string, string> = {};
    for (const line of part.slice(0, end).split('\r\n')) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    return { headers, body: Buffer.from(part.slice(end + 4), 'latin1') };
  };
  const first = split(parts[0]!);
  assert.match(first.headers['content-type'] ?? '', /^application\/json/, 'the first part is application/json');
  const metadata = JSON.parse(first.body.toString('utf8'));
  assert.ok(typeof metadata === 'object' && metadata !== null && !Array.isArray(metadata), 'the first part is a JSON object');
  const second = split(parts[1]!);
  assert.ok(second.headers['content-type'] || second.headers.location, 'the second part has a Content-Type or a Location');
  return { metadata, headers: second.headers, body: second.body };
}
