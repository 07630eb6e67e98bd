import { afterEach, describe, expect, it } from 'vitest';
import { startFakeGrafana } from '../helpers/grafana-api.ts';
import { eventually, type RunningService, startService } from '../helpers/service.ts';

describe('service › lifecycle events mirrored to Grafana', () => {
  let service: RunningService | undefined;
  afterEach(async () => {
    await service?.stop();
    service = undefined;
  });

  it('pushes each lifecycle event once as an annotation tagged fleetline, role and kind', async () => {
    const grafana = await startFakeGrafana({ token: 'glsa_test_token' });
    try {
      service = await startService({
        grafana: { url: grafana.url, token: 'glsa_test_token', push_annotations: true },
      });
      const res = await fetch(`${service.url}/api/deploys`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          role: 'web',
          version: '1.4.3',
          phase: 'started',
          text: 'release 1.4.3',
        }),
      });
      expect(res.status).toBeLessThan(300);
      const annotations = await eventually(
        () => (grafana.annotations.length > 0 ? grafana.annotations : undefined),
        10_000,
        'an annotation',
      );
      expect(annotations).toHaveLength(1);
      expect(annotations[0]!.tags).toEqual(
        expect.arrayContaining(['fleetline', 'role:web', 'kind:deploy']),
      );
      expect(annotations[0]!.text).toMatch(/1\.4\.3/);
    } finally {
      await grafana.stop();
    }
  });
});
