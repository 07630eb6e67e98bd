/**
 * The one-pass line encoder: a log record (an entry without line-protocol tags) straight to its
 * line, with the bytes `toPoint` + `encodeLine` would write (test/sinks/influxdb holds it to
 * them on generated entries), but without building tag and field maps per point. Those maps,
 * the regex tests per key and the BigInt time were most of the writer's CPU and garbage.
 *
 * What it remembers, so that a point costs a walk over its record and little else:
 *
 *   keys:    raw key ─▶ KeyInfo { escaped forms, stored name, per-point stamps,
 *                                  `k_field` KeyInfo, children `k.inner` KeyInfos }
 *   labels:  labels object (by identity if frozen, else by content: last one, then a trie
 *            key ─▶ value ─▶ key …) ─▶ LabelsPlan
 *              { the label tags already escaped and sorted, with gaps where a `tag_keys`
 *                record value may be promoted, and those candidates;
 *                the last tag section written with them: measurement + promoted values ─▶ text }
 *   measurements: measurement ─▶ escaped measurement
 *   last record:  its keys in order ─▶ their KeyInfos (no Map lookup when they repeat)
 *
 * Per point, stamps on the KeyInfos stand in for the maps: "is `k` a field of this point" is
 * `info.fieldStamp === point`, which finds tag/field clashes and repeated flattened keys in
 * O(1). Everything the map-based rule does differently in corner cases (line-protocol tags, a
 * key named like an `Object.prototype` member or an array index, a clash whose `k_field` name
 * is taken) goes to the `fallback` (`toPoint`) instead, so the two cannot disagree there.
 *
 * After each line, `shape` holds the point's tag and field names as stored: all the catalog's
 * per-point novelty check reads. The writer rebuilds the maps with `toPoint` only for the few
 * points that turn out novel.
 *
 * The caches are bounded (past MAX_KEYS keys everything starts over, since KeyInfos are compared
 * by identity; label sets and measurements have their own limits; frozen labels are held
 * weakly) and belong to one encoder, one per writer. Not re-entrant: one `encode` at a time.
 */
import type { Entry, Labels, RecordValue } from '../../core/entry.ts';
import {
  arrayFieldText,
  bytesFieldText,
  encodeFieldValue,
  escapeFieldKey,
  escapeKey,
  escapeMeasurement,
  escapeStringContent,
  escapeTagValue,
  type FieldScalar,
  promotable,
  safeKey,
} from './encode.ts';
import { pointTimeText } from './point-time.ts';
import type { EncodedPoint, SchemaPlan, UnencodableEntry } from './points.ts';

/**
 * The names a line's point has, as the catalog records them: tag keys with a non-empty value
 * and field keys, as `safeKey` names them (`time` → `time_`, `time_` → `time__`, guarded
 * backslashes). Valid until the
 * next `encode`.
 */
export interface PointShape {
  measurement: string;
  tagNames: string[];
  tagCount: number;
  fieldNames: string[];
  fieldCount: number;
}

/** A copy of `shape` that outlives the next `encode`. */
export function copyShape(shape: PointShape): PointShape {
  return {
    measurement: shape.measurement,
    tagNames: shape.tagNames.slice(0, shape.tagCount),
    tagCount: shape.tagCount,
    fieldNames: shape.fieldNames.slice(0, shape.fieldCount),
    fieldCount: shape.fieldCount,
  };
}

export interface LineEncoder {
  /** The entry's line, or why it has none. On a line, `shape` describes its point. */
  encode(entry: Entry, entrySeq: number): string | UnencodableEntry;
  readonly shape: PointShape;
}

/** The general (map-based) form of the schema, for the entries this encoder leaves to it. */
export type PointFallback = (entry: Entry, entrySeq: number) => EncodedPoint | UnencodableEntry;

/** Distinct keys remembered before every cache starts over (records with generated keys). */
const MAX_KEYS = 20_000;
const MAX_MEASUREMENTS = 10_000;
/** Labels sets remembered by content (decoded labels) before that cache starts over. */
const MAX_LABEL_SETS = 5_000;

const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/;

