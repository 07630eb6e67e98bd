/** The records source's reporter: what the labelling stage reports to the registry, and when. */
import { describe, expect, it } from 'vitest';
import type { Span } from '../../../src/fleet/registry.ts';
import {
  createSeenReporter,
  MAX_RECORD_LABEL_CHARS,
  recordLabels,
} from '../../../src/fleet/sources/records.ts';
import { metricValue, testDeps } from '../../helpers/deps.ts';

const config = { role_key: 'svc', version_key: 'rev' };
const span = (instanceId: string) => ({ instanceId }) as Span;
const rec = (svc: string, rev: string) => ({ svc, rev });

describe('records seen reporter', () => {
  it('reports a new instance once per batch, and a change of version once', () => {
    const r = createSeenReporter(config, testDeps());
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
    const r = createSeenReporter(config, testDeps());
    r.report(rec('batch', '7'), 'i-1', 1);
    r.settle();
    expect(r.report(rec('batch', '7'), 'i-1', 10)).toMatchObject({ kind: 'seen', at: 10 });
    expect(r.report(rec('batch', '7'), 'i-1', 11)).toBeUndefined();
  });

  it('reports again after forget (the report did not reach the registry)', () => {
    const r = createSeenReporter(config, testDeps());
    r.report(rec('batch', '7'), 'i-1', 1);
    r.forget('i-1');
    expect(r.report(rec('batch', '7'), 'i-1', 2)).toMatchObject({ kind: 'seen' });
  });

  it('refuses blank or overlong values: no report, counted by key and reason', async () => {
    const deps = testDeps();
    const r = createSeenReporter(config, deps);
    const long = 'x'.repeat(MAX_RECORD_LABEL_CHARS + 1);
    expect(r.report(rec(long, '7'), 'i-1', 1)).toBeUndefined();
    expect(r.report(rec('batch', long), 'i-1', 2)).toBeUndefined();
    expect(r.report(rec(' \t\u00a0', '7'), 'i-1', 3)).toBeUndefined();
    expect(r.report(rec('batch', '  '), 'i-1', 4)).toBeUndefined();
    const refused = (key: string, reason: string) =>
      metricValue(deps, 'fleetline_fleet_record_labels_refused_total', { key, reason });
    expect([
      await refused('svc', 'too_long'),
      await refused('rev', 'too_long'),
      await refused('svc', 'blank'),
      await refused('rev', 'blank'),
    ]).toEqual([1, 1, 1, 1]);
    // At the bound, and with an empty version (absent), it reports.
    const max = 'r'.repeat(MAX_RECORD_LABEL_CHARS);
    expect(r.report(rec(max, max), 'i-1', 5)).toMatchObject({
      facts: { instanceId: 'i-1', role: max, version: max },
    });
    expect(recordLabels(rec(' web ', ''), config)).toEqual({ role: ' web ' });
  });
});
