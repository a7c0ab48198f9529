// Media that another client sends, in the web client: Carol, a matrix-js-sdk client in this
// process (a client nobody here wrote), sends each media msgtype (m.image, m.file, m.audio,
// m.video, and an encrypted attachment) into a room with Alice, who uses the web client in
// Chromium. Each renders from the authenticated media endpoints; a room of many images fetches
// only those near the screen; screenshots in light, dark and at 390 px, and axe.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createClient, MsgType, type MatrixClient } from 'matrix-js-sdk';
import { fetchFn, quietLogger, registerWithSdk } from '../helpers/sdk.ts';
import { assertAccessible, registerInUi, screenshot, timeline, useHearth, type Window } from './helpers.ts';
import { loadedSize, noisePng, silentWav } from './media-fixtures.ts';

let alice: Window;
let carol: MatrixClient;
let roomId: string;

describe('media from another client in the timeline', () => {
  const { hearth, open, problems } = useHearth();

  test('Carol (js-sdk) makes a room with Alice, who accepts in the browser', async () => {
    alice = await open();
    await registerInUi(alice.page, 'alice');
    const creds = await registerWithSdk(hearth(), 'carol');
    carol = createClient({ baseUrl: hearth().url, ...creds, fetchFn, logger: quietLogger });
    ({ room_id: roomId } = await carol.createRoom({ name: 'Photos', invite: ['@alice:localhost'] }));
    const invites = alice.page.getByRole('region', { name: 'Invites' });
    await invites.getByText('Photos').waitFor();
    await invites.getByRole('button', { name: 'Accept' }).click();
    await alice.page.getByRole('heading', { name: 'Photos', level: 1 }).waitFor();
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

    for (const w of [alice]) {
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
      // Its key is no AES-256 key: nothing to fetch or decrypt (encrypted-media.test.ts: real ones).
      await log.getByText("Encrypted attachment that can't be opened: secret.pdf").waitFor();
    }
    // Playing the video fetches the file into a <video controls>.
    await timeline(alice.page).getByRole('button', { name: 'Play video clip.mp4' }).click();
    await timeline(alice.page).locator('video[aria-label="clip.mp4"][controls]').waitFor();
    assert.match((await timeline(alice.page).locator('video').getAttribute('src')) ?? '', /^blob:/);
  });

  test('a room of 30 images fetches only those near the screen; scrolling up fetches the others', async () => {
    const thumbnails = new Set<string>();
    alice.page.on('request', (req) => {
      const m = /\/_matrix\/client\/v1\/media\/thumbnail\/localhost\/([A-Za-z0-9_-]+)/.exec(req.url());
      if (m) thumbnails.add(m[1]!);
    });
    const { room_id: album } = await carol.createRoom({ name: 'Album', invite: ['@alice:localhost'] });
    const ids: string[] = [];
    for (let i = 1; i <= 30; i++) {
      const name = `album-${String(i).padStart(2, '0')}.png`;
      const { content_uri } = await carol.uploadContent(new Blob([new Uint8Array(noisePng(8, 6))]), { name, type: 'image/png' });
      ids.push(content_uri.split('/').pop()!);
      // The declared size (not the file's) sets the box: 320 x 240 each, a tall timeline.
      await carol.sendMessage(album, { msgtype: MsgType.Image, body: name, url: content_uri, info: { mimetype: 'image/png', w: 320, h: 240 } });
    }
    const invites = alice.page.getByRole('region', { name: 'Invites' });
    await invites.getByText('Album').waitFor();
    await invites.getByRole('button', { name: 'Accept' }).click();
    await alice.page.getByRole('heading', { name: 'Album', level: 1 }).waitFor();
    const log = timeline(alice.page);
    await loadedSize(log.locator('img[alt="album-30.png"]'));
    // After a reload the first sync brings the last 30 events: the 30 images, all as rows at once.
    await alice.page.reload();
    thumbnails.clear();
    await alice.page
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
      await alice.page.waitForTimeout(100);
    }
    await first.scrollIntoViewIfNeeded();
    await loadedSize(first.locator('img'));
    assert.ok(thumbnails.has(ids[0]!), 'scrolled to, it is fetched');
    // Back to the room the next tests look at.
    await alice.page
      .getByRole('navigation', { name: 'Rooms' })
      .getByRole('button', { name: /^Photos\b/ })
      .click();
  });

  test('the timeline with media: accessible, in light, dark and at 390 px', async () => {
    await assertAccessible(alice.page, 'timeline with media');
    await screenshot(alice.page, 'media-timeline-light');
    await timeline(alice.page).getByRole('button', { name: 'View image chart.png' }).click();
    await loadedSize(alice.page.getByRole('dialog', { name: 'chart.png' }).locator('img'));
    await assertAccessible(alice.page, 'image viewer');
    await screenshot(alice.page, 'media-viewer-light');
    await alice.page.keyboard.press('Escape');
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
    await loadedSize(dark.page.getByRole('dialog', { name: 'chart.png' }).locator('img'));
    await screenshot(dark.page, 'media-viewer-dark');
    await dark.page.keyboard.press('Escape');

    await alice.page.setViewportSize({ width: 390, height: 844 });
    await screenshot(alice.page, 'media-timeline-390');
    await timeline(alice.page).getByRole('button', { name: 'View image chart.png' }).click();
    await loadedSize(alice.page.getByRole('dialog', { name: 'chart.png' }).locator('img'));
    await screenshot(alice.page, 'media-viewer-390');
    await alice.page.keyboard.press('Escape');
  });

  test('an image whose file is far larger than its declared size is not read past the automatic cap; a click opens it whole in the viewer', async () => {
    // 11 MiB that claim to be a 2 kB PNG: the server cannot thumbnail it, so the client falls back
    // to the file itself, which it stops reading at AUTO_MEDIA_MAX_BYTES (10 MiB).
    const big = new Uint8Array(11 * 1024 * 1024).fill(7);
    const { content_uri: bigUri } = await carol.uploadContent(new Blob([big]), { name: 'liar.png', type: 'image/png' });
    const mediaId = bigUri.split('/').pop()!;
    const bodies: number[] = [];
    alice.page.on('requestfinished', async (req) => {
      if (req.url().includes(`/media/download/localhost/${mediaId}`)) bodies.push((await req.sizes()).responseBodySize);
    });
    const cut: string[] = [];
    alice.page.on('requestfailed', (req) => {
      if (req.url().includes(`/media/download/localhost/${mediaId}`)) cut.push(req.failure()?.errorText ?? '');
    });
    await carol.sendMessage(roomId, { msgtype: MsgType.Image, body: 'liar.png', url: bigUri, info: { mimetype: 'image/png', size: 2000, w: 100, h: 100 } });
    const frame = timeline(alice.page).getByRole('button', { name: 'View image liar.png' });
    await frame.getByText('Large image: click to view').waitFor();
    assert.equal(await frame.locator('img').count(), 0, 'nothing shown from a file cut short');
    assert.ok(
      bodies.every((n) => n < big.length),
      `the download was not read whole: ${JSON.stringify(bodies)}`,
    );
    assert.deepEqual(cut, ['net::ERR_ABORTED'], 'the automatic download of the file was cut off by the client');
    // Asked for, it is fetched whole: the cap is for what nobody clicked.
    await frame.click();
    const viewer = alice.page.getByRole('dialog', { name: 'liar.png' });
    await viewer.locator('img').waitFor();
    assert.match((await viewer.locator('img').getAttribute('src')) ?? '', /^blob:/);
    await alice.page.keyboard.press('Escape');
    await viewer.waitFor({ state: 'hidden' });
  });

  test('no Content-Security-Policy violation or uncaught error in any window', () => {
    carol.stopClient();
    assert.deepEqual(problems(), []);
  });
});
