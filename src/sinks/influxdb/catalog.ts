/**
 * The catalog of what has been written to InfluxDB: measurements, their tag keys, and their
 * fields with the InfluxDB type. Kept in memory for the per-point check (a Set lookup per key)
 * and persisted to SQLite only when something new appears, so the dashboard generator sees
 * measurements written before a restart too.
 */
import type { MeasurementModel } from '../../generate/model.ts';
import type { Db } from '../../store/sqlite.ts';
import { type FieldScalar, type FieldType, fieldType, safeKey } from './encode.ts';
import type { PointShape } from './line-encoder.ts';

interface Known {
  tags: Set<string>;
  fields: Map<string, FieldType>;
}

export interface Catalog {
  /** Loads what earlier runs recorded. */
  load(): void;
  /**
   * `isNovel` for a line encoder's shape (names already as stored): the per-point check on the
   * writer's path, with no tag or field maps to build.
   */
  isNovelShape(shape: PointShape): boolean;
  /** True when the point has a measurement, tag key or field not recorded yet. */
  isNovel(
    measurement: string,
    tags: Record<string, string>,
    fields: Record<string, FieldScalar>,
  ): boolean;
  /** Records a written point's keys; persists only what is new. */
  note(
    measurement: string,
    tags: Record<string, string>,
    fields: Record<string, FieldScalar>,
    now: number,
  ): void;
  models(): MeasurementModel[];
}

export function createCatalog(db: () => Db): Catalog {
  const known = new Map<string, Known>();
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
  const entry = (m: string): Known => {
    let k = known.get(m);
    if (!k) {
      k = { tags: new Set(), fields: new Map() };
      known.set(m, k);
    }
    return k;
  };
  return {
    isNovelShape(shape) {
      const k = known.get(shape.measurement);
      if (!k) return true;
      for (let i = 0; i < shape.tagCount; i++) if (!k.tags.has(shape.tagNames[i]!)) return true;
      for (let i = 0; i < shape.fieldCount; i++)
        if (!k.fields.has(shape.fieldNames[i]!)) return true;
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
      const rows = db()
        .prepare('SELECT measurement, kind, name, type FROM influxdb_catalog')
        .all() as { measurement: string; kind: string; name: string; type: FieldType | null }[];
      for (const r of rows) {
        const k = entry(r.measurement);
        if (r.kind === 'tag') k.tags.add(r.name);
        else k.fields.set(r.name, r.type ?? 'float');
      }
    },
    note(measurement, tags, fields, now) {
      const k = entry(measurement);
      for (const t in tags) {
        if (tags[t] === '') continue;
        const name = safeKey(t);
        if (k.tags.has(name)) continue;
        k.tags.add(name);
        insert(measurement, 'tag', name, null, now);
      }
      for (const f in fields) {
        const name = safeKey(f);
        if (k.fields.has(name)) continue;
        const type = fieldType(fields[f]!);
        k.fields.set(name, type);
        insert(measurement, 'field', name, type, now);
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
