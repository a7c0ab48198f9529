// Content type sniffing, the inline allow-list and Content-Disposition, as pure functions.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { chooseContentType, contentDisposition, isInlineSafe, normaliseDeclared, sniff } from '../../../homeserver/media/content-type.ts';

const bytes = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc(32)]);

describe('sniff', () => {
  const cases: Array<[string, Buffer, string | undefined]> = [
    ['PNG', bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), 'image/png'],
    ['JPEG', bytes([0xff, 0xd8, 0xff, 0xe0]), 'image/jpeg'],
    ['GIF89a', bytes('GIF89a'), 'image/gif'],
    ['GIF87a', bytes('GIF87a'), 'image/gif'],
    ['WebP', bytes('RIFF', [0, 0, 0, 0], 'WEBPVP8 '), 'image/webp'],
    ['WAV', bytes('RIFF', [0, 0, 0, 0], 'WAVEfmt '), 'audio/wav'],
    ['MP4 (isom)', bytes([0, 0, 0, 0x20], 'ftypisom'), 'video/mp4'],
    ['M4A', bytes([0, 0, 0, 0x20], 'ftypM4A '), 'audio/mp4'],
    ['QuickTime', bytes([0, 0, 0, 0x14], 'ftypqt  '), 'video/quicktime'],
    ['AVIF', bytes([0, 0, 0, 0x1c], 'ftypavif'), 'image/avif'],
    ['WebM', bytes([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01, 0x42, 0x82, 0x84], 'webm'), 'video/webm'],
    ['Matroska', bytes([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01, 0x42, 0x82, 0x88], 'matroska'), 'video/x-matroska'],
    ['Ogg', bytes('OggS', [0, 2]), 'audio/ogg'],
    ['FLAC', bytes('fLaC'), 'audio/flac'],
    ['MP3 with ID3', bytes('ID3', [4, 0]), 'audio/mpeg'],
    ['PDF', bytes('%PDF-1.7'), 'application/pdf'],
    ['HTML', bytes('<!DOCTYPE html><html>'), undefined],
    ['SVG', bytes('<svg xmlns="http://www.w3.org/2000/svg">'), undefined],
    ['empty', Buffer.alloc(0), undefined],
    ['a JPEG cut after two bytes', bytes([0xff, 0xd8]), undefined],
  ];
  for (const [name, head, expected] of cases) {
    test(`${name} -> ${expected ?? 'nothing'}`, () => assert.equal(sniff(pad(head)), expected));
  }
});

describe('chooseContentType', () => {
  test('the bytes win over a wrong declaration', () => {
    assert.equal(chooseContentType(pad(bytes([0xff, 0xd8, 0xff])), 'image/png'), 'image/jpeg');
    assert.equal(chooseContentType(pad(bytes([0xff, 0xd8, 0xff])), 'text/html'), 'image/jpeg');
  });
  test('a more precise declaration of the same container is kept (audio in an MP4 box)', () => {
    assert.equal(chooseContentType(pad(bytes([0, 0, 0, 0x20], 'ftypisom')), 'audio/mp4'), 'audio/mp4');
    assert.equal(chooseContentType(pad(bytes([0, 0, 0, 0x20], 'ftypisom')), 'image/png'), 'video/mp4');
    assert.equal(chooseContentType(pad(bytes('OggS')), 'audio/opus'), 'audio/opus');
  });
  test('without a signature the declaration is used, lower-cased, parameters kept', () => {
    assert.equal(chooseContentType(pad(bytes('hello')), 'Text/Plain; charset=utf-8'), 'text/plain; charset=utf-8');
  });
  test('without either: application/octet-stream', () => {
    assert.equal(chooseContentType(pad(bytes('hello')), undefined), 'application/octet-stream');
    assert.equal(chooseContentType(pad(bytes('hello')), 'garbage'), 'application/octet-stream');
  });
  test('a bare MPEG frame header is trusted only for audio or undeclared uploads, never for encrypted blobs', () => {
    const frame = pad(bytes([0xff, 0xfb, 0x90, 0x64]));
    assert.equal(chooseContentType(frame, undefined), 'audio/mpeg');
    assert.equal(chooseContentType(frame, 'audio/mpeg'), 'audio/mpeg');
    assert.equal(chooseContentType(frame, 'application/octet-stream'), 'application/octet-stream');
  });
});

describe('normaliseDeclared', () => {
  for (const bad of ['', 'text', 'text/', '/plain', 'text/plain\r\nX: y', 'a b/c', `text/${'x'.repeat(300)}`]) {
    test(`rejects ${JSON.stringify(bad.slice(0, 30))}`, () => assert.equal(normaliseDeclared(bad), undefined));
  }
});

describe('inline or attachment', () => {
  for (const t of ['image/png', 'image/jpeg', 'video/mp4', 'audio/ogg', 'text/plain; charset=utf-8', 'IMAGE/GIF']) {
    test(`${t} is inline`, () => assert.equal(isInlineSafe(t), true));
  }
  for (const t of [
    'text/html',
    'image/svg+xml',
    'application/javascript',
    'text/xml',
    'application/xhtml+xml',
    'application/pdf',
    'application/octet-stream',
  ]) {
    test(`${t} is an attachment`, () => assert.equal(isInlineSafe(t), false));
  }
});

describe('contentDisposition (RFC 6266)', () => {
  const cases: Array<[string | null, string]> = [
    [null, 'inline'],
    ['', 'inline'],
    ['photo.jpg', 'inline; filename="photo.jpg"'],
    ['two words.png', 'inline; filename="two words.png"'],
    ['say "hi".txt', `inline; filename*=utf-8''say%20%22hi%22.txt`],
    ['back\\slash', `inline; filename*=utf-8''back%5Cslash`],
    ['100%.txt', `inline; filename*=utf-8''100%25.txt`],
    ['café.jpg', `inline; filename*=utf-8''caf%C3%A9.jpg`],
    ["it's (1).png", `inline; filename="it's (1).png"`],
    ["l'été (1).png", `inline; filename*=utf-8''l%27%C3%A9t%C3%A9%20%281%29.png`],
    ['a\r\nb', `inline; filename*=utf-8''a%0D%0Ab`],
    ['lone \uD800 surrogate', `inline; filename*=utf-8''lone%20%EF%BF%BD%20surrogate`],
  ];
  for (const [name, expected] of cases) {
    test(`${JSON.stringify(name)} -> ${expected}`, () => assert.equal(contentDisposition('inline', name), expected));
  }
});
