// Sending media from the web client, end to end: Alice and Bob in two browser profiles, Carol a
// matrix-js-sdk client in this process (a client nobody here wrote) reading what was sent. Files
// are attached, pasted and dropped, uploaded with a progress bar (and cancelled), sent as m.image
// / m.file, and shown on the other side through the authenticated media endpoints. The server
// takes uploads up to 2 MiB here, so "too large" is cheap to reach. (media-timeline.test.ts: what
// other clients send.)
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { createClient, Direction, type MatrixClient } from 'matrix-js-sdk';
import type { Page } from 'playwright-core';
import { fetchFn, quietLogger, registerWithSdk } from '../helpers/sdk.ts';
import { assertAccessible, registerInUi, screenshot, send, timeline, useHearth, type Window } from './helpers.ts';
import { loadedSize, noisePng, recordWebm } from './media-fixtures.ts';

const MAX_UPLOAD = 2 * 1024 * 1024;

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

  test('an upload the network drops says why and offers Retry, which sends it once', async () => {
    await alice.page.route('**/_matrix/media/v3/upload**', (route) => route.abort('connectionreset'), { times: 1 });
    const bytes = randomBytes(2048);
    await attach(alice.page, { name: 'flaky.bin', mimeType: 'application/octet-stream', buffer: bytes });
    await alice.page.getByRole('alert').filter({ hasText: "Not sent: Can't reach the server." }).waitFor();
    await alice.page.getByRole('button', { name: 'Retry the upload of flaky.bin' }).click();
    const row = timeline(bob.page).locator('.media[data-kind="file"]').filter({ hasText: 'flaky.bin' });
    await row.getByText('2 KB', { exact: true }).waitFor();
    await send(alice.page, 'After the retry');
    await timeline(bob.page).getByText('After the retry').waitFor();
    assert.equal(await row.count(), 1, 'sent once');
    assert.equal(await alice.page.getByRole('alert').count(), 0, 'the failure is gone');
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

  test('a video Alice attaches is sent with a poster made from its first frame (thumbnail_url, thumbnail_info), which Bob sees', async () => {
    await attach(alice.page, { name: 'clip.webm', mimeType: 'video/webm', buffer: await recordWebm(alice.page) });
    const button = timeline(bob.page).getByRole('button', { name: 'Play video clip.webm' });
    assert.deepEqual(await loadedSize(button.locator('img')), { width: 320, height: 240 }, 'the poster is the first frame');
    const info = (await sentContent('clip.webm'))?.info as Record<string, unknown> | undefined;
    assert.match(String(info?.thumbnail_url), /^mxc:\/\/localhost\//);
    assert.deepEqual({ ...(info?.thumbnail_info as object), size: undefined }, { mimetype: 'image/jpeg', w: 320, h: 240, size: undefined });
    assert.deepEqual([info?.w, info?.h], [320, 240]);
  });

  test('no Content-Security-Policy violation or uncaught error in any window', () => {
    carol.stopClient();
    assert.deepEqual(problems(), []);
  });
});
