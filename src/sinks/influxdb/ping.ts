/**
 * InfluxDB liveness: `GET /ping` answers 204 on 1.x, 2.x and 3.x. Used by `/readyz`.
 */
import type { InfluxdbConfig } from '../../config/schema.ts';

export async function pingInfluxdb(
  config: Pick<InfluxdbConfig, 'url' | 'token'>,
  timeoutMs = 1000,
): Promise<string | undefined> {
  const url = new URL('ping', config.url.endsWith('/') ? config.url : `${config.url}/`);
  try {
    const res = await fetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
      headers: config.token ? { authorization: `Token ${config.token}` } : {},
    });
    await res.arrayBuffer();
    if (res.status === 204 || res.status === 200) return undefined;
    return `InfluxDB /ping answered ${res.status}`;
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return `InfluxDB at ${url.origin} is not answering: ${e.cause?.code ?? e.name}`;
  }
}
