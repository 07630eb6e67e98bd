/**
 * The decoded bytes of a request body: `Content-Encoding` gzip / deflate undone with the
 * decompressed size capped, so a small "gzip bomb" cannot make fleetline allocate more than
 * `http.max_body_bytes` (it answers 413 instead, as for a plain body over the limit).
 */
import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';
import { InvalidInputError, PayloadTooLargeError } from '../../core/errors.ts';
import { UnsupportedMediaTypeError } from './errors.ts';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

export async function decodeBody(
  raw: Buffer | undefined,
  contentEncoding: string | undefined,
  maxBodyBytes: number,
): Promise<Buffer> {
  const body = raw ?? Buffer.alloc(0);
  const encoding = (contentEncoding ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return body;
  if (encoding !== 'gzip' && encoding !== 'x-gzip' && encoding !== 'deflate')
    throw new UnsupportedMediaTypeError(
      `Content-Encoding ${JSON.stringify(encoding)} is not supported (use gzip, deflate or none)`,
    );
  try {
    const inflateFn = encoding === 'deflate' ? inflateAsync : gunzipAsync;
    return await inflateFn(body, { maxOutputLength: maxBodyBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      throw new PayloadTooLargeError(
        `body decompresses to more than ${maxBodyBytes} bytes (http.max_body_bytes)`,
      );
    throw new InvalidInputError(`body is not valid ${encoding}: ${(err as Error).message}`);
  }
}
