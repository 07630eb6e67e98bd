/** Lifecycle events as fleet_events spool entries. */
import { describe, expect, it } from 'vitest';
import { entryTimeMs } from '../../src/core/entry.ts';
import { lifecycleEventEntry } from '../../src/fleet/event-entry.ts';
import { makeEvent } from '../../src/fleet/lifecycle-tracker.ts';

describe('fleet_events entries', () => {
  it.each([0, 1, 999, 1_764_230_400_123, -1, -1500, -86_400_001])(
    'keeps the event time %i exactly, with nsec in [0, 1e9)',
    (time) => {
      const e = lifecycleEventEntry(
        makeEvent({ kind: 'deploy', time, role: 'web', version: '2', text: 'deploy' }),
      );
      expect(e.nsec).toBeGreaterThanOrEqual(0);
      expect(e.nsec).toBeLessThan(1e9);
      expect(entryTimeMs(e)).toBe(time);
    },
  );
});
