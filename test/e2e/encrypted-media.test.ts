// Encrypted attachments in the web client (client-server-api "Sending encrypted attachments"):
// Alice and Bob in two browser profiles in an encrypted DM send each other an image and a file,
// which the other side shows and downloads with the right bytes, while every file under the
// server's data dir (its media store included) holds only ciphertext. Carol, a matrix-js-sdk
// client with its Rust crypto in this process, sends EncryptedFile events built outside our
// client: a good one shows, one whose hash does not match its ciphertext shows as damaged.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { createClient, Preset, type MatrixClient } from 'matrix-js-sdk';
import type { Page } from 'playwright-core';
import { encryptAttachment } from '../../renderer/src/lib/attachment-crypto.ts';
import { fetchFn, quietLogger, registerWithSdk, startSyncing, waitForAsync } from '../helpers/sdk.ts';
import { holdCryptoWasm, until, waitForDeviceKeys } from './crypto-helpers.ts';
import { assertAccessible, registerInUi, roomButton, screenshot, sessionOf, timeline, useHearth, type Window } from './helpers.ts';
import { loadedSize, noisePng, recordWebm } from './media-fixtures.ts';

// The Rust crypto's 60 s request timers are never cleared (see test/integration/encrypted-
// conversation.test.ts): unref them so that this process ends with its last test.
const setTimeoutBefore = globalThis.setTimeout;
globalThis.setTimeout = ((fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
  const timer = setTimeoutBefore(fn, ms, ...args);
  if ((ms ?? 0) >= 60_000) timer.unref();
  return timer;
}) as unknown as typeof setTimeout;

let alice: Window;
let bob: Window;
let carol: MatrixClient | undefined;
const png = noisePng(200, 150);
const bigPng = noisePng(1000, 500);
const fileBytes = Buffer.concat([Buffer.from('%PDF-1.4 pretend\n'), randomBytes(8192)]);
/** Upload requests Alice's browser made, with their content type. */
const uploads: Array<{ url: string; type: string | undefined }> = [];
/** What the server answered them: the mxc:// URIs of the ciphertexts. */
const uploaded: string[] = [];

async function attach(page: Page, file: { name: string; mimeType: string; buffer: Buffer }): Promise<void> {
  const chooser = page.waitForEvent('filechooser');
  await page.getByRole('button', { name: 'Attach files' }).click();
  await (await chooser).setFiles(file);
}

/** Whether any file under `dir` (recursively) contains `needle`. */
function filesContaining(dir: string, needle: Buffer): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path.join(dir, name));
    } catch {
      continue; // a directory
    }
    if (bytes.includes(needle)) found.push(name);
  }
  return found;
}

