/**
 * vitest global setup: one real InfluxDB for the whole run. Tests get its URL through
 * `inject('influxUrl')` (see `influxdb.ts`). A missing influxd fails the run with install
 * instructions; it never skips.
 */
import type { TestProject } from 'vitest/node';
import { startInfluxd } from './influxd.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    influxUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const server = await startInfluxd();
  project.provide('influxUrl', server.url);
  return async () => {
    await server.destroy();
  };
}
