/**
 * Decompression of CompressedPackedForward payloads.
 *
 * fluentd compresses each buffer append separately and sends the chunk as it is stored, so
 * one payload is often several gzip members back to back; every member must be read, not
 * just the first. Node's gunzip continues across members. The output is capped so a small
 * "zip bomb" cannot make us allocate gigabytes. zstd (fluentd ≥ 1.19) is recognised and
 * refused: this Node version has no zstd decoder.
 */
import { gunzipSync } from 'node:zlib';
import { ForwardDecodeError } from './errors.ts';

export type Compression = 'none' | 'gzip' | 'zstd';

/** Picks the compression from the `compressed` option and the payload's magic bytes. */
export function detectCompression(option: string | undefined, payload: Uint8Array): Compression {
  // Magic bytes win over the option, as in Fluent Bit: an uncompressed event stream starts
  // with an array header (0x9x/0xdc/0xdd), never with 0x1f or 0x28.
  if (payload[0] === 0x1f && payload[1] === 0x8b) return 'gzip';
  if (payload[0] === 0x28 && payload[1] === 0xb5 && payload[2] === 0x2f && payload[3] === 0xfd) {
    return 'zstd';
  }
  if (option === 'gzip') return 'gzip';
  if (option === 'zstd') return 'zstd';
  return 'none';
}

/** Decompresses all gzip members of `payload`, or returns a decode error. */
export function gunzipMembers(
  payload: Uint8Array,
  maxOutputBytes: number,
): Uint8Array | ForwardDecodeError {
  try {
    return gunzipSync(payload, { maxOutputLength: maxOutputBytes });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      return new ForwardDecodeError(
        'decompressed_too_large',
        `gzip payload decompresses to more than max_decompressed_bytes ${maxOutputBytes}`,
        false,
      );
    }
    return new ForwardDecodeError(
      'bad_gzip',
      `gzip payload is corrupt: ${(err as Error).message}`,
      false,
    );
  }
}
