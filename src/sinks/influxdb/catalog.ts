/**
 * The catalog of what has been written to InfluxDB: measurements, their tag keys, and their
 * fields with the InfluxDB type. Kept in memory for the per-point check (a Set lookup per key)
 * and persisted to SQLite only when something new appears, so the dashboard generator sees
 * measurements written before a restart too.
 *
 * The catalog is bounded (`influxdb.catalog`): records with generated keys (a field per request
 * id) would otherwise grow it, in memory and in SQLite, for as long as they are written, and
 * no dashboard can use such names. A measurement keeps the first `maxTagKeys` tag keys and
 * `maxFields` fields it was seen with; at most `maxMeasurements` measurements are recorded, not
 * counting fleetline's own (`fleet_rollup`, `fleet_members`, `fleet_events`), which the
 * dashboards are built on. Those keep at least the default `maxFields` / `maxTagKeys` however
 * low the bounds are set: the dashboards find the rollup's signals by its field names (7 per
 * rollup field), and lower bounds are meant for clients' generated keys. Not unbounded: a client
 * can send records routed to a measurement of that name too. Names beyond the bounds are still written to InfluxDB: only the
 * catalog leaves them out. They are counted per point carrying them in
 * `fleetline_influxdb_catalog_names_refused_total{kind}`, and each measurement that reaches a
 * bound is logged once (`influxdb_catalog_limit`, at most one line a minute, naming the
 * measurements since the last line). A catalog an earlier run grew past the bounds is trimmed
 * at `load` to the names seen first.
 */
import { CATALOG_LIMITS } from '../../config/sections/influxdb.ts';
import type { Deps } from '../../core/deps.ts';
import type { MeasurementModel } from '../../generate/model.ts';
import type { Db } from '../../store/sqlite.ts';
import { logThrottle } from '../../telemetry/log-throttle.ts';
import { counter, gauge } from '../../telemetry/metrics.ts';
import { type FieldScalar, type FieldType, fieldType, safeKey } from './encode.ts';
import type { PointShape } from './line-encoder.ts';
import { EVENTS_MEASUREMENT, MEMBERS_MEASUREMENT, ROLLUP_MEASUREMENT } from './point-time.ts';

export interface CatalogLimits {
  maxMeasurements: number;
  maxFields: number;
  maxTagKeys: number;
}

type Kind = 'measurement' | 'tag' | 'field';

interface Known {
  name: string;
  tags: Set<string>;
  fields: Map<string, FieldType>;
  /** `maxTagKeys` / `maxFields`; for fleetline's own measurements at least the defaults. */
  maxTags: number;
  maxFields: number;
  /** Names refused since the last `report`, and whether that is on the pending list. */
  refusedTags: number;
  refusedFields: number;
  pending: boolean;
  /** Whether reaching a bound was logged (once per measurement). */
  logged: boolean;
}

export interface Catalog {
  /** Loads what earlier runs recorded; with bounds, trims what is beyond them. */
  load(): void;
  /**
   * `isNovel` for a line encoder's shape (names already as stored): the per-point check on the
   * writer's path, with no tag or field maps to build. A name beyond a bound is not novel (it
   * would not be recorded). A point that is not novel is done with the catalog, so its names
   * beyond a bound are counted as refused here; a novel point's are counted when it is noted,
   * or when the writer asks again after the write and it is no longer novel. So each point
   * counts once (a novel one only if the server accepted it).
   */
  isNovelShape(shape: PointShape): boolean;
  /** True when the point has a measurement, tag key or field not recorded yet. */
  isNovel(
    measurement: string,
    tags: Record<string, string>,
    fields: Record<string, FieldScalar>,
  ): boolean;
  /** Records a written point's keys within the bounds; persists only what is new. */
  note(
    measurement: string,
    tags: Record<string, string>,
    fields: Record<string, FieldScalar>,
    now: number,
  ): void;
  /** Counts and logs the names refused since the last call; the writer calls it per delivery. */
  report(): void;
  models(): MeasurementModel[];
}

/** Names of the measurements that reached a bound are logged at most this often. */
const LIMIT_LOG_INTERVAL_MS = 60_000;
/** Refused measurements (`maxMeasurements` reached) are logged at once, then at most this often. */
const MEASUREMENT_LOG_INTERVAL_MS = 10 * 60_000;
/** Measurement names one log line lists; the rest are counted. */
const LOG_NAMES = 20;
/** fleetline's own measurements, recorded whatever `maxMeasurements` says. */
const OWN = new Set([ROLLUP_MEASUREMENT, MEMBERS_MEASUREMENT, EVENTS_MEASUREMENT]);

const UNBOUNDED: CatalogLimits = {
  maxMeasurements: Number.POSITIVE_INFINITY,
  maxFields: Number.POSITIVE_INFINITY,
  maxTagKeys: Number.POSITIVE_INFINITY,
};

/**
 * `limits` absent: unbounded and never trimming (the offline `dashboards` command reads the
 * store read-only). `deps` absent: refusals are neither counted nor logged.
 */
