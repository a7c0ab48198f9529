import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBase64, encodeUnpaddedBase64, encodeUnpaddedBase64Url } from '../../../homeserver/protocol/base64.ts';

// appendices.md "Unpadded Base64": the UNPADDED_BASE64 examples.
const APPENDIX_EXAMPLES: [string, string][] = [
  ['', ''],
  ['f', 'Zg'],
  ['fo', 'Zm8'],
  ['foo', 'Zm9v'],
  ['foob', 'Zm9vYg'],
  ['fooba', 'Zm9vYmE'],
  ['foobar', 'Zm9vYmFy'],
];

for (const [plain, encoded] of APPENDIX_EXAMPLES) {
  test(`appendix example: UNPADDED_BASE64(${JSON.stringify(plain)}) = ${JSON.stringify(encoded)}, and it decodes back`, () => {
    assert.equal(encodeUnpaddedBase64(Buffer.from(plain)), encoded);
    assert.equal(decodeBase64(encoded).toString(), plain);
  });
}

test('URL-safe form uses - and _ for the 62nd and 63rd characters, standard form uses + and /', () => {
  const bytes = new Uint8Array([0xfb, 0xff, 0xbf]);
  assert.equal(encodeUnpaddedBase64(bytes), '+/+/');
  assert.equal(encodeUnpaddedBase64Url(bytes), '-_-_');
  assert.equal(encodeUnpaddedBase64Url(new Uint8Array([0xfb])), '-w');
});

test('encoding honours the view of a Uint8Array that is a slice of a larger buffer', () => {
  const whole = Buffer.from('xxfooxx');
  assert.equal(encodeUnpaddedBase64(whole.subarray(2, 5)), 'Zm9v');
  assert.equal(encodeUnpaddedBase64Url(new Uint8Array(whole.buffer, whole.byteOffset + 2, 3)), 'Zm9v');
});

test('decoding accepts padded and unpadded, standard and URL-safe input', () => {
  for (const s of ['Zm8', 'Zm8=', 'Zg==', 'Zg', '-_-_', '+/+/']) assert.doesNotThrow(() => decodeBase64(s), s);
  assert.deepEqual([...decodeBase64('-_-_')], [0xfb, 0xff, 0xbf]);
  assert.deepEqual([...decodeBase64('+/+/')], [0xfb, 0xff, 0xbf]);
  assert.equal(decodeBase64('Zm8=').toString(), 'fo');
});

test('decoding rejects what is not base64 instead of skipping characters', () => {
  for (const s of ['Zm9v!', 'Zm 9v', 'Z', 'Zm9vY', 'Zg=', 'Zm9v=', 'Zg===', '=Zg', 'Z=g']) {
    assert.throws(() => decodeBase64(s), TypeError, s);
  }
});
