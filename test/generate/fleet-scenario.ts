/**
 * Writes the canonical generator scenario into a fresh InfluxDB database, exactly per
 * docs/INFLUXDB-SCHEMA.md: role `web` with three slots; at minute 5 slot 1 is replaced
 * (i-old on 1.4.2 → i-new on 1.4.3) as part of a rollout 1.4.2 → 1.4.3; `fleet_rollup` and
 * `fleet_members` every 10 s; per-event points in `nginx.access` and `app.log`; `fleet_events`
 * for the replacement and the rollout.
 *
 * Kept apart from the query checks on purpose: the same checks can later run against a
 * database filled by the real pipeline instead (anything returning a `Scenario`).
 */
import type { GenerationModel } from '../../src/generate/model.ts';
import { influxUrl } from '../helpers/influxdb.ts';

export interface Scenario {
  db: string;
  url: string;
  /** Epoch ms range holding the data. */
  from: number;
  to: number;
  /** When slot 1 was replaced. */
  replacedAt: number;
  /** Model matching the data (what the registry/catalog would report). */
  model: GenerationModel;
}

export const T0 = Date.UTC(2026, 10, 27, 10, 0, 0);
const MINUTES = 10;
const STEP_MS = 10_000;
const REPLACED_AT = T0 + 5 * 60_000;

const esc = (s: string) => s.replace(/([ ,=])/g, '\\$1');
const str = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
const ns = (ms: number, offset = 0) => `${BigInt(ms) * 1_000_000n + BigInt(offset)}`;

function line(
  m: string,
  tags: Record<string, string>,
  fields: Record<string, string | number | { int: number }>,
  time: string,
): string {
  const t = Object.keys(tags)
    .sort()
    .map((k) => `,${esc(k)}=${esc(tags[k]!)}`)
    .join('');
  const f = Object.entries(fields)
    .map(([k, v]) =>
      typeof v === 'string'
        ? `${esc(k)}=${str(v)}`
        : typeof v === 'number'
          ? `${esc(k)}=${v}`
          : `${esc(k)}=${v.int}i`,
    )
    .join(',');
  return `${esc(m)}${t} ${f} ${time}`;
}

/** Which instance holds a slot at time `t`, and its version. */
function holder(slot: number, t: number): { id: string; version: string } {
  if (slot === 1)
    return t < REPLACED_AT ? { id: 'i-old', version: '1.4.2' } : { id: 'i-new', version: '1.4.3' };
  return { id: `i-web${slot}`, version: '1.4.2' };
}

