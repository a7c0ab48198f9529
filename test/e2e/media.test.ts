// Media in the web client, end to end: Alice and Bob in two browser profiles, Carol a
// matrix-js-sdk client in this process (a client nobody here wrote). Files are attached, pasted
// and dropped, uploaded with a progress bar (and cancelled), sent as m.image / m.file, and shown
// on the other side through the authenticated media endpoints; every media msgtype Carol sends
// renders. The server takes uploads up to 2 MiB here, so "too large" is cheap to reach.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { crc32, deflateSync } from 'node:zlib';
import { createClient, Direction, MsgType, type MatrixClient } from 'matrix-js-sdk';
import type { Page } from 'playwright-core';
import { fetchFn, quietLogger, registerWithSdk } from '../helpers/sdk.ts';
import { assertAccessible, registerInUi, screenshot, send, timeline, useHearth, type Window } from './helpers.ts';

const MAX_UPLOAD = 2 * 1024 * 1024;

/** A PNG of random pixels (so it does not compress): `width` x `height`, RGB, 3 bytes a pixel. */
function noisePng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const typed = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(typed));
    return Buffer.concat([len, typed, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) rows.push(Buffer.concat([Buffer.from([0]), randomBytes(width * 3)]));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows), { level: 0 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Half a second of 8 kHz, 8-bit mono silence as a WAV file, which Chromium decodes. */
function silentWav(): Buffer {
  const samples = 4000;
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + samples, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(8000, 24);
  header.writeUInt32LE(8000, 28);
  header.writeUInt16LE(1, 32);
  header.writeUInt16LE(8, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(samples, 40);
  return Buffer.concat([header, Buffer.alloc(samples, 0x80)]);
}

/** Slows this page's network down (Chrome DevTools Protocol), so that an upload takes seconds. */
async function throttle(w: Window, bytesPerSecond: number | null): Promise<void> {
  const cdp = await w.context.newCDPSession(w.page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: bytesPerSecond ?? -1,
  });
}

async function attach(page: Page, file: { name: string; mimeType: string; buffer: Buffer }): Promise<void> {
  const chooser = page.waitForEvent('filechooser');
  await page.getByRole('button', { name: 'Attach files' }).click();
  await (await chooser).setFiles(file);
}

/** Whether an <img> has decoded its pixels (not merely has a src). */
async function loadedSize(img: import('playwright-core').Locator): Promise<{ width: number; height: number }> {
  await img.waitFor();
  return img.evaluate(async (el: HTMLImageElement) => {
    await el.decode();
    return { width: el.naturalWidth, height: el.naturalHeight };
  });
}

/** The content of the latest m.room.message in the room with this body, as Carol's client reads it. */
async function sentContent(body: string): Promise<Record<string, unknown> | undefined> {
  const res = await carol.createMessagesRequest(roomId, null, 50, Direction.Backward);
  return res.chunk.find((e) => e.type === 'm.room.message' && e.content.body === body)?.content;
}

let alice: Window;
let bob: Window;
let carol: MatrixClient;
let roomId: string;
const uploadRequests: string[] = [];
/** Uploads the browser gave up on (net::ERR_ABORTED when cancelled). */
const abortedUploads: string[] = [];

describe('media: upload with progress and cancel, and every media msgtype in the timeline', () => {
  const { hearth, open, problems } = useHearth(`registration: open\nmax_upload_size: ${MAX_UPLOAD}\n`);

  test('Carol (js-sdk) makes a room with Alice and Bob, who accept in their browsers', async () => {
    alice = await open();
    bob = await open();
    await registerInUi(alice.page, 'alice');
    await registerInUi(bob.page, 'bob');
    const creds = await registerWithSdk(hearth(), 'carol');
    carol = createClient({ baseUrl: hearth().url, ...creds, fetchFn, logger: quietLogger });
    ({ room_id: roomId } = await carol.createRoom({ name: 'Photos', invite: ['@alice:localhost', '@bob:localhost'] }));
    for (const w of [alice, bob]) {
      const invites = w.page.getByRole('region', { name: 'Invites' });
      await invites.getByText('Photos').waitFor();
      await invites.getByRole('button', { name: 'Accept' }).click();
      await w.page.getByRole('heading', { name: 'Photos', level: 1 }).waitFor();
    }
    alice.page.on('request', (req) => {
      if (/\/_matrix\/media\/v3\/upload/.test(req.url())) uploadRequests.push(req.url());
    });
    alice.page.on('requestfailed', (req) => {
      if (/\/_matrix\/media\/v3\/upload/.test(req.url())) abortedUploads.push(`${req.url()} ${req.failure()?.errorText}`);
    });
  });

  test('Alice attaches a PNG: a progress bar shows while it uploads; Bob sees it inline in a reserved box and opens the viewer', async () => {
    // 400 x 300 of noise is ~360 kB: at 200 kB/s the bar is on screen for about two seconds.
    const png = noisePng(400, 300);
    await throttle(alice, 200_000);
    await attach(alice.page, { name: 'sunset.png', mimeType: 'image/png', buffer: png });
    const bar = alice.page.getByRole('progressbar', { name: 'Uploading sunset.png' });
    await bar.waitFor();
    await alice.page.waitForFunction(() => {
      const p = document.querySelector<HTMLProgressElement>('progress[aria-label="Uploading sunset.png"]');
      return p !== null && p.value > 0;
    });
    await screenshot(alice.page, 'media-upload-progress-light');
    await throttle(alice, null);
    await bar.waitFor({ state: 'detached' });

    const image = timeline(bob.page).getByRole('button', { name: 'View image sunset.png' });
    const size = await loadedSize(image.locator('img[alt="sunset.png"]'));
    assert.deepEqual(size, { width: 400, height: 300 }, 'the picture itself arrived (the server serves a small original as its thumbnail)');
    // The box comes from info.w/h, scaled to fit 320 x 240: it was right before the image loaded.
    const box = await image.boundingBox();
    assert.ok(box && Math.abs(box.width - 320) <= 2 && Math.abs(box.height - 240) <= 2, `the image box is 320 x 240, was ${JSON.stringify(box)}`);
    assert.match((await image.locator('img').getAttribute('src')) ?? '', /^blob:/, 'fetched with the token, shown from a blob');

    // Carol's client reads what the spec says an m.image carries.
    const c = (await sentContent('sunset.png'))!;
    assert.equal(c.msgtype, 'm.image');
    assert.equal(c.filename, 'sunset.png');
    assert.match(String(c.url), /^mxc:\/\/localhost\/[A-Za-z0-9_-]+$/);
    assert.deepEqual(c.info, { mimetype: 'image/png', size: png.length, w: 400, h: 300 });

    await image.click();
    const viewer = bob.page.getByRole('dialog', { name: 'sunset.png' });
    assert.deepEqual(await loadedSize(viewer.getByRole('img', { name: 'sunset.png' })), { width: 400, height: 300 });
    await viewer.getByRole('button', { name: 'Download' }).waitFor();
    await assertAccessible(bob.page, 'image viewer');
    await screenshot(bob.page, 'media-viewer-light');
    await bob.page.keyboard.press('Escape');
    await viewer.waitFor({ state: 'detached' });
  });

  test('Alice uploads a file: Bob sees its name and size, and downloads the same bytes', async () => {
    const bytes = randomBytes(50 * 1024);
    await attach(alice.page, { name: 'report.bin', mimeType: 'application/octet-stream', buffer: bytes });
    const row = timeline(bob.page).locator('.media[data-kind="file"]').filter({ hasText: 'report.bin' });
    await row.getByText('50 KB', { exact: true }).waitFor();
    const download = bob.page.waitForEvent('download');
    await row.getByRole('button', { name: 'Download report.bin' }).click();
    const file = await download;
    assert.equal(file.suggestedFilename(), 'report.bin');
    assert.ok(readFileSync((await file.path())!).equals(bytes), 'the downloaded bytes are the uploaded ones');
  });

  test('a big upload on a slow network shows its progress, and Cancel stops it: nothing is sent', async () => {
    const big = randomBytes(1536 * 1024);
    const before = uploadRequests.length;
    await throttle(alice, 64_000);
    await attach(alice.page, { name: 'backup.tar', mimeType: 'application/x-tar', buffer: big });
    const bar = alice.page.getByRole('progressbar', { name: 'Uploading backup.tar' });
    await bar.waitFor();
    await alice.page.getByText(/^\d+% of 1\.5 MB$/).waitFor();
    assert.equal(uploadRequests.length, before + 1, 'the upload started');
    const aborted = alice.page.waitForEvent('requestfailed', { predicate: (req) => /\/upload\?filename=backup\.tar/.test(req.url()) }).catch(() => null);
    await alice.page.getByRole('button', { name: 'Cancel upload of backup.tar' }).click();
    await bar.waitFor({ state: 'detached' });
    await aborted;
    assert.equal(abortedUploads.length, 1, 'the upload request was aborted');
    assert.match(abortedUploads[0]!, /backup\.tar.*ERR_ABORTED/);
    await throttle(alice, null);
    // A message after it: once Bob has it, a sent file would have arrived before it.
    await send(alice.page, 'Never mind the backup');
    await timeline(bob.page).getByText('Never mind the backup').waitFor();
    assert.equal(await timeline(bob.page).getByText('backup.tar').count(), 0, 'Bob never sees the cancelled file');
    assert.equal(await timeline(alice.page).getByText('backup.tar').count(), 0, 'nor does Alice');
    assert.equal(await sentContent('backup.tar'), undefined, 'no event names it');
  });

  test("a file over the server's m.upload.size is refused before uploading, saying why", async () => {
    const before = uploadRequests.length;
    await attach(alice.page, { name: 'huge.iso', mimeType: 'application/octet-stream', buffer: Buffer.alloc(3 * 1024 * 1024) });
    await alice.page.getByRole('alert').filter({ hasText: 'Too large: huge.iso is 3 MB, and this server takes files up to 2 MB.' }).waitFor();
    assert.equal(uploadRequests.length, before, 'no byte of it was uploaded');
    await alice.page.getByRole('button', { name: 'Dismiss the failed upload of huge.iso' }).click();
    await alice.page.getByRole('alert').filter({ hasText: 'huge.iso' }).waitFor({ state: 'detached' });
  });

  test('a pasted image and a dropped file are uploaded and sent', async () => {
    const png = noisePng(64, 48);
    const pasted = Array.from(png);
    await alice.page.locator('#composer-input').evaluate((el, data) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(data)], 'pasted.png', { type: 'image/png' }));
      el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
    }, pasted);
    const image = timeline(bob.page).getByRole('button', { name: 'View image pasted.png' });
    assert.deepEqual(await loadedSize(image.locator('img[alt="pasted.png"]')), { width: 64, height: 48 });

    const dropped = await alice.page.evaluateHandle(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['dropped text'], 'dropped.txt', { type: 'text/plain' }));
      return dt;
    });
    const target = alice.page.locator('.conversation');
    await target.dispatchEvent('dragover', { dataTransfer: dropped });
    await target.dispatchEvent('drop', { dataTransfer: dropped });
    await timeline(bob.page).locator('.media[data-kind="file"]').filter({ hasText: 'dropped.txt' }).getByText('12 B').waitFor();
  });

  test('m.image, m.file, m.audio, m.video and an encrypted attachment from js-sdk each render', async () => {
    const png = noisePng(120, 90);
    const { content_uri: imageUri } = await carol.uploadContent(new Blob([new Uint8Array(png)]), { name: 'chart.png', type: 'image/png' });
    await carol.sendMessage(roomId, {
      msgtype: MsgType.Image,
      body: 'chart.png',
      url: imageUri,
      info: { mimetype: 'image/png', size: png.length, w: 120, h: 90 },
    });
    const pdf = Buffer.from('%PDF-1.4 not really');
    const { content_uri: fileUri } = await carol.uploadContent(new Blob([new Uint8Array(pdf)]), { name: 'minutes.pdf', type: 'application/pdf' });
    await carol.sendMessage(roomId, { msgtype: MsgType.File, body: 'minutes.pdf', url: fileUri, info: { mimetype: 'application/pdf', size: pdf.length } });
    const wav = silentWav();
    const { content_uri: audioUri } = await carol.uploadContent(new Blob([new Uint8Array(wav)]), { name: 'hello.wav', type: 'audio/wav' });
    await carol.sendMessage(roomId, {
      msgtype: MsgType.Audio,
      body: 'hello.wav',
      url: audioUri,
      info: { mimetype: 'audio/wav', size: wav.length, duration: 500 },
    });
    // A video with the poster the sender uploaded beside it (info.thumbnail_url).
    const poster = noisePng(160, 90);
    const { content_uri: posterUri } = await carol.uploadContent(new Blob([new Uint8Array(poster)]), { name: 'poster.png', type: 'image/png' });
    const { content_uri: videoUri } = await carol.uploadContent(new Blob(['not a real video']), { name: 'clip.mp4', type: 'video/mp4' });
    await carol.sendMessage(roomId, {
      msgtype: MsgType.Video,
      body: 'clip.mp4',
      url: videoUri,
      info: {
        mimetype: 'video/mp4',
        size: 16,
        w: 1280,
        h: 720,
        duration: 61_000,
        thumbnail_url: posterUri,
        thumbnail_info: { mimetype: 'image/png', w: 160, h: 90 },
      },
    } as never);
    // An encrypted attachment (client-server-api "Sending encrypted attachments"): `file` instead of `url`.
    await carol.sendMessage(roomId, {
      msgtype: MsgType.File,
      body: 'secret.pdf',
      file: {
        url: fileUri,
        key: { kty: 'oct', alg: 'A256CTR', k: 'AAAA', key_ops: ['encrypt', 'decrypt'], ext: true },
        iv: 'AAAA',
        hashes: { sha256: 'AAAA' },
        v: 'v2',
      },
    } as never);

    for (const w of [alice, bob]) {
      const log = timeline(w.page);
      assert.deepEqual(await loadedSize(log.locator('img[alt="chart.png"]')), { width: 120, height: 90 });
      await log.locator('.media[data-kind="file"]').filter({ hasText: 'minutes.pdf' }).getByText('19 B').waitFor();
      const audio = log.getByLabel('hello.wav', { exact: true });
      await audio.waitFor();
      // The bytes are real audio: the browser read its length from them.
      await w.page.waitForFunction(() => {
        const a = document.querySelector<HTMLAudioElement>('audio[aria-label="hello.wav"]');
        return a !== null && a.readyState >= 1 && Math.abs(a.duration - 0.5) < 0.05;
      });
      const video = log.getByRole('button', { name: 'Play video clip.mp4' });
      assert.deepEqual(await loadedSize(video.locator('img')), { width: 160, height: 90 }, "the poster is the sender's thumbnail");
      const vbox = await video.boundingBox();
      assert.ok(vbox && Math.abs(vbox.width - 320) <= 2 && Math.abs(vbox.height - 180) <= 2, `the video keeps its 16:9 box, was ${JSON.stringify(vbox)}`);
      await log.getByText('Encrypted attachment: secret.pdf').waitFor();
    }
    // Playing the video fetches the file into a <video controls>.
    await timeline(bob.page).getByRole('button', { name: 'Play video clip.mp4' }).click();
    await timeline(bob.page).locator('video[aria-label="clip.mp4"][controls]').waitFor();
    assert.match((await timeline(bob.page).locator('video').getAttribute('src')) ?? '', /^blob:/);
  });

  test('a room of 30 images fetches only those near the screen; scrolling up fetches the others', async () => {
    const thumbnails = new Set<string>();
    bob.page.on('request', (req) => {
      const m = /\/_matrix\/client\/v1\/media\/thumbnail\/localhost\/([A-Za-z0-9_-]+)/.exec(req.url());
      if (m) thumbnails.add(m[1]!);
    });
    const { room_id: album } = await carol.createRoom({ name: 'Album', invite: ['@bob:localhost'] });
    const ids: string[] = [];
    for (let i = 1; i <= 30; i++) {
      const name = `album-${String(i).padStart(2, '0')}.png`;
      const { content_uri } = await carol.uploadContent(new Blob([new Uint8Array(noisePng(8, 6))]), { name, type: 'image/png' });
      ids.push(content_uri.split('/').pop()!);
      // The declared size (not the file's) sets the box: 320 x 240 each, a tall timeline.
      await carol.sendMessage(album, { msgtype: MsgType.Image, body: name, url: content_uri, info: { mimetype: 'image/png', w: 320, h: 240 } });
    }
    const invites = bob.page.getByRole('region', { name: 'Invites' });
    await invites.getByText('Album').waitFor();
    await invites.getByRole('button', { name: 'Accept' }).click();
    await bob.page.getByRole('heading', { name: 'Album', level: 1 }).waitFor();
    const log = timeline(bob.page);
    await loadedSize(log.locator('img[alt="album-30.png"]'));
    // After a reload the first sync brings the last 30 events: the 30 images, all as rows at once.
    await bob.page.reload();
    thumbnails.clear();
    await bob.page
      .getByRole('navigation', { name: 'Rooms' })
      .getByRole('button', { name: /^Album\b/ })
      .click();
    await loadedSize(log.locator('img[alt="album-30.png"]'));
    const rendered = await log
      .locator('.media[data-kind="image"] img, .media[data-kind="image"] button')
      .evaluateAll((els) => [...new Set(els.map((el) => (el.getAttribute('aria-label') ?? '').replace('View image ', '')).filter(Boolean))]);
    const fetched = ids.filter((id) => thumbnails.has(id)).length;
    assert.ok(rendered.length >= 25, `the room shows many image rows: ${rendered.length}`);
    assert.ok(fetched >= 1 && fetched <= 12, `only the images near the bottom are fetched: ${fetched} of the ${rendered.length} shown`);
    const topmost = Number(/album-(\d+)/.exec(rendered[0]!)![1]);
    assert.equal(thumbnails.has(ids[topmost - 1]!), false, `the topmost image row (${rendered[0]}), far above, is not fetched`);
    // Up to the room's start (back-pagination), where the first image is fetched once on screen.
    const first = log.getByRole('button', { name: 'View image album-01.png' });
    while ((await first.count()) === 0) {
      await log.evaluate((el) => (el.scrollTop = 0));
      await bob.page.waitForTimeout(100);
    }
    await first.scrollIntoViewIfNeeded();
    await loadedSize(first.locator('img'));
    assert.ok(thumbnails.has(ids[0]!), 'scrolled to, it is fetched');
    // Back to the room the next tests look at.
    await bob.page
      .getByRole('navigation', { name: 'Rooms' })
      .getByRole('button', { name: /^Photos\b/ })
      .click();
  });

  test('the timeline with media: accessible, in light, dark and at 390 px', async () => {
    await assertAccessible(alice.page, 'timeline with media');
    await screenshot(alice.page, 'media-timeline-light');
    const dark = await open('dark');
    await dark.page.evaluate((s) => localStorage.setItem('hearth.session', s), await alice.page.evaluate(() => localStorage.getItem('hearth.session')!));
    await dark.page.reload();
    await dark.page.getByRole('heading', { name: 'Rooms', exact: true }).waitFor();
    await dark.page
      .getByRole('navigation', { name: 'Rooms' })
      .getByRole('button', { name: /^Photos\b/ })
      .click();
    await loadedSize(timeline(dark.page).locator('img[alt="chart.png"]'));
    await assertAccessible(dark.page, 'timeline with media, dark');
    await screenshot(dark.page, 'media-timeline-dark');
    await timeline(dark.page).getByRole('button', { name: 'View image chart.png' }).click();
    await loadedSize(dark.page.getByRole('dialog', { name: 'chart.png' }).getByRole('img'));
    await screenshot(dark.page, 'media-viewer-dark');
    await dark.page.keyboard.press('Escape');

    await alice.page.setViewportSize({ width: 390, height: 844 });
    await screenshot(alice.page, 'media-timeline-390');
    await timeline(alice.page).getByRole('button', { name: 'View image sunset.png' }).click();
    await loadedSize(alice.page.getByRole('dialog', { name: 'sunset.png' }).getByRole('img'));
    await assertAccessible(alice.page, 'image viewer at 390 px');
    await screenshot(alice.page, 'media-viewer-390');
    await alice.page.keyboard.press('Escape');
  });

  test('no Content-Security-Policy violation or uncaught error in any window', () => {
    carol.stopClient();
    assert.deepEqual(problems(), []);
  });
});
