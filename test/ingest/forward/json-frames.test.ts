/**
 * The JSON side door's frame limit: whatever a connection sends before a request's closing
 * bracket is buffered, so all of it — whitespace between requests included — counts against
 * max_frame_bytes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ForwardDecodeError } from '../../../src/ingest/forward/errors.ts';
import { createJsonScanner } from '../../../src/ingest/forward/json-frames.ts';
import { metricValue } from '../../helpers/deps.ts';
import { type Harness, rawClient, startForward } from './forward-harness.ts';

describe('JSON frames › scanner', () => {
  it('refuses whitespace between requests beyond max_frame_bytes instead of waiting for more', () => {
    const s = createJsonScanner(1024);
    s.reset(0);
    const buf = Buffer.alloc(4096, 0x20);
    let err: unknown;
    try {
      s.scan(buf, buf.length);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ForwardDecodeError);
    expect((err as ForwardDecodeError).code).toBe('frame_too_large');
  });

  it('takes a request of exactly max_frame_bytes and refuses one byte more', () => {
    const frame = (n: number) => Buffer.from(`["t", 1, {"a": "${'x'.repeat(n - 19)}"}]`);
    expect(frame(1024)).toHaveLength(1024);
    const s = createJsonScanner(1024);
    s.reset(0);
    expect(s.scan(frame(1024), 1024)).toBe(1024);
    s.reset(0);
    expect(() => s.scan(frame(1025), 1025)).toThrow(/max_frame_bytes 1024/);
  });

  it('still finds a request behind some whitespace, within the limit', () => {
    const s = createJsonScanner(1024);
    const text = Buffer.from(`${' \n'.repeat(100)}["t", 1, {"a": 1}]`);
    s.reset(0);
    expect(s.scan(text, text.length)).toBe(text.length);
  });
});

describe('JSON frames › connection', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  it('closes a JSON connection that sends endless whitespace instead of buffering it all', async () => {
    h = await startForward({ max_frame_bytes: 64 * 1024 });
    const c = await rawClient(h.port);
    await c.write(Buffer.from('["app.json", 1700000000, {"a": 1}]\n'));
    await h.sink.waitForEntries(1);
    const spaces = Buffer.alloc(64 * 1024, 0x20);
    // 4 MiB of whitespace, far beyond the 64 KiB limit: the server must give up on it.
    for (let i = 0; i < 64 && !c.isClosed(); i++) await c.write(spaces).catch(() => undefined);
    await c.closed(5000);
    expect(
      await metricValue(h.deps, 'fleetline_forward_frames_rejected_total', {
        reason: 'frame_too_large',
      }),
    ).toBe(1);
  });
});
