/**
 * Fuzzing over real sockets: random and mutated frames never take the server down or leave a
 * connection hanging, and a valid request on a new connection still works afterwards.
 */

import { decodeMulti } from '@msgpack/msgpack';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventTime,
  type Harness,
  pack,
  rawClient,
  startForward,
} from '../ingest/forward/forward-harness.ts';
import { anyInput } from '../ingest/forward/fuzz-frames.ts';

describe('forward › fuzzing over sockets', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startForward({ max_frame_bytes: 64 * 1024, max_decompressed_bytes: 64 * 1024 });
  });
  afterAll(() => h.stop());

  it('survives random and mutated frames, closing or finishing every connection, then serves a valid one', async () => {
    await fc.assert(
      fc.asyncProperty(anyInput, async (bytes) => {
        const c = await rawClient(h.port);
        await c.write(bytes);
        c.socket.end();
        // Every connection ends: an error closes it, a half-close finishes it.
        await c.closed(3000);
      }),
      { numRuns: 60 },
    );
    const c = await rawClient(h.port);
    await c.write(pack(['after.fuzz', eventTime(1795777442, 9), { ok: true }, { chunk: 'ok' }]));
    expect([...decodeMulti(await c.waitBytes(8))]).toEqual([{ ack: 'ok' }]);
    expect(h.sink.entries().at(-1)).toEqual({
      tag: 'after.fuzz',
      sec: 1795777442,
      nsec: 9,
      record: { ok: true },
    });
    c.socket.destroy();
  });
});
