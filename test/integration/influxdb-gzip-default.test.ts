import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toLines } from '../../src/sinks/influxdb/points.ts';
import { createInfluxWriter } from '../../src/sinks/influxdb/writer.ts';
import type { Store } from '../../src/store/sqlite.ts';
import { testDeps } from '../helpers/deps.ts';
import { type InfluxV2Endpoint, startInfluxV2Endpoint } from '../helpers/influx-v2-endpoint.ts';
import {
  logEntries,
  SCHEMA,
  spooledBatch,
  tempStore,
  writerConfig,
} from '../sinks/influxdb/writer-fixture.ts';

describe('InfluxDB writer with influxdb.gzip unset', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let endpoint: InfluxV2Endpoint;

  beforeEach(async () => {
    ({ store, cleanup } = await tempStore());
    endpoint = await startInfluxV2Endpoint({ token: 't', org: 'o', bucket: 'b' });
  });
  afterEach(async () => {
    await endpoint.close();
    await cleanup();
  });

  it('sends plain bodies to a loopback InfluxDB, and gzip when asked to', async () => {
    for (const gzip of [undefined, true]) {
      const config = writerConfig({
        url: endpoint.url,
        api: 'v2',
        org: 'o',
        bucket: 'b',
        token: 't',
      });
      if (gzip === undefined) delete config.gzip;
      else config.gzip = gzip;
      const w = createInfluxWriter(config, SCHEMA, testDeps(), { store });
      await w.start();
      const batch = spooledBatch(logEntries(3), 1, 0);
      await w.deliver([batch]);
      await w.stop();
      expect(endpoint.requests.at(-1)?.headers['content-encoding']).toBe(gzip ? 'gzip' : undefined);
      expect(endpoint.lines().slice(-3)).toEqual(toLines(batch, SCHEMA));
    }
    expect(new URL(endpoint.url).hostname).toBe('127.0.0.1');
  });
});