class KeyInfo {
  /** `escapeFieldKey(safeKey(raw))` after a space / a comma, with its `=`: the field separators. */
  readonly spaceEq: string;
  readonly commaEq: string;
  /** The same with the opening quote of a string value: one rope node less per string. */
  readonly spaceEqQuote: string;
  readonly commaEqQuote: string;
  /** `,escapeKey(safeKey(raw))=`: the key as a tag (a field key also escapes `"`). */
  readonly tagCommaEq: string;
  /** The name InfluxDB stores (`time` → `time_`), as the catalog records it. */
  readonly stored: string;
  /** A name `Object.prototype` has: plain-object maps treat such a key specially. */
  readonly inherited: boolean;
  /** An array index: plain objects list those first, which would reorder tags. */
  readonly index: boolean;
  /** The point this key is a field of, and at which slot. */
  fieldStamp = 0;
  slot = 0;
  /** The point whose tag_keys promoted this record key to a tag. */
  promotedStamp = 0;
  /** The point in which this field moves to `<key>_field`. */
  clashStamp = 0;
  renamed: KeyInfo | undefined = undefined;
  children: Map<string, KeyInfo> | undefined = undefined;

  constructor(readonly raw: string) {
    this.stored = safeKey(raw);
    const escaped = escapeFieldKey(this.stored);
    this.spaceEq = ` ${escaped}=`;
    this.commaEq = `,${escaped}=`;
    const tagEscaped = escapeKey(this.stored);
    this.tagCommaEq = tagEscaped === escaped ? this.commaEq : `,${tagEscaped}=`;
    this.spaceEqQuote = ` ${escaped}="`;
    this.commaEqQuote = `,${escaped}="`;
    this.inherited = raw in Object.prototype;
    this.index = ARRAY_INDEX.test(raw) && Number(raw) < 2 ** 32 - 1;
  }
}

/**
 * Labels sets by content: a trie over key, value, key, value… in property order, so a lookup
 * is two Map hits per label and needs no key string built per entry.
 */
interface ContentNode {
  next: Map<string, ContentNode> | undefined;
  plan: LabelsPlan | undefined;
}

interface LabelsPlan {
  /** The labels in property order (the order the map-based rule checks clashes in). */
  keys: KeyInfo[];
  values: string[];
  /** A key the map-based rule handles differently (see KeyInfo): use the fallback. */
  odd: boolean;
  /** `tag_keys` the labels do not set, in `tag_keys` order: promoted when scalar. */
  candidates: KeyInfo[];
  /**
   * The tag section in key order: `text[i]` is ready label tags (`,k=v…`), or '' where
   * `candidate[i]` (an index into `candidates`) goes.
   */
  text: string[];
  candidate: number[];
  /** Stored names of the label tags with a value (see PointShape). */
  tagNames: string[];
  /** The last tag section written with these labels: its measurement, promoted values, text. */
  headMeasurement: string | undefined;
  headValues: (string | number | boolean | bigint | undefined)[];
  headText: string;
}

/** Plain objects' for-in order is property order; compare by it, not as sets. */
function sameLabels(plan: LabelsPlan, labels: Labels): boolean {
  let i = 0;
  for (const k in labels) {
    if (i >= plan.keys.length || plan.keys[i]!.raw !== k || plan.values[i] !== labels[k])
      return false;
    i++;
  }
  return i === plan.keys.length;
}

export interface LineEncoderOptions {
  /** Distinct keys remembered before the caches start over (tests make it small). */
  maxKeys?: number;
}