export function createCatalog(
  db: () => Db,
  opts: { limits?: CatalogLimits; deps?: Pick<Deps, 'log' | 'metrics' | 'clock'> } = {},
): Catalog {
  const limits = opts.limits ?? UNBOUNDED;
  const { deps } = opts;
  const m = deps && {
    refused: counter(
      deps.metrics,
      'fleetline_influxdb_catalog_names_refused_total',
      'names on written points the catalog left out (influxdb.catalog bounds), counted per point',
      ['kind'],
    ),
    names: gauge(deps.metrics, 'fleetline_influxdb_catalog_names', 'names in the catalog', [
      'kind',
    ]),
  };
  const known = new Map<string, Known>();
  /** Measurements counted against `maxMeasurements`. */
  let measurements = 0;
  let tagNames = 0;
  let fieldNames = 0;
  let pending: Known[] = [];
  /** Measurements that reached a bound and still wait for their log line. */
  let toLog: Known[] = [];
  /** Their refusals by kind, up to their log line. */
  let toLogKinds: Partial<Record<Kind, number>> = {};
  const logLimit = logThrottle(LIMIT_LOG_INTERVAL_MS, () => deps?.clock.now() ?? 0);
  let refusedMeasurements = 0;
  let heldMeasurements = 0;
  const refusedSample = new Set<string>();
  const logMeasurementsFull = logThrottle(
    MEASUREMENT_LOG_INTERVAL_MS,
    () => deps?.clock.now() ?? 0,
  );

  const insert = (
    m: string,
    kind: 'tag' | 'field',
    name: string,
    type: string | null,
    now: number,
  ) =>
    db()
      .prepare(
        `INSERT OR IGNORE INTO influxdb_catalog (measurement, kind, name, type, first_at)
         VALUES (?, ?, ?, ?, ?)`,
      )
      .run(m, kind, name, type, now);

  const roomFor = (name: string) => OWN.has(name) || measurements < limits.maxMeasurements;
  const create = (name: string): Known => {
    const own = OWN.has(name);
    const k: Known = {
      name,
      tags: new Set(),
      fields: new Map(),
      maxTags: own ? Math.max(limits.maxTagKeys, CATALOG_LIMITS.max_tag_keys) : limits.maxTagKeys,
      maxFields: own ? Math.max(limits.maxFields, CATALOG_LIMITS.max_fields) : limits.maxFields,
      refusedTags: 0,
      refusedFields: 0,
      pending: false,
      logged: false,
    };
    known.set(name, k);
    if (!own) measurements++;
    return k;
  };
  const refuseMeasurement = (name: string) => {
    refusedMeasurements++;
    if (refusedSample.size < LOG_NAMES) refusedSample.add(name);
  };
  const refuse = (k: Known, kind: 'tag' | 'field') => {
    if (kind === 'tag') k.refusedTags++;
    else k.refusedFields++;
    if (!k.pending) {
      k.pending = true;
      pending.push(k);
    }
  };

  /** Deletes rows `load` found beyond the bounds, in one transaction, and says so. */
  const trim = (over: { measurement: string; kind: string; name: string }[], dropped: number) => {
    const del = db().prepare(
      'DELETE FROM influxdb_catalog WHERE measurement = ? AND kind = ? AND name = ?',
    );
    db().transaction(() => {
      for (const r of over) del.run(r.measurement, r.kind, r.name);
    })();
    const removed = { measurement: dropped, tag: 0, field: 0 };
    for (const r of over) removed[r.kind as 'tag' | 'field']++;
    deps?.log.warn(
      {
        event: 'influxdb_catalog_trimmed',
        removed,
        limits: {
          max_measurements: limits.maxMeasurements,
          max_fields: limits.maxFields,
          max_tag_keys: limits.maxTagKeys,
        },
      },
      'the catalog held more names than influxdb.catalog allows; removed the most recently seen',
    );
  };

  return {
    isNovelShape(shape) {
      const k = known.get(shape.measurement);
      if (!k) {
        if (roomFor(shape.measurement)) return true;
        refuseMeasurement(shape.measurement);
        return false;
      }
      // Points whose names are all known (nearly all points) only do the lookups.
      let tagsOver = 0;
      let fieldsOver = 0;
      for (let i = 0; i < shape.tagCount; i++) {
        if (k.tags.has(shape.tagNames[i]!)) continue;
        if (k.tags.size < k.maxTags) return true;
        tagsOver++;
      }
      for (let i = 0; i < shape.fieldCount; i++) {
        if (k.fields.has(shape.fieldNames[i]!)) continue;
        if (k.fields.size < k.maxFields) return true;
        fieldsOver++;
      }
      for (; tagsOver > 0; tagsOver--) refuse(k, 'tag');
      for (; fieldsOver > 0; fieldsOver--) refuse(k, 'field');
      return false;
    },
    isNovel(measurement, tags, fields) {
      const k = known.get(measurement);
      if (!k) return true;
      for (const t in tags) if (tags[t] !== '' && !k.tags.has(safeKey(t))) return true;
      for (const f in fields) if (!k.fields.has(safeKey(f))) return true;
      return false;
    },
    load() {
      // Oldest first: when an earlier run recorded more than the bounds allow, the names seen
      // first are kept (generated keys come later, once traffic flows).
      const rows = db()
        .prepare(
          `SELECT measurement, kind, name, type FROM influxdb_catalog
           ORDER BY first_at, measurement, kind, name`,
        )
        .all() as { measurement: string; kind: string; name: string; type: FieldType | null }[];
      const over: typeof rows = [];
      const dropped = new Set<string>();
      for (const r of rows) {
        let k = known.get(r.measurement);
        if (!k) {
          if (!roomFor(r.measurement)) {
            over.push(r);
            dropped.add(r.measurement);
            continue;
          }
          k = create(r.measurement);
        }
        if (r.kind === 'tag') {
          if (k.tags.has(r.name)) continue;
          if (k.tags.size >= k.maxTags) over.push(r);
          else {
            k.tags.add(r.name);
            tagNames++;
          }
        } else {
          if (k.fields.has(r.name)) continue;
          if (k.fields.size >= k.maxFields) over.push(r);
          else {
            k.fields.set(r.name, r.type ?? 'float');
            fieldNames++;
          }
        }
      }
      if (over.length > 0 && opts.limits) trim(over, dropped.size);
    },
    note(measurement, tags, fields, now) {
      let k = known.get(measurement);
      if (!k) {
        if (!roomFor(measurement)) {
          refuseMeasurement(measurement);
          return;
        }
        k = create(measurement);
      }
      for (const t in tags) {
        if (tags[t] === '') continue;
        const name = safeKey(t);
        if (k.tags.has(name)) continue;
        if (k.tags.size >= k.maxTags) {
          refuse(k, 'tag');
          continue;
        }
        k.tags.add(name);
        tagNames++;
        insert(measurement, 'tag', name, null, now);
      }
      for (const f in fields) {
        const name = safeKey(f);
        if (k.fields.has(name)) continue;
        if (k.fields.size >= k.maxFields) {
          refuse(k, 'field');
          continue;
        }
        const type = fieldType(fields[f]!);
        k.fields.set(name, type);
        fieldNames++;
        insert(measurement, 'field', name, type, now);
      }
    },
    report() {
      if (!deps || !m) {
        pending = [];
        return;
      }
      m.names.set({ kind: 'measurement' }, known.size);
      m.names.set({ kind: 'tag' }, tagNames);
      m.names.set({ kind: 'field' }, fieldNames);
      if (refusedMeasurements > 0) {
        m.refused.inc({ kind: 'measurement' }, refusedMeasurements);
        heldMeasurements += refusedMeasurements;
        refusedMeasurements = 0;
      }
      if (heldMeasurements > 0 && logMeasurementsFull()) {
        deps.log.warn(
          {
            event: 'influxdb_catalog_measurements_full',
            refused: heldMeasurements,
            examples: [...refusedSample],
            max_measurements: limits.maxMeasurements,
          },
          `the catalog holds influxdb.catalog.max_measurements (${limits.maxMeasurements}) measurements: new ones are written to InfluxDB but left out of the generated dashboards`,
        );
        heldMeasurements = 0;
        refusedSample.clear();
      }
      const kinds = toLogKinds;
      for (const k of pending) {
        if (k.refusedTags > 0) m.refused.inc({ kind: 'tag' }, k.refusedTags);
        if (k.refusedFields > 0) m.refused.inc({ kind: 'field' }, k.refusedFields);
        if (!k.logged) {
          k.logged = true;
          toLog.push(k);
          if (k.refusedTags > 0) kinds.tag = (kinds.tag ?? 0) + k.refusedTags;
          if (k.refusedFields > 0) kinds.field = (kinds.field ?? 0) + k.refusedFields;
        }
        k.refusedTags = 0;
        k.refusedFields = 0;
        k.pending = false;
      }
      pending = [];
      if (toLog.length > 0 && logLimit()) {
        deps.log.warn(
          {
            event: 'influxdb_catalog_limit',
            measurements: toLog.slice(0, LOG_NAMES).map((k) => k.name),
            more: Math.max(0, toLog.length - LOG_NAMES),
            kinds,
            limits: { max_fields: limits.maxFields, max_tag_keys: limits.maxTagKeys },
          },
          'measurements reached a bound of influxdb.catalog: further tag keys / fields are written to InfluxDB but left out of the generated dashboards (logged once per measurement)',
        );
        toLog = [];
        toLogKinds = {};
      }
    },
    models() {
      return [...known.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([name, k]) => ({
          name,
          tagKeys: [...k.tags].sort(),
          fields: Object.fromEntries([...k.fields.entries()].sort(([a], [b]) => (a < b ? -1 : 1))),
        }));
    },
  };
}
