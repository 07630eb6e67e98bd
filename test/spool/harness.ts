/** Builds a real spool over a real SQLite store in a temporary directory, and tears it down. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SpoolConfig } from '../../src/config/schema.ts';
import type { Deps } from '../../src/core/deps.ts';
import type { SpoolConsumer } from '../../src/spool/contract.ts';
import { createSpool, type DurableSpool } from '../../src/spool/spool.ts';
import { createStore, type Store } from '../../src/store/sqlite.ts';
import { testDeps } from '../helpers/deps.ts';
import { spoolConfig } from '../helpers/spool-fixtures.ts';

export interface SpoolHarness {
  dir: string;
  store: Store;
  spool: DurableSpool;
  deps: Deps;
  /** Stops the spool and the store, then opens both again on the same directory. */
  reopen(consumers: SpoolConsumer[], config?: Partial<SpoolConfig>): Promise<DurableSpool>;
  close(): Promise<void>;
}

export async function openSpool(
  consumers: SpoolConsumer[],
  config: Partial<SpoolConfig> = {},
  dir = mkdtempSync(join(tmpdir(), 'fleetline-spool-')),
): Promise<SpoolHarness> {
  const h = {} as SpoolHarness;
  const open = async (cs: SpoolConsumer[], cfg: Partial<SpoolConfig>) => {
    h.deps = testDeps();
    h.store = createStore(dir);
    await h.store.start();
    h.spool = createSpool(spoolConfig(cfg), h.deps, h.store);
    for (const c of cs) h.spool.register(c);
    await h.spool.start();
    return h.spool;
  };
  h.dir = dir;
  h.reopen = async (cs, cfg = config) => {
    await h.spool.stop();
    await h.store.stop();
    return open(cs, cfg);
  };
  h.close = async () => {
    await h.spool.stop();
    await h.store.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  await open(consumers, config);
  return h;
}