export function createLineEncoder(
  plan: SchemaPlan,
  fallback: PointFallback,
  opts: LineEncoderOptions = {},
): LineEncoder {
  const maxKeys = opts.maxKeys ?? MAX_KEYS;
  let keys = new Map<string, KeyInfo>();
  const measurements = new Map<string, string>();
  let byObject = new WeakMap<Labels, LabelsPlan>();
  let byContent: ContentNode = { next: undefined, plan: undefined };
  let labelSets = 0;
  let lastContent: LabelsPlan | undefined;
  let lastLabels: Labels | undefined;
  let lastPlan: LabelsPlan | undefined;
  let noLabels: LabelsPlan | undefined;

  /** Set when `keys` outgrew maxKeys: the next point starts with empty caches. */
  let full = false;
  const key = (raw: string): KeyInfo => {
    let info = keys.get(raw);
    if (info === undefined) {
      info = new KeyInfo(raw);
      keys.set(raw, info);
      if (keys.size > maxKeys) full = true;
    }
    return info;
  };
  // The previous record's keys (top level, in order) and their KeyInfos: records of one source
  // repeat their keys in the same order, so a string comparison usually replaces a Map lookup.
  const lastRecordKeys: string[] = [];
  const lastRecordInfos: KeyInfo[] = [];
  let INSTANCE_ID = key('instance_id');
  /** Drops every KeyInfo at once: identity comparisons need one KeyInfo per name. */
  const resetKeys = () => {
    full = false;
    keys = new Map();
    byObject = new WeakMap();
    byContent = { next: undefined, plan: undefined };
    labelSets = 0;
    lastContent = undefined;
    lastLabels = undefined;
    lastPlan = undefined;
    noLabels = undefined;
    lastRecordKeys.length = 0;
    lastRecordInfos.length = 0;
    INSTANCE_ID = key('instance_id');
  };

  // `tags[k] !== undefined` in the map-based rule is true for inherited names, and array
  // indexes reorder its tag map: such tag_keys make every log record take the fallback.
  const tagKeysOdd = plan.tagKeys.some((k) => k in Object.prototype || ARRAY_INDEX.test(k));

  const child = (parent: KeyInfo, inner: string): KeyInfo => {
    parent.children ??= new Map();
    let info = parent.children.get(inner);
    if (info === undefined) {
      info = key(`${parent.raw}.${inner}`);
      parent.children.set(inner, info);
    }
    return info;
  };

  const renamed = (k: KeyInfo): KeyInfo => {
    k.renamed ??= key(`${k.raw}_field`);
    return k.renamed;
  };

  const escapedMeasurement = (m: string): string => {
    let e = measurements.get(m);
    if (e === undefined) {
      e = escapeMeasurement(m);
      if (measurements.size >= MAX_MEASUREMENTS) measurements.clear();
      measurements.set(m, e);
    }
    return e;
  };

  const buildLabelsPlan = (labels: Labels | undefined): LabelsPlan => {
    const lp: LabelsPlan = {
      keys: [],
      values: [],
      odd: false,
      candidates: [],
      text: [],
      candidate: [],
      tagNames: [],
      headMeasurement: undefined,
      headValues: [],
      headText: '',
    };
    for (const k in labels) {
      const info = key(k);
      lp.keys.push(info);
      lp.values.push(labels[k]!);
      if (info.inherited || info.index) lp.odd = true;
    }
    for (const k of plan.tagKeys) {
      const info = key(k);
      if (!lp.keys.includes(info) && !lp.candidates.includes(info)) lp.candidates.push(info);
    }
    // Sorted by raw key, as encodeLine sorts; a label tag with an empty key or value is dropped.
    const order: { raw: string; text: string; candidate: number }[] = [];
    for (let i = 0; i < lp.keys.length; i++) {
      const info = lp.keys[i]!;
      const v = lp.values[i]!;
      const text = info.raw === '' || v === '' ? '' : `${info.tagCommaEq}${escapeTagValue(v)}`;
      order.push({ raw: info.raw, text, candidate: -1 });
      if (v !== '') lp.tagNames.push(info.stored);
    }
    lp.candidates.forEach((info, i) => {
      if (info.raw !== '') order.push({ raw: info.raw, text: '', candidate: i });
    });
    order.sort((a, b) => (a.raw < b.raw ? -1 : a.raw > b.raw ? 1 : 0));
    for (const o of order) {
      const last = lp.text.length - 1;
      if (o.candidate < 0 && last >= 0 && lp.candidate[last]! < 0) lp.text[last] += o.text;
      else {
        lp.text.push(o.text);
        lp.candidate.push(o.candidate);
      }
    }
    return lp;
  };

  const step = (node: ContentNode, s: string): ContentNode => {
    node.next ??= new Map();
    let next = node.next.get(s);
    if (next === undefined) {
      next = { next: undefined, plan: undefined };
      node.next.set(s, next);
    }
    return next;
  };
  const byValue = (labels: Labels): LabelsPlan => {
    if (labelSets >= MAX_LABEL_SETS) {
      byContent = { next: undefined, plan: undefined };
      labelSets = 0;
    }
    let node = byContent;
    for (const k in labels) node = step(step(node, k), labels[k]!);
    if (node.plan === undefined) {
      node.plan = buildLabelsPlan(labels);
      labelSets++;
    }
    return node.plan;
  };

  const labelsPlan = (labels: Labels | undefined): LabelsPlan => {
    if (labels === undefined) {
      noLabels ??= buildLabelsPlan(undefined);
      return noLabels;
    }
    if (labels === lastLabels && lastPlan !== undefined) return lastPlan;
    // The labeller's labels are frozen and shared by every entry of an instance span: known by
    // identity. Labels decoded from the spool are fresh (mutable) objects per entry, mostly
    // equal to a recent one: compared by content, never trusted by identity.
    const frozen = Object.isFrozen(labels);
    let lp = frozen ? byObject.get(labels) : undefined;
    if (lp === undefined) {
      lp =
        lastContent !== undefined && sameLabels(lastContent, labels)
          ? lastContent
          : byValue(labels);
      lastContent = lp;
      if (frozen) byObject.set(labels, lp);
    }
    if (frozen) {
      lastLabels = labels;
      lastPlan = lp;
    }
    return lp;
  };

  // Per-point scratch, reused: the fields in record order, the promoted tag values, the clashes.
  const fieldKeys: KeyInfo[] = [];
  const fieldValues: FieldScalar[] = [];
  let fieldCount = 0;
  let point = 0;
  /** The record's value of each tag_keys candidate when it is promoted (a scalar). */
  const promoted: (string | number | boolean | bigint | undefined)[] = [];
  const clashes: KeyInfo[] = [];
  let line = '';
  const shape: PointShape = {
    measurement: '',
    tagNames: [],
    tagCount: 0,
    fieldNames: [],
    fieldCount: 0,
  };

  /** A field named like an array index came after a named one (see setField). */
  let reordered = false;
  /**
   * `fields[k] = v` of the map-based rule: a repeated key keeps its first position. A plain
   * object also lists array-index keys before all others; the record's own order already
   * does, unless a nested map's flattened fields came first (`{"0": {…}, "5": 1}`).
   */
  const setField = (info: KeyInfo, v: FieldScalar) => {
    if (info.fieldStamp === point) {
      fieldValues[info.slot] = v;
      return;
    }
    if (info.index && fieldCount > 0 && !fieldKeys[fieldCount - 1]!.index) reordered = true;
    info.fieldStamp = point;
    info.slot = fieldCount;
    fieldKeys[fieldCount] = info;
    fieldValues[fieldCount] = v;
    fieldCount++;
  };

  /** flattenInto without the map: nested maps become `a.b` fields. */
  const addField = (info: KeyInfo, v: RecordValue | undefined): void => {
    if (v === null || v === undefined) return;
    switch (typeof v) {
      case 'number':
        if (Number.isFinite(v)) setField(info, v);
        return;
      case 'string':
      case 'boolean':
      case 'bigint':
        setField(info, v);
        return;
    }
    if (v instanceof Uint8Array) setField(info, bytesFieldText(v));
    else if (Array.isArray(v)) setField(info, arrayFieldText(v));
    else for (const inner in v) addField(child(info, inner), v[inner]);
  };

  /** Appends one field to `line` (a non-finite number has no form and is skipped). */
  let written = 0;
  const writeField = (info: KeyInfo, v: FieldScalar) => {
    if (typeof v === 'string') {
      line += `${written === 0 ? info.spaceEqQuote : info.commaEqQuote}${escapeStringContent(v)}"`;
      shape.fieldNames[written++] = info.stored;
      return;
    }
    const encoded = encodeFieldValue(v);
    if (encoded === undefined) return;
    line += (written === 0 ? info.spaceEq : info.commaEq) + encoded;
    shape.fieldNames[written++] = info.stored;
  };

  /** The field a tag named `t` clashes with (`safeKey` is injective: only a field `t`). */
  const clashOf = (t: KeyInfo): KeyInfo | undefined => (t.fieldStamp === point ? t : undefined);

  /**
   * renameClashes' "plain" case: every `k_field` name is free and no clash repeats. Otherwise
   * the outcome depends on the order of moves, which only the map-based rule reproduces.
   */
  const plainClashes = (lp: LabelsPlan, n: number): boolean => {
    for (let i = 0; i < n; i++) {
      const k = clashes[i]!;
      const r = renamed(k);
      if (r.fieldStamp === point || lp.keys.includes(r)) return false;
      const c = lp.candidates.indexOf(r);
      if (c >= 0 && promoted[c] !== undefined) return false;
      for (let j = 0; j < n; j++) if ((j < i && clashes[j] === k) || clashes[j] === r) return false;
    }
    return true;
  };

  /**
   * The measurement and tag section, as last written with these labels: consecutive records
   * of one instance mostly share it (same measurement, same level/status/method).
   */
  const tagHead = (measurement: string, lp: LabelsPlan): string => {
    const n = lp.candidates.length;
    if (measurement === lp.headMeasurement) {
      let same = true;
      for (let i = 0; i < n && same; i++) same = promoted[i] === lp.headValues[i];
      if (same) return lp.headText;
    }
    let text = escapedMeasurement(measurement);
    for (let i = 0; i < lp.text.length; i++) {
      const c = lp.candidate[i]!;
      if (c < 0) {
        text += lp.text[i]!;
        continue;
      }
      const v = promoted[c];
      if (v === undefined || v === '') continue;
      text += lp.candidates[c]!.tagCommaEq + escapeTagValue(String(v));
    }
    lp.headMeasurement = measurement;
    for (let i = 0; i < n; i++) lp.headValues[i] = promoted[i];
    lp.headText = text;
    return text;
  };

  const fromFallback = (entry: Entry, entrySeq: number): string | UnencodableEntry => {
    const p = fallback(entry, entrySeq);
    if (!('line' in p)) return p;
    shape.measurement = p.measurement;
    let n = 0;
    for (const t in p.tags) if (p.tags[t] !== '') shape.tagNames[n++] = safeKey(t);
    shape.tagCount = n;
    n = 0;
    for (const f in p.fields) shape.fieldNames[n++] = safeKey(f);
    shape.fieldCount = n;
    return p.line;
  };

  const encode = (entry: Entry, entrySeq: number): string | UnencodableEntry => {
    if (entry.tags !== undefined || tagKeysOdd) return fromFallback(entry, entrySeq);
    const measurement = plan.route(entry.tag);
    if (measurement === '') return { entry, reason: 'entry has an empty tag: no measurement' };
    if (full) resetKeys();
    const lp = labelsPlan(entry.labels);
    if (lp.odd) return fromFallback(entry, entrySeq);
    point++;
    const record = entry.record;

    // Tags: labels, then tag_keys whose record value is a scalar, a string not too long (those
    // leave the fields; `promotable` tests a string's length first, O(1)).
    const candidates = lp.candidates;
    let tagCount = 0;
    for (let i = 0; i < lp.tagNames.length; i++) shape.tagNames[tagCount++] = lp.tagNames[i]!;
    for (let i = 0; i < candidates.length; i++) {
      const info = candidates[i]!;
      const v = record[info.raw];
      if (promotable(v)) {
        promoted[i] = v;
        info.promotedStamp = point;
        if (v !== '') shape.tagNames[tagCount++] = info.stored;
      } else {
        promoted[i] = undefined;
      }
    }

    // Fields: the record in its order, flattened; an empty key has no line-protocol form.
    fieldCount = 0;
    reordered = false;
    let j = 0;
    for (const k in record) {
      if (k === '') continue;
      const v = record[k];
      if (v === undefined) continue;
      let info: KeyInfo;
      if (lastRecordKeys[j] === k) info = lastRecordInfos[j]!;
      else {
        info = key(k);
        lastRecordKeys[j] = k;
        lastRecordInfos[j] = info;
      }
      j++;
      if (info.promotedStamp === point) continue;
      if (info.inherited) return fromFallback(entry, entrySeq);
      addField(info, v);
    }
    if (entry.instanceId) setField(INSTANCE_ID, entry.instanceId);
    if (reordered) return fromFallback(entry, entrySeq);

    // Clashes, in tag order (labels, then promoted), move to `<name>_field` after the others.
    let clashCount = 0;
    for (let i = 0; i < lp.keys.length; i++) {
      const k = clashOf(lp.keys[i]!);
      if (k !== undefined) clashes[clashCount++] = k;
    }
    for (let i = 0; i < candidates.length; i++) {
      if (promoted[i] === undefined) continue;
      const k = clashOf(candidates[i]!);
      if (k !== undefined) clashes[clashCount++] = k;
    }
    if (clashCount > 0) {
      if (!plainClashes(lp, clashCount)) return fromFallback(entry, entrySeq);
      for (let i = 0; i < clashCount; i++) clashes[i]!.clashStamp = point;
    }

    line = tagHead(measurement, lp);
    written = 0;
    for (let i = 0; i < fieldCount; i++) {
      const info = fieldKeys[i]!;
      if (info.clashStamp !== point) writeField(info, fieldValues[i]!);
    }
    for (let i = 0; i < clashCount; i++) {
      const k = clashes[i]!;
      writeField(renamed(k), fieldValues[k.slot]!);
    }
    if (fieldCount === 0) {
      line += ' _count=1i';
      shape.fieldNames[written++] = '_count';
    } else if (written === 0) {
      return { entry, reason: 'entry has no encodable field' };
    }
    line += ` ${pointTimeText(entry, entrySeq)}`;
    shape.measurement = measurement;
    shape.tagCount = tagCount;
    shape.fieldCount = written;
    // `+=` builds a rope of ~2 nodes per part; a caller that keeps lines (`toLines`) would
    // have every scavenge copy each node. Reading a character flattens the rope (V8), so the
    // nodes die young and one flat string stays; cheaper than `parts.join('')`. (The writer
    // copies each line into its body at once, which would flatten it anyway.)
    line.charCodeAt(0);
    const out = line;
    line = '';
    return out;
  };

  return { encode, shape };
}
