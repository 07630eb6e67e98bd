import { describe, expect, it } from 'vitest';
import { evaluateReadiness } from '../../src/server/readiness.ts';

describe('evaluateReadiness', () => {
  it('is ready only when every check passes, naming the failing reasons', async () => {
    const report = await evaluateReadiness([
      { name: 'store', check: () => undefined },
      { name: 'influxdb', check: async () => 'InfluxDB /ping answered 500' },
    ]);
    expect(report).toEqual({
      ready: false,
      checks: {
        store: { ok: true },
        influxdb: { ok: false, reason: 'InfluxDB /ping answered 500' },
      },
    });
  });

  it.each([
    ['an Error', new Error('disk gone'), 'disk gone'],
    ['an Error without a message', new TypeError(''), 'TypeError'],
    ['a string', 'socket closed', 'socket closed'],
    ['undefined', undefined, 'check failed'],
    ['an object', { code: 'EIO' }, 'check failed'],
  ])('counts a check that throws %s as failing', async (_what, thrown, reason) => {
    const sync = await evaluateReadiness([
      {
        name: 'store',
        check: () => {
          throw thrown;
        },
      },
    ]);
    const rejected = await evaluateReadiness([
      { name: 'store', check: () => Promise.reject(thrown) },
    ]);
    for (const report of [sync, rejected])
      expect(report).toEqual({ ready: false, checks: { store: { ok: false, reason } } });
  });
});
