import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode } from '../../../src/ingest/forward/decode.ts';
import { ForwardDecodeError } from '../../../src/ingest/forward/errors.ts';
import { checkPing } from '../../../src/ingest/forward/handshake.ts';
import { createJsonScanner, decodeJsonFrame } from '../../../src/ingest/forward/json-frames.ts';
import { anyInput, validFrame } from './fuzz-frames.ts';

const opts = {
  maxFrameBytes: 64 * 1024,
  maxDecompressedBytes: 64 * 1024,
  nowMs: 1_700_000_000_000,
};

describe('decode › fuzzing', () => {
  it('never throws on random or mutated frames, and always answers quickly', () => {
    fc.assert(
      fc.property(anyInput, (bytes) => {
        const t0 = performance.now();
        const d = decode(bytes, opts);
        // A 64 KiB frame decodes in well under a millisecond; only super-linear work (or a
        // scheduler stall on the shared machine, hence the slack) comes near a second.
        expect(performance.now() - t0).toBeLessThan(1000);
        if (d instanceof ForwardDecodeError) {
          expect(d.code).toMatch(/^[a-z_]+$/);
          expect(typeof d.canContinue).toBe('boolean');
        } else {
          expect(d.consumed).toBeLessThanOrEqual(bytes.length);
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('decodes every generated valid frame completely, whatever precedes it in the stream', () => {
    fc.assert(
      fc.property(fc.array(validFrame, { minLength: 1, maxLength: 4 }), (frames) => {
        const bytes = Buffer.concat(frames);
        const d = decode(bytes, opts);
        if (d instanceof ForwardDecodeError) throw d;
        expect(d.consumed).toBe(bytes.length);
        expect(d.messages).toHaveLength(frames.length);
      }),
      { numRuns: 300 },
    );
  });

  it('handshake and JSON decoding never throw on random input', () => {
    const state = { nonce: new Uint8Array(16), authSalt: new Uint8Array(16) };
    const secrets = {
      selfHostname: 's',
      sharedKey: 'k',
      users: [{ username: 'u', password: 'p' }],
    };
    fc.assert(
      fc.property(anyInput, fc.string(), (bytes, text) => {
        expect(checkPing(bytes, 0, bytes.length, state, secrets).ok).toBe(false);
        const r = decodeJsonFrame(text, 0);
        expect(r).toBeDefined();
        const scanner = createJsonScanner(1024);
        scanner.reset(0);
        try {
          scanner.scan(Buffer.from(text), Buffer.byteLength(text));
        } catch (err) {
          expect(err).toBeInstanceOf(ForwardDecodeError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
