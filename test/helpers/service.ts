/**
 * Starts the whole fleetline service in-process on free loopback ports, the way `fleetline
 * serve` builds it, for end-to-end tests.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createService, type Service } from '../../src/cli/service.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import type { Deps } from '../../src/core/deps.ts';
import { startAll, stopAll } from '../../src/core/lifecycle.ts';
import { testDeps } from './deps.ts';

export interface RunningService extends Service {
  config: Readonly<Config>;
  deps: Deps;
  forwardPort: number;
  url: string;
  stop(): Promise<void>;
}

/** `overrides` is a config document merged over loopback/port-0/temp-dir defaults. */
export async function startService(
  overrides: Record<string, unknown> = {},
  deps: Deps = testDeps(),
): Promise<RunningService> {
  const doc: Record<string, unknown> = {
    data_dir: mkdtempSync(join(tmpdir(), 'fleetline-svc-')),
    ...overrides,
    forward: { port: 0, ...(overrides.forward as object) },
    http: { port: 0, ...(overrides.http as object) },
  };
  const { config } = parseConfig(doc);
  const service = createService(config, deps);
  await startAll(service.components);
  let stopped: Promise<void> | undefined;
  return {
    ...service,
    config,
    deps,
    forwardPort: service.forward?.port() ?? 0,
    url: service.http.url(),
    stop: () => {
      stopped ??= stopAll(service.components);
      return stopped;
    },
  };
}

/** Polls `check` until it returns a truthy value. */
export async function eventually<T>(
  check: () => Promise<T> | T,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
