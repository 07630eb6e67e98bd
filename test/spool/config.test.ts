import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';

describe('spool config', () => {
  it('defaults to a 1 GiB spool, 5ms group commit, synchronous=normal and 30s back-pressure bound', () => {
    const { config } = parseConfig({});
    expect(config.spool).toEqual({
      max_bytes: 1024 * 1024 * 1024,
      commit_interval: '5ms',
      synchronous: 'normal',
      backpressure_timeout: '30s',
      retry_initial: '100ms',
      retry_max: '30s',
      delivery_max_entries: 5000,
      delivery_max_bytes: 16 * 1024 * 1024,
      stop_timeout: '10s',
      memory_cache_entries: 100_000,
    });
  });

  it('accepts synchronous=full and names the key path of a bad value', () => {
    expect(parseConfig({ spool: { synchronous: 'full' } }).config.spool.synchronous).toBe('full');
    expect(() =>
      parseConfig({ spool: { synchronous: 'off', backpressure_timeout: 'soon' } }),
    ).toThrow(
      /spool\.synchronous[\s\S]*spool\.backpressure_timeout|spool\.backpressure_timeout[\s\S]*spool\.synchronous/,
    );
  });
});
