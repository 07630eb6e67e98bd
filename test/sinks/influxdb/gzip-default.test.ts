import { describe, expect, it } from 'vitest';
import { gzipBodies, isLoopbackUrl } from '../../../src/sinks/influxdb/gzip-default.ts';

describe('gzip default for InfluxDB write bodies', () => {
  it('recognises loopback URLs: localhost, 127.0.0.0/8 and [::1]', () => {
    for (const url of [
      'http://localhost:8086',
      'http://LOCALHOST:8086/',
      'http://influx.localhost:8086',
      'http://127.0.0.1:8086',
      'https://127.10.0.3',
      'http://[::1]:8086',
      'http://[::ffff:127.0.0.1]:8086',
    ])
      expect(isLoopbackUrl(url), url).toBe(true);
    for (const url of [
      'http://influxdb:8086',
      'http://10.0.0.5:8086',
      'http://127.0.0.1.example.com:8086',
      'http://localhost.example.com',
      'http://[::2]:8086',
      'not a url',
    ])
      expect(isLoopbackUrl(url), url).toBe(false);
  });

  it('is off for a loopback URL and on for any other when unset; an explicit setting wins', () => {
    expect(gzipBodies(undefined, 'http://127.0.0.1:8086')).toBe(false);
    expect(gzipBodies(undefined, 'https://influx.example.com')).toBe(true);
    expect(gzipBodies(true, 'http://127.0.0.1:8086')).toBe(true);
    expect(gzipBodies(false, 'https://influx.example.com')).toBe(false);
  });
});