export function scenarioLines(): string[] {
  const lines: string[] = [];
  let seq = 0;
  const end = T0 + MINUTES * 60_000;
  // Event points: every 2 s per slot, a request; every 10 s per slot, a log line.
  for (let t = T0; t < end; t += 2000) {
    for (const slot of [0, 1, 2]) {
      const h = holder(slot, t);
      const tags = { role: 'web', version: h.version, slot: String(slot) };
      const status = (t / 2000 + slot) % 25 === 0 ? '503' : '200';
      const reqtime = 0.05 + slot * 0.01 + (h.version === '1.4.3' ? 0.02 : 0);
      lines.push(
        line(
          'nginx.access',
          { ...tags, status, method: 'GET' },
          { reqtime, instance_id: h.id, path: '/api' },
          ns(t, ++seq % 1_000_000),
        ),
      );
      if (t % STEP_MS === 0)
        lines.push(
          line(
            'app.log',
            { ...tags, level: status === '503' ? 'error' : 'info' },
            { message: 'handled', instance_id: h.id },
            ns(t, ++seq % 1_000_000),
          ),
        );
    }
  }
  // Rollups and members per 10 s interval and version.
  for (let t = T0; t < end; t += STEP_MS) {
    const versions = t < REPLACED_AT ? { '1.4.2': [0, 1, 2] } : { '1.4.2': [0, 2], '1.4.3': [1] };
    for (const [version, slots] of Object.entries(versions)) {
      const n = slots.length;
      const p = (base: number) => base + (version === '1.4.3' ? 0.02 : 0);
      lines.push(
        line(
          'fleet_rollup',
          { role: 'web', version, measurement: 'nginx.access' },
          {
            events: { int: 5 * n },
            status_2xx: { int: 5 * n - 1 },
            status_5xx: { int: 1 },
            reqtime_count: { int: 5 * n },
            reqtime_sum: 0.06 * 5 * n,
            reqtime_mean: p(0.06),
            reqtime_max: p(0.09),
            reqtime_p50: p(0.06),
            reqtime_p95: p(0.08),
            reqtime_p99: p(0.09),
          },
          ns(t),
        ),
        line(
          'fleet_rollup',
          { role: 'web', version, measurement: 'app.log' },
          { events: { int: n }, level_info: { int: n - 1 }, level_error: { int: 1 } },
          ns(t),
        ),
        line('fleet_members', { role: 'web', version }, { members: { int: n } }, ns(t)),
      );
    }
  }
  const ev = (
    kind: string,
    t: number,
    offset: number,
    fields: Record<string, string | number | { int: number }>,
  ) => line('fleet_events', { role: 'web', kind }, fields, ns(t, offset));
  lines.push(
    ev('rollout_start', REPLACED_AT - 1000, 11, {
      text: 'rollout of web: 1.4.2 → 1.4.3',
      title: 'web rollout started',
      event_id: 'ev-rollout-start',
      old_version: '1.4.2',
      new_version: '1.4.3',
      cause: 'release',
      done: { int: 0 },
      total: { int: 3 },
    }),
    ev('replace', REPLACED_AT, 17, {
      text: 'i-old → i-new (1.4.2 → 1.4.3, release)',
      title: 'web slot 1 replaced',
      event_id: 'ev-replace-1',
      old_instance_id: 'i-old',
      new_instance_id: 'i-new',
      old_version: '1.4.2',
      new_version: '1.4.3',
      slot: { int: 1 },
      cause: 'release',
    }),
    ev('launch', REPLACED_AT - 30_000, 23, {
      text: 'i-new launched',
      title: 'web launch',
      event_id: 'ev-launch',
      instance_id: 'i-new',
      version: '1.4.3',
      slot: { int: 1 },
    }),
  );
  return lines;
}

export const scenarioModel: GenerationModel = {
  roles: [{ role: 'web', versions: ['1.4.2', '1.4.3'], members: 3, slots: [0, 1, 2] }],
  measurements: [
    {
      name: 'nginx.access',
      tagKeys: ['method', 'role', 'slot', 'status', 'version'],
      fields: { instance_id: 'string', path: 'string', reqtime: 'float' },
    },
    {
      name: 'app.log',
      tagKeys: ['level', 'role', 'slot', 'version'],
      fields: { instance_id: 'string', message: 'string' },
    },
    {
      name: 'fleet_rollup',
      tagKeys: ['measurement', 'role', 'version'],
      fields: {
        events: 'integer',
        level_error: 'integer',
        level_info: 'integer',
        reqtime_count: 'integer',
        reqtime_max: 'float',
        reqtime_mean: 'float',
        reqtime_p50: 'float',
        reqtime_p95: 'float',
        reqtime_p99: 'float',
        reqtime_sum: 'float',
        status_2xx: 'integer',
        status_5xx: 'integer',
      },
    },
    { name: 'fleet_members', tagKeys: ['role', 'version'], fields: { members: 'integer' } },
  ],
  instances: [],
  rollupInterval: '10s',
};

export async function writeScenario(db: string, url = influxUrl()): Promise<Scenario> {
  const res = await fetch(`${url}/write?db=${encodeURIComponent(db)}&precision=ns`, {
    method: 'POST',
    body: scenarioLines().join('\n'),
  });
  if (res.status !== 204)
    throw new Error(`scenario write failed: ${res.status} ${await res.text()}`);
  return {
    db,
    url,
    from: T0,
    to: T0 + MINUTES * 60_000 - 1,
    replacedAt: REPLACED_AT,
    model: scenarioModel,
  };
}
