// Shared by the content repository tests: images made with sharp, and raw-body requests whose JSON
// answers are validated against the spec like every other test's.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { clientServerValidator, validatingFetch } from '../../helpers/openapi.ts';
import type { TestServer, TestUser } from '../../helpers/server.ts';

/** The legacy /_matrix/media/v1 prefix predates the spec's OpenAPI; everything else is checked. */
export const mediaFetch = validatingFetch(
  clientServerValidator({ allowUnknownPaths: [/^\/_matrix\/media\/v1\/(upload|download|thumbnail|config|preview_url)\b/] }),
);

/** A JPEG of random noise: noise does not compress, so the size is close to width * height * 1.2 at quality 95. */
export async function noiseJpeg(width: number, height: number, quality = 95): Promise<Buffer> {
  return sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } })
    .jpeg({ quality })
    .toBuffer();
}

export async function noisePng(width: number, height: number): Promise<Buffer> {
  return sharp(randomBytes(width * height * 4), { raw: { width, height, channels: 4 } })
    .png()
    .toBuffer();
}

/** An animated GIF of `frames` frames, each a different flat colour. */
export async function animatedGif(width: number, height: number, frames: number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * frames * 3);
  for (let f = 0; f < frames; f++) raw.fill(Buffer.from([(f * 80) % 256, 255 - f * 60, 40]), f * width * height * 3, (f + 1) * width * height * 3);
  return sharp(raw, { raw: { width, height: height * frames, channels: 3, pageHeight: height } })
    .gif()
    .toBuffer();
}

export interface RawResponse {
  status: number;
  headers: Headers;
  bytes: Buffer;
  /** Parsed when the response is JSON. */
  json: any;
}

/** Any request with a raw body; JSON answers pass through the spec validator. */
export async function request(
  server: TestServer,
  user: TestUser | undefined,
  method: string,
  path: string,
  opts: { body?: Buffer | string; contentType?: string; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
  const headers: Record<string, string> = { ...opts.headers };
  if (user) headers.authorization = `Bearer ${user.accessToken}`;
  if (opts.contentType) headers['content-type'] = opts.contentType;
  const body = typeof opts.body === 'string' || opts.body === undefined ? opts.body : new Uint8Array(opts.body);
  const res = await mediaFetch(`${server.url}${path}`, { method, headers, body });
  const bytes = Buffer.from(await res.arrayBuffer());
  let json: unknown;
  if (/json/.test(res.headers.get('content-type') ?? '')) json = JSON.parse(bytes.toString('utf8'));
  return { status: res.status, headers: res.headers, bytes, json };
}

/** Uploads through POST /_matrix/media/v3/upload and returns the media id. */
export async function upload(
  server: TestServer,
  user: TestUser,
  body: Buffer,
  contentType?: string,
  filename?: string,
): Promise<{ mxc: string; mediaId: string }> {
  const q = filename === undefined ? '' : `?filename=${encodeURIComponent(filename)}`;
  const res = await request(server, user, 'POST', `/_matrix/media/v3/upload${q}`, { body, contentType });
  assert.equal(res.status, 200, `upload failed: ${res.status} ${res.bytes.toString()}`);
  const mxc = res.json.content_uri as string;
  assert.match(mxc, new RegExp(`^mxc://${server.serverName}/[A-Za-z0-9_-]+$`));
  return { mxc, mediaId: mxc.split('/').pop()! };
}

export function assertMatrixError(res: RawResponse, status: number, errcode: string): void {
  assert.equal(res.status, status, `expected ${status} ${errcode}, got ${res.status} ${res.bytes.toString().slice(0, 300)}`);
  assert.equal(res.json?.errcode, errcode, `expected ${errcode}, got ${res.bytes.toString().slice(0, 300)}`);
  assert.equal(typeof res.json.error, 'string');
}
