import { deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { InvalidInputError, PayloadTooLargeError } from '../../../src/core/errors.ts';
import { UnsupportedMediaTypeError } from '../../../src/ingest/http/errors.ts';
import { decodeBody } from '../../../src/ingest/http/request-body.ts';

describe('decodeBody', () => {
  const text = Buffer.from('hello fleet');

  it.each([
    [undefined, text],
    ['identity', text],
    ['gzip', gzipSync(text)],
    ['x-gzip', gzipSync(text)],
    ['GZIP ', gzipSync(text)],
    ['deflate', deflateSync(text)],
  ])('undoes Content-Encoding %j', async (encoding, body) => {
    expect((await decodeBody(body, encoding, 1024)).toString()).toBe('hello fleet');
  });

  it('refuses to inflate past the limit (413), however small the compressed body', async () => {
    const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(20 * 1024);
    await expect(decodeBody(bomb, 'gzip', 1024 * 1024)).rejects.toBeInstanceOf(
      PayloadTooLargeError,
    );
  });

  it('rejects a corrupt gzip body as bad input and an unknown encoding as unsupported', async () => {
    await expect(decodeBody(Buffer.from('not gzip'), 'gzip', 1024)).rejects.toBeInstanceOf(
      InvalidInputError,
    );
    await expect(decodeBody(text, 'br', 1024)).rejects.toBeInstanceOf(UnsupportedMediaTypeError);
  });

  it('treats a missing body as empty', async () => {
    expect((await decodeBody(undefined, undefined, 1024)).length).toBe(0);
  });
});
