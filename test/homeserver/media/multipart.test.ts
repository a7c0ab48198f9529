// The federation media answer's reader (media/multipart.ts), fed the same answer cut into chunks
// of every size: a chunk may end anywhere, inside the delimiter included.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { boundaryOf, multipartHead, multipartTail, newBoundary, readMultipart } from '../../../homeserver/media/multipart.ts';

async function* chunked(buf: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function collect(gen: AsyncGenerator<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of gen) parts.push(c);
  return Buffer.concat(parts);
}

describe('reading a multipart/mixed media answer', () => {
  test('the bytes come out whole whatever the chunking, with the second part headers and the JSON metadata', async () => {
    const boundary = newBoundary();
    // Bytes that end like the start of a delimiter, to tempt an early cut.
    const bytes = Buffer.concat([randomBytes(300), Buffer.from(`\r\n--${boundary.slice(0, 10)}`)]);
    const answer = Buffer.concat([multipartHead(boundary, 'image/png', 'inline; filename="a.png"'), bytes, multipartTail(boundary)]);
    for (let size = 1; size <= answer.length; size += size < 80 ? 1 : 37) {
      const m = await readMultipart(chunked(answer, size), boundary);
      assert.deepEqual(m.metadata, {});
      assert.equal(m.headers['content-type'], 'image/png', `chunks of ${size}`);
      assert.ok((await collect(m.body)).equals(bytes), `chunks of ${size}`);
    }
  });

  test('a preamble before the first delimiter is skipped (RFC 2046 5.1.1)', async () => {
    const boundary = 'b0undary';
    const answer = Buffer.concat([
      Buffer.from('This is a preamble.\r\n'),
      multipartHead(boundary, 'text/plain', 'inline'),
      Buffer.from('hello'),
      multipartTail(boundary),
    ]);
    const m = await readMultipart(chunked(answer, 7), boundary);
    assert.equal((await collect(m.body)).toString(), 'hello');
  });

  test('an answer that ends before the close delimiter, or whose first part is not JSON, is refused', async () => {
    const boundary = 'b0undary';
    const truncated = Buffer.concat([multipartHead(boundary, 'image/png', 'inline'), Buffer.from('half of it')]);
    const m = await readMultipart(chunked(truncated, 4), boundary);
    await assert.rejects(collect(m.body), /ended before the close/);
    const notJson = Buffer.from(
      `--${boundary}\r\nContent-Type: text/plain\r\n\r\nhi\r\n--${boundary}\r\nContent-Type: image/png\r\n\r\nx\r\n--${boundary}--\r\n`,
    );
    await assert.rejects(readMultipart(chunked(notJson, 5), boundary), /not application\/json/);
    await assert.rejects(readMultipart(chunked(Buffer.alloc(100_000, 0x41), 1000), boundary), /64 KiB/);
  });

  test('boundaryOf reads the boundary of multipart/mixed only, quoted or not', () => {
    assert.equal(boundaryOf('multipart/mixed; boundary=abc'), 'abc');
    assert.equal(boundaryOf('multipart/mixed; charset=x; boundary="a b"'), 'a b');
    assert.equal(boundaryOf('multipart/form-data; boundary=abc'), undefined);
    assert.equal(boundaryOf('image/png'), undefined);
    assert.equal(boundaryOf(undefined), undefined);
  });
});
