/** `GET /api/rollups` parameter checks, through fastify's inject (no socket). */
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { rollupApiRoutes } from '../../src/api/rollups.ts';
import type { RollupQuery } from '../../src/rollup/engine.ts';
import { testDeps } from '../helpers/deps.ts';
import { fakeClock } from '../helpers/fake-clock.ts';
import { T0 } from './fixtures.ts';

async function get(qs: string) {
  const queries: RollupQuery[] = [];
  const app = Fastify();
  await app.register(
    rollupApiRoutes(testDeps({ clock: fakeClock(T0) }), {
      engine: {
        query: (q) => {
          queries.push(q);
          return [];
        },
      },
    }),
  );
  const res = await app.inject({ method: 'GET', url: `/api/rollups${qs}` });
  await app.close();
  return { status: res.statusCode, body: res.json() as Record<string, unknown>, queries };
}

describe('GET /api/rollups parameters', () => {
  it.each([
    ['?since=2026-02-30T00:00:00Z', /^since: must be RFC 3339/],
    ['?since=2026-04-31T00:00:00Z', /^since: must be RFC 3339/],
    ['?since=2025-02-29T00:00:00Z', /^since: must be RFC 3339/],
    ['?until=2026-11-27T24:00:00Z', /^until: must be RFC 3339/],
  ])('answers 400 for a date-time that does not exist: %s', async (qs, message) => {
    const { status, body, queries } = await get(qs);
    expect(status).toBe(400);
    expect(body.error).toMatch(message);
    expect(queries).toEqual([]);
  });

  it('accepts real calendar dates, a leap day and offsets', async () => {
    const leap = await get('?since=2024-02-29T00:00:00Z&until=2024-03-01T00:00:00%2B01:00');
    expect(leap.status).toBe(200);
    expect(leap.queries[0]).toMatchObject({
      since: Date.UTC(2024, 1, 29),
      until: Date.UTC(2024, 1, 29, 23),
    });
    const plain = await get(`?since=${T0 - 1000}&until=${T0}`);
    expect(plain.status).toBe(200);
    expect(plain.queries[0]).toMatchObject({ since: T0 - 1000, until: T0, limit: 10_001 });
  });
});
