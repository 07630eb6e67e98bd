/**
 * Whether the InfluxDB writer gzips its bodies when `influxdb.gzip` is not set: yes, unless the
 * URL points at this machine. On loopback there is no bandwidth to save, and gzip costs CPU
 * twice — ours to compress and influxd's to inflate — on the very cores both processes share
 * (measured in bench/e2e.bench.ts; see docs/BENCHMARKS.md).
 */

/** `localhost`, `*.localhost`, 127.0.0.0/8 and `[::1]` (also as `[::ffff:127.x.y.z]`). */
export function isLoopbackUrl(url: string | URL): boolean {
  let host: string;
  try {
    host = (typeof url === 'string' ? new URL(url) : url).hostname.toLowerCase();
  } catch {
    return false;
  }
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (host === '[::1]') return true;
  // The URL parser writes an IPv4-mapped 127.x.y.z as hex: [::ffff:7fxx:yyzz].
  if (/^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(host)) return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** The effective `gzip` setting: the configured one, else off for loopback URLs only. */
export function gzipBodies(configured: boolean | undefined, url: string): boolean {
  return configured ?? !isLoopbackUrl(url);
}
