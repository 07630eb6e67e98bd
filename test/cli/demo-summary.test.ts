/** The demo's console summary shows the most recent replacements, however many came before. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { summarize } from '../../src/cli/demo.ts';
import type { Service } from '../../src/cli/service.ts';
import { createEventStore } from '../../src/fleet/event-store.ts';
import type { LifecycleEvent } from '../../src/fleet/lifecycle-event.ts';
import type { Simulator } from '../../src/simulate/simulator.ts';
import { createStore } from '../../src/store/sqlite.ts';

describe('demo summary', () => {
  it('lists the newest replacements after hundreds of events', async () => {
    const store = createStore(mkdtempSync(join(tmpdir(), 'fleetline-demo-sum-')));
    const events = createEventStore(store);
    await store.start();
    try {
      const T = Date.UTC(2026, 10, 27, 12, 0, 0);
      const all: LifecycleEvent[] = [];
      for (let i = 0; i < 400; i++)
        all.push({
          id: `e${String(i).padStart(4, '0')}`,
          kind: i % 2 ? 'replace' : 'launch',
          time: T + i * 1000,
          role: 'web',
          text: `event number ${i}`,
        });
      events.append(all);
      const service = {
        registry: { instances: () => [] },
        events,
        store,
        spool: { stats: () => ({ entries: 0, bytes: 0, oldestAgeMs: 0 }) },
        http: { url: () => 'http://127.0.0.1:1' },
      } as unknown as Service;
      const sim = {
        stats: () => ({ elapsedMs: 0, sent: 0, acked: 0, failed: 0 }),
      } as unknown as Simulator;
      const text = summarize(service, sim, 0);
      expect(text).toContain('event number 399');
      expect(text).toContain('event number 391');
      expect(text).not.toContain('event number 389');
    } finally {
      await store.stop();
    }
  });
});
