/** The records source's reporter: what the labelling stage reports to the registry, and when. */
import { describe, expect, it } from 'vitest';
import type { Span } from '../../../src/fleet/registry.ts';
import { createSeenReporter } from '../../../src/fleet/sources/records.ts';

const config = { role_key: 'svc', version_key: 'rev' };
const span = (instanceId: string) => ({ instanceId }) as Span;
const rec = (svc: string, rev: string) => ({ svc, rev });

describe('records seen reporter', () => {
  it('reports a new instance once per batch, and a change of version once', () => {
    const r = createSeenReporter(config);
    expect(r.report(rec('batch', '7'), 'i-1', 1)).toMatchObject({ kind: 'seen', at: 1 });
    // The rest of the batch: the report is on its way, the instance does not resolve yet.
    expect(r.report(rec('batch', '7'), 'i-1', 2)).toBeUndefined();
    r.settle();
    expect(r.report(rec('batch', '7'), span('i-1'), 3)).toBeUndefined();
    expect(r.report(rec('batch', '8'), span('i-1'), 4)).toMatchObject({
      facts: { instanceId: 'i-1', role: 'batch', version: '8' },
    });
    expect(r.report(rec('batch', '8'), span('i-1'), 5)).toBeUndefined();
  });

  it('reports again an instance the registry no longer resolves (it forgot it)', () => {
    const r = createSeenReporter(config);
    r.report(rec('batch', '7'), 'i-1', 1);
    r.settle();
    expect(r.report(rec('batch', '7'), 'i-1', 10)).toMatchObject({ kind: 'seen', at: 10 });
    expect(r.report(rec('batch', '7'), 'i-1', 11)).toBeUndefined();
  });

  it('reports again after forget (the report did not reach the registry)', () => {
    const r = createSeenReporter(config);
    r.report(rec('batch', '7'), 'i-1', 1);
    r.forget('i-1');
    expect(r.report(rec('batch', '7'), 'i-1', 2)).toMatchObject({ kind: 'seen' });
  });
});