describe('encrypted attachments between two browsers', () => {
  const { hearth, open, problems } = useHearth();
  after(() => carol?.stopClient());

  test('Alice starts an encrypted DM with Bob, who accepts', async () => {
    alice = await open();
    bob = await open();
    await registerInUi(alice.page, 'alice');
    await registerInUi(bob.page, 'bob');
    await waitForDeviceKeys(hearth(), await sessionOf(alice.page), '@alice:localhost');
    await waitForDeviceKeys(hearth(), await sessionOf(bob.page), '@bob:localhost');
    await alice.page.getByRole('button', { name: 'Message', exact: true }).click();
    const dialog = alice.page.getByRole('dialog', { name: 'Message someone' });
    await dialog.getByLabel('User ID').fill('@bob:localhost');
    await dialog.getByRole('button', { name: 'Start chat' }).click();
    await alice.page.getByRole('heading', { name: 'bob', level: 1 }).waitFor();
    await alice.page.locator('.room-header').getByTitle('End-to-end encrypted').waitFor();
    const invites = bob.page.getByRole('region', { name: 'Invites' });
    await invites.getByText('wants to chat').waitFor();
    await invites.getByRole('button', { name: 'Accept' }).click();
    await bob.page.getByRole('heading', { name: 'alice', level: 1 }).waitFor();
    alice.page.on('request', (req) => {
      if (/\/_matrix\/media\/v3\/upload/.test(req.url())) uploads.push({ url: req.url(), type: req.headers()['content-type'] });
    });
    alice.page.on('response', async (res) => {
      if (/\/_matrix\/media\/v3\/upload/.test(res.url()) && res.ok()) uploaded.push(((await res.json()) as { content_uri: string }).content_uri);
    });
  });

  test("an image Alice sends in the encrypted DM is shown decrypted on Bob's side, and opens in the viewer", async () => {
    await attach(alice.page, { name: 'secret-plan.png', mimeType: 'image/png', buffer: png });
    const img = timeline(bob.page).locator('img[alt="secret-plan.png"]');
    assert.deepEqual(await loadedSize(img), { width: 200, height: 150 }, 'Bob decoded the decrypted pixels');
    await timeline(alice.page).locator('img[alt="secret-plan.png"]').waitFor();
    await screenshot(bob.page, 'media-encrypted-image-light');
    await timeline(bob.page).getByRole('button', { name: 'View image secret-plan.png' }).click();
    const viewer = bob.page.getByRole('dialog', { name: 'secret-plan.png' });
    assert.deepEqual(await loadedSize(viewer.locator('img')), { width: 200, height: 150 });
    await bob.page.keyboard.press('Escape');
    await viewer.waitFor({ state: 'hidden' });
  });

  test('a large image gets a thumbnail made at upload (the server cannot thumbnail ciphertext): Bob fetches only that until he opens it', async () => {
    const downloads: string[] = [];
    const onRequest = (req: { url(): string }) => {
      if (/\/_matrix\/client\/v1\/media\/(download|thumbnail)\//.test(req.url())) downloads.push(req.url());
    };
    bob.page.on('request', onRequest);
    await attach(alice.page, { name: 'panorama.png', mimeType: 'image/png', buffer: bigPng });
    const img = timeline(bob.page).locator('img[alt="panorama.png"]');
    assert.deepEqual(await loadedSize(img), { width: 640, height: 320 }, 'the inline picture is the 640 px thumbnail');
    assert.equal(downloads.length, 1, `one file fetched, the thumbnail: ${downloads.join(', ')}`);
    await timeline(bob.page).getByRole('button', { name: 'View image panorama.png' }).click();
    const viewer = bob.page.getByRole('dialog', { name: 'panorama.png' });
    assert.deepEqual(await loadedSize(viewer.locator('img')), { width: 1000, height: 500 }, 'the viewer shows the whole image');
    await bob.page.keyboard.press('Escape');
    await viewer.waitFor({ state: 'hidden' });
    bob.page.off('request', onRequest);
  });

  test('a file Alice sends is downloaded by Bob with the same bytes', async () => {
    await attach(alice.page, { name: 'minutes.pdf', mimeType: 'application/pdf', buffer: fileBytes });
    const row = timeline(bob.page).locator('.media[data-kind="file"]').filter({ hasText: 'minutes.pdf' });
    const download = bob.page.waitForEvent('download');
    await row.getByRole('button', { name: 'Download minutes.pdf' }).click();
    const file = await download;
    assert.equal(file.suggestedFilename(), 'minutes.pdf');
    assert.ok(readFileSync((await file.path())!).equals(fileBytes), 'the downloaded bytes are the plaintext Alice attached');
  });

  test('a file attached while the crypto is still loading is sent once it has loaded, not failed', async () => {
    const held = await holdCryptoWasm(alice.page);
    await alice.page.reload();
    await held.asked;
    const before = uploaded.length;
    await roomButton(alice.page, 'bob').click();
    await alice.page.getByRole('heading', { name: 'bob', level: 1 }).waitFor();
    await attach(alice.page, { name: 'early.pdf', mimeType: 'application/pdf', buffer: fileBytes });
    // Encrypted and uploaded (WebCrypto needs no Rust crypto); the message waits for the crypto.
    await until('the encrypted file uploaded', async () => uploaded.length > before);
    await held.release();
    await timeline(bob.page).locator('.media[data-kind="file"]').filter({ hasText: 'early.pdf' }).waitFor();
    assert.equal(await alice.page.getByRole('button', { name: 'Retry' }).count(), 0, 'no failure was shown');
  });

  test('a video Alice sends gets a poster made from its first frame, sent encrypted (thumbnail_file): Bob sees it, then plays the decrypted video', async () => {
    const webm = await recordWebm(alice.page);
    await attach(alice.page, { name: 'clip.webm', mimeType: 'video/webm', buffer: webm });
    const button = timeline(bob.page).getByRole('button', { name: 'Play video clip.webm' });
    assert.deepEqual(await loadedSize(button.locator('img')), { width: 320, height: 240 }, 'the poster is the first frame, at the video size');
    await button.click();
    await timeline(bob.page).locator('video[aria-label="clip.webm"]').waitFor();
    await bob.page.waitForFunction(() => (document.querySelector<HTMLVideoElement>('video[aria-label="clip.webm"]')?.videoWidth ?? 0) === 320);
  });

  test("the server only ever held ciphertext: uploads were octet-stream without the file's name, and no file under its data dir holds the plaintext", async () => {
    assert.equal(
      uploads.length,
      7,
      `one upload a file (one of them sent while the crypto loaded), and the large image's and the video's thumbnails: ${JSON.stringify(uploads)}`,
    );
    for (const u of uploads) {
      assert.equal(u.type, 'application/octet-stream', 'the ciphertext goes up as bytes of no type');
      assert.equal(new URL(u.url).searchParams.get('filename'), null, "the server is not told the file's name");
    }
    // Slices from the middle of each file (random bytes: nothing else could hold them by chance).
    for (const [what, slice] of [
      ['the image', png.subarray(png.length - 4000, png.length - 3936)],
      ['the file', fileBytes.subarray(4000, 4064)],
    ] as const) {
      assert.deepEqual(filesContaining(hearth().dataDir, slice), [], `no file on the server holds ${what}'s plaintext`);
    }
    assert.deepEqual(filesContaining(hearth().dataDir, Buffer.from('secret-plan.png')), [], 'nor the file names');
    // What the server does hold, and serves to anyone signed in: bytes of no use without the key.
    const me = await sessionOf(bob.page);
    assert.equal(uploaded.length, 7);
    const lengths: number[] = [];
    for (const uri of uploaded) {
      const res = await fetch(`${hearth().url}/_matrix/client/v1/media/download/${uri.slice('mxc://'.length)}`, {
        headers: { authorization: `Bearer ${me.accessToken}` },
      });
      const served = Buffer.from(await res.arrayBuffer());
      lengths.push(served.length);
      for (const plain of [png, bigPng, fileBytes]) assert.ok(!served.equals(plain), 'the served bytes are not the plaintext');
      assert.ok(
        filesContaining(hearth().dataDir, served.subarray(served.length / 2, served.length / 2 + 64)).length > 0,
        'the ciphertext is in the media store (this check reads the right place)',
      );
    }
    for (const plain of [png, bigPng, fileBytes]) assert.ok(lengths.includes(plain.length), 'AES-CTR keeps the length');
  });

  test('EncryptedFile events built by another client (matrix-js-sdk): a good one shows, one whose hash does not match shows as damaged', async () => {
    const creds = await registerWithSdk(hearth(), 'carol');
    carol = createClient({ baseUrl: hearth().url, ...creds, fetchFn, logger: quietLogger });
    await carol.initRustCrypto({ useIndexedDB: false });
    await startSyncing(carol);
    const { room_id: roomId } = await carol.createRoom({ name: 'Carol shares', preset: Preset.PrivateChat, invite: ['@bob:localhost'] });
    await carol.sendStateEvent(roomId, 'm.room.encryption' as never, { algorithm: 'm.megolm.v1.aes-sha2' } as never, '');
    await waitForAsync("carol's crypto to treat the room as encrypted", () => carol!.getCrypto()!.isEncryptionEnabledInRoom(roomId));
    const invites = bob.page.getByRole('region', { name: 'Invites' });
    await invites.getByText('Carol shares').waitFor();
    await invites.getByRole('button', { name: 'Accept' }).click();
    await bob.page.getByRole('heading', { name: 'Carol shares', level: 1 }).waitFor();
    await until("carol to see bob's join", async () => carol!.getRoom(roomId)?.getMember('@bob:localhost')?.membership === 'join');

    const picture = noisePng(80, 60);
    const { ciphertext, file } = await encryptAttachment(new Uint8Array(picture));
    const { content_uri: url } = await carol.uploadContent(new Blob([ciphertext], { type: 'application/octet-stream' }), { includeFilename: false });
    const info = { mimetype: 'image/png', size: picture.length, w: 80, h: 60 };
    await carol.sendMessage(roomId, { msgtype: 'm.image', body: 'good.png', info, file: { ...file, url } } as never);
    // The same ciphertext, but the event's hash is of other bytes: the server (or anyone) swapped the file.
    const otherHash = (await encryptAttachment(new Uint8Array(picture))).file.hashes.sha256;
    await carol.sendMessage(roomId, { msgtype: 'm.image', body: 'tampered.png', info, file: { ...file, url, hashes: { sha256: otherHash } } } as never);

    const log = timeline(bob.page);
    assert.deepEqual(await loadedSize(log.locator('img[alt="good.png"]')), { width: 80, height: 60 }, 'the good one is decrypted and shown');
    await log.getByText('This attachment is damaged: tampered.png').waitFor();
    assert.equal(await log.locator('img[alt="tampered.png"]').count(), 0, 'nothing of the damaged one is shown');
    await assertAccessible(bob.page, 'encrypted media with a damaged attachment');
    await screenshot(bob.page, 'media-encrypted-damaged-light');
  });

  test('no Content-Security-Policy violation or uncaught error in any window', () => {
    assert.deepEqual(problems(), []);
  });
});
