import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ExtData, encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { EventTimeValue } from '../../../src/ingest/http/event-time.ts';
import { decodeFluentdBody } from '../../../src/ingest/http/fluentd-body.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Decodes `body` in a child node with a small heap; resolves to its exit code and output. */
function decodeInSmallHeap(
  kind: 'ndjson' | 'array',
): Promise<{ code: number | null; out: string }> {
  const script = `
    import { decodeFluentdBody } from './src/ingest/http/fluentd-body.ts';
    const n = 4 * 1024 * 1024;
    const body = ${JSON.stringify(kind)} === 'ndjson'
      ? Buffer.alloc(n, 'x\\n')
      : Buffer.from('[' + '1,'.repeat(n / 2 - 1) + '1]');
    try {
      decodeFluentdBody(body, ${JSON.stringify(kind)} === 'ndjson' ? 'ndjson' : 'json');
      console.log('accepted');
    } catch (err) {
      console.log(err.message);
    }`;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--max-old-space-size=96', '--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: ROOT, timeout: 60_000 },
      (err, stdout) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout }),
    );
  });
}

describe('decodeFluentdBody', () => {
  it('names the first five bad NDJSON lines and stops reading there', () => {
    const body = Buffer.from(['x', '{"a":1}', '1', '', 'y', 'z', '[]', 'w', 'v'].join('\n'));
    expect(() => decodeFluentdBody(body, 'ndjson')).toThrow(
      /^body: line 1: invalid JSON .*; line 3: expected a JSON object, got number; line 5: .*; line 6: .*; line 7: expected a JSON object, got array; further lines not checked$/,
    );
    expect(() => decodeFluentdBody(Buffer.from('{"a":1}\nx\n\n[]\n'), 'ndjson')).toThrow(
      /^body: line 2: invalid JSON .*; line 4: expected a JSON object, got array$/,
    );
  });

  it('names the first bad array elements and counts the rest', () => {
    const body = Buffer.from(JSON.stringify([1, {}, 'a', null, [], true, 2, 3]));
    expect(() => decodeFluentdBody(body, 'json')).toThrow(
      'body: record 1: expected an object, got number; record 3: expected an object, got string; record 4: expected an object, got null; record 5: expected an object, got array; record 6: expected an object, got boolean; … and 2 more',
    );
  });

  // A few KB of gzip inflate to megabytes of one-character lines: collecting one message per
  // bad line took ~40x the body in heap (16 MB of "x\n" → 2.9 GB RSS, 64 s of event loop).
  it.each(['ndjson', 'array'] as const)(
    'keeps memory bounded for a body of millions of bad %s records',
    async (kind) => {
      const { code, out } = await decodeInSmallHeap(kind);
      expect(code).toBe(0);
      expect(out).toMatch(
        kind === 'ndjson' ? /further lines not checked\n$/ : /… and 2097147 more\n$/,
      );
    },
    60_000,
  );

  it('refuses an EventTime whose nanoseconds are 1e9 or more, as the Forward input does', () => {
    const eventTime = (sec: number, nsec: number) => {
      const data = new Uint8Array(8);
      new DataView(data.buffer).setUint32(0, sec);
      new DataView(data.buffer).setUint32(4, nsec);
      return new ExtData(0, data);
    };
    const ok = decodeFluentdBody(
      Buffer.from(encode({ time: eventTime(1, 999_999_999) })),
      'msgpack',
    );
    expect(ok.records).toEqual([{ time: new EventTimeValue(1, 999_999_999) }]);
    for (const nsec of [1_000_000_000, 4_294_967_295])
      expect(() =>
        decodeFluentdBody(Buffer.from(encode({ time: eventTime(1, nsec) })), 'msgpack'),
      ).toThrow(`EventTime nsec ${nsec} ≥ 1e9`);
  });
});
