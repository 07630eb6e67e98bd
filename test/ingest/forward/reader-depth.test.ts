/**
 * Records nested to the reader's depth limit, whose maps have keys that are not strings.
 * Such keys are read as values, and a map key is built in the per-depth scratch arrays of
 * `readMap` like any map: it must use arrays no enclosing map is still filling.
 * PackedForward entries are walked by the reader alone (no frame scanner limits their
 * nesting), so any depth up to the reader's limit can arrive over the wire.
 */
import { describe, expect, it } from 'vitest';
import { decode, type EventsRequest } from '../../../src/ingest/forward/decode.ts';
import { ForwardDecodeError } from '../../../src/ingest/forward/errors.ts';
import {
  createKeyCache,
  MsgpackFormatError,
  MsgpackReader,
} from '../../../src/ingest/forward/msgpack-reader.ts';
import { concat, pack } from './forward-harness.ts';

const opts = { maxFrameBytes: 1 << 20, maxDecompressedBytes: 1 << 20, nowMs: 1_700_000_000_000 };

/** `levels` maps, each `{"n": <next>}`, around `inner`. */
function nestIn(levels: number, inner: Uint8Array): Uint8Array {
  let out = inner;
  for (let i = 0; i < levels; i++) out = concat([0x81], pack('n'), out);
  return out;
}

/** `{"a": 1, {"x": 2}: 3}`: a map with a str key, then a map key. */
const MAP_KEYED = concat([0x82], pack('a'), pack(1), pack({ x: 2 }), pack(3));

function innermost(record: unknown, levels: number): unknown {
  let v = record;
  for (let i = 0; i < levels; i++) v = (v as Record<string, unknown>).n;
  return v;
}

describe('msgpack reader › non-string keys at any depth', () => {
  // The record is depth 1: the map under `levels` wrappers is at depth levels + 1.
  it.each([1, 40, 62, 63])(
    'reads a map key inside a map at depth %i + 1 without touching the map around it',
    (levels) => {
      const bytes = nestIn(levels, MAP_KEYED);
      const r = new MsgpackReader(Buffer.from(bytes), 0, bytes.length, createKeyCache());
      const record = r.tryRecord();
      expect(r.pos).toBe(bytes.length);
      const m = innermost(record, levels) as Record<string, unknown>;
      expect(Object.keys(m)).toEqual(['a', '{"x":2}']);
      expect(m).toEqual({ a: 1, '{"x":2}': 3 });
    },
  );

  it('refuses a map key one level deeper than a map value may go, as it refuses that value', () => {
    // At depth 65 a map's values cannot be containers; neither can its keys.
    for (const inner of [
      concat([0x82], pack('a'), pack(1), pack('b'), pack({ x: 2 })),
      MAP_KEYED,
    ]) {
      const bytes = nestIn(64, inner);
      const r = new MsgpackReader(Buffer.from(bytes), 0, bytes.length, createKeyCache());
      expect(() => r.tryRecord()).toThrow(MsgpackFormatError);
    }
  });

  it('decodes such a record from PackedForward entries as sent', () => {
    const record = nestIn(63, MAP_KEYED);
    const entries = concat(
      ...Array.from({ length: 3 }, () => concat([0x92], pack(1_700_000_000), record)),
    );
    const d = decode(pack(['t', entries]), opts);
    if (d instanceof ForwardDecodeError) throw d;
    const req = d.messages[0] as EventsRequest;
    expect(req.entries).toHaveLength(3);
    for (const e of req.entries) {
      expect(innermost(e.record, 63)).toEqual({ a: 1, '{"x":2}': 3 });
    }
  });
});
