/**
 * CompressedPackedForward: max_decompressed_bytes caps the output of all gzip members together,
 * however small each member is (fluentd sends one member per buffer append).
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ForwardDecodeError } from '../../../src/ingest/forward/errors.ts';
import { gunzipMembers } from '../../../src/ingest/forward/gzip-members.ts';

const members = (count: number, size: number) =>
  Buffer.concat(Array.from({ length: count }, (_, i) => gzipSync(Buffer.alloc(size, i & 0xff))));

describe('gzip members › max_decompressed_bytes', () => {
  it.each([
    [2000, 100, 10_000],
    [3, 16 * 1024, 32 * 1024],
    [50_000, 1, 10_000],
  ])('refuses %i members of %i bytes against a cap of %i', (count, size, cap) => {
    const out = gunzipMembers(members(count, size), cap);
    expect(out).toBeInstanceOf(ForwardDecodeError);
    expect((out as ForwardDecodeError).code).toBe('decompressed_too_large');
  });

  it('reads every member when they fit the cap exactly', () => {
    const out = gunzipMembers(members(2, 16 * 1024), 32 * 1024);
    expect(out).not.toBeInstanceOf(ForwardDecodeError);
    expect((out as Uint8Array).length).toBe(32 * 1024);
    expect((out as Uint8Array)[16 * 1024]).toBe(1);
  });
});
