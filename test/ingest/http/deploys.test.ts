import { describe, expect, it } from 'vitest';
import { deployObservation } from '../../../src/ingest/http/deploys.ts';

const NOW = Date.UTC(2026, 10, 27, 12);

describe('deployObservation', () => {
  it.each([
    [undefined, NOW],
    [1764244800, 1764244800_000],
    [1764244800.25, 1764244800_250],
    [1764244800123, 1764244800123],
    ['2026-11-27T11:00:00.5Z', Date.UTC(2026, 10, 27, 11, 0, 0, 500)],
  ])('reads time %j as epoch ms %i', (time, at) => {
    const o = deployObservation({ role: 'web', version: '1.4.3', phase: 'started', time }, NOW);
    expect(o).toEqual({
      kind: 'deploy',
      at,
      role: 'web',
      version: '1.4.3',
      phase: 'started',
      source: 'deploy-api',
    });
  });

  it('carries text and url', () => {
    expect(
      deployObservation(
        {
          role: 'api',
          version: '2.0.0',
          phase: 'finished',
          text: 'rolled out',
          url: 'https://ci.example/run/7',
        },
        NOW,
      ),
    ).toEqual({
      kind: 'deploy',
      at: NOW,
      role: 'api',
      version: '2.0.0',
      phase: 'finished',
      text: 'rolled out',
      url: 'https://ci.example/run/7',
      source: 'deploy-api',
    });
  });
});
