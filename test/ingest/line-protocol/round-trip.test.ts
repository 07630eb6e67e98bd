import { Point } from '@influxdata/influxdb-client';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseLineProtocol } from '../../../src/ingest/line-protocol/parse.ts';

// Names as clients can express them: the JS client (like Telegraf) turns \n \r \t into
// two-character escapes, and does not escape a backslash, so a backslash before a character
// that needs escaping (or at the end) is ambiguous in line protocol itself (InfluxDB reads it
// the same way): those are left out. A measurement starting with '#' would be a comment.
const name = fc
  .string({
    minLength: 1,
    maxLength: 12,
    unit: fc.constantFrom('a', 'Z', '0', ' ', ',', '=', '"', '\\', 'é', '_', '-', '#'),
  })
  .filter((s) => !/[\n\r\t]|\\([ ,=\\]|$)/.test(s));
const measurement = name.filter((s) => !s.startsWith('#'));

describe('parseLineProtocol › round trip with @influxdata/influxdb-client', () => {
  it('reads back exactly what the client wrote, for any escaped names and string values', () => {
    fc.assert(
      fc.property(
        measurement,
        fc.dictionary(name, name, { maxKeys: 4 }),
        fc.dictionary(
          name,
          fc.oneof(
            fc.string({ maxLength: 20 }).map((s) => ({ t: 'string' as const, v: s })),
            fc
              .double({ noNaN: true, noDefaultInfinity: true })
              .map((v) => ({ t: 'float' as const, v })),
            // The client's intField goes through parseInt, so only safe integers survive it.
            fc.maxSafeInteger().map((v) => ({ t: 'int' as const, v })),
            fc.boolean().map((v) => ({ t: 'bool' as const, v })),
          ),
          { minKeys: 1, maxKeys: 5 },
        ),
        fc.bigInt({ min: 0n, max: 9_000_000_000_000_000_000n }),
        (m, tags, fields, ns) => {
          const p = new Point(m);
          for (const [k, v] of Object.entries(tags)) p.tag(k, v);
          const want: Record<string, unknown> = {};
          for (const [k, f] of Object.entries(fields)) {
            if (f.t === 'string') p.stringField(k, f.v);
            else if (f.t === 'float') p.floatField(k, f.v);
            else if (f.t === 'int') p.intField(k, f.v);
            else p.booleanField(k, f.v);
            want[k] = f.t === 'float' ? Number(String(f.v)) : f.t === 'int' ? BigInt(f.v) : f.v;
          }
          p.timestamp(ns.toString());
          const line = p.toLineProtocol();
          const r = parseLineProtocol(`${line}\n`, { precision: 'ns', nowMs: 0 });
          expect(r.errors).toEqual([]);
          const e = r.entries[0]!;
          expect(e.tag).toBe(m);
          expect(e.tags ?? {}).toEqual(tags);
          expect(e.record).toEqual(want);
          expect(BigInt(e.sec) * 1_000_000_000n + BigInt(e.nsec)).toBe(ns);
        },
      ),
      { numRuns: 500 },
    );
  });
});
