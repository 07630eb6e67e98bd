/**
 * msgpack timestamps (ext −1) inside records become ISO-8601 text with nanoseconds. Years
 * outside 0000–9999 are written by `Date#toISOString` with six digits and a sign; the text must
 * keep its seconds there too.
 */
import { describe, expect, it } from 'vitest';
import { createKeyCache, MsgpackReader } from '../../../src/ingest/forward/msgpack-reader.ts';
import { concat, pack } from './forward-harness.ts';

/** timestamp 96: ext8, 12 bytes, type −1: uint32 nsec then int64 seconds. */
function timestamp96(sec: bigint, nsec: number): Uint8Array {
  const b = Buffer.alloc(15);
  b[0] = 0xc7;
  b[1] = 12;
  b[2] = 0xff;
  b.writeUInt32BE(nsec, 3);
  b.writeBigInt64BE(sec, 7);
  return b;
}

function readTs(sec: bigint, nsec: number): unknown {
  const bytes = Buffer.from(concat([0x81], pack('ts'), timestamp96(sec, nsec)));
  const r = new MsgpackReader(bytes, 0, bytes.length, createKeyCache());
  return (r.tryRecord() as { ts: unknown }).ts;
}

describe('msgpack reader › ext −1 timestamps in records', () => {
  it.each([
    [1_700_000_000n, 5, '2023-11-14T22:13:20.000000005Z'],
    [-1n, 5, '1969-12-31T23:59:59.000000005Z'],
    [253_402_300_799n, 7, '9999-12-31T23:59:59.000000007Z'],
    [253_402_300_801n, 7, '+010000-01-01T00:00:01.000000007Z'],
    [-62_167_219_201n, 9, '-000001-12-31T23:59:59.000000009Z'],
  ])('reads %s s + %s ns as %s', (sec, nsec, text) => {
    expect(readTs(sec, nsec)).toBe(text);
  });
});
