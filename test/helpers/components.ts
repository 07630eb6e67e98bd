/**
 * Every long-lived component type, built with a minimal config, for the shared lifecycle
 * contract test (test/core/lifecycle.test.ts). Add new components here.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.ts';
import type { Component } from '../../src/core/lifecycle.ts';
import { createHttpServer } from '../../src/server/http.ts';
import { createStore } from '../../src/store/sqlite.ts';
import { testDeps } from './deps.ts';

export interface ComponentCase {
  name: string;
  /** Builds a fresh component (and whatever it needs, already started). */
  make(): Promise<Component>;
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'fleetline-lc-'));
}

export const COMPONENT_CASES: ComponentCase[] = [
  { name: 'store', make: async () => createStore(tempDir()) },
  {
    name: 'http server',
    make: async () => {
      const { config } = parseConfig({ http: { port: 0 } });
      return createHttpServer(config.http, testDeps(), { readiness: [] });
    },
  },
];
