/**
 * The JSON side door of in_forward: a connection whose first byte is `{` or `[` carries a
 * stream of JSON values instead of msgpack (fluentd supports this; it is used by scripts and
 * some Docker logging setups). Only available without the shared-key handshake, which is
 * always msgpack. Times are numbers; Packed modes do not exist in JSON.
 *
 * `createJsonScanner` finds where one top-level value ends (resumable across reads, like the
 * msgpack frame scanner); `decodeJsonFrame` turns it into the same `ForwardRequest` union.
 * The `chunk` of a JSON request is kept JSON-encoded, so the ack is `{"ack":<same>}`.
 */
import type { Entry, RecordMap, RecordValue } from '../../core/entry.ts';
import { MAX_NESTING } from '../../spool/msgpack-writer.ts';
import type { EventsRequest, ForwardRequest } from './decode.ts';
import { ForwardDecodeError, type InvalidEventCode } from './errors.ts';
import { timeFromMs, timeFromNumber } from './event-time.ts';
import type { FrameScanner } from './frame-scanner.ts';

export function createJsonScanner(maxFrameBytes: number): FrameScanner {
  let start = 0;
  let pos = 0;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let begun = false;
  return {
    reset(offset) {
      start = offset;
      pos = offset;
      depth = 0;
      inString = false;
      escaped = false;
      begun = false;
    },
    frameStart: () => start,
    scan(buf, end) {
      for (; pos < end; pos++) {
        // Checked for every byte, whitespace ahead of a request too: it is buffered all the same.
        if (pos - start >= maxFrameBytes) {
          throw new ForwardDecodeError(
            'frame_too_large',
            `JSON request exceeds max_frame_bytes ${maxFrameBytes}`,
            false,
          );
        }
        const c = buf[pos]!;
        if (!begun) {
          if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
          if (c !== 0x5b && c !== 0x7b) {
            throw new ForwardDecodeError(
              'malformed_json',
              `JSON request must be an array, found byte 0x${c.toString(16)}`,
              false,
            );
          }
          begun = true;
        }
        if (inString) {
          if (escaped) escaped = false;
          else if (c === 0x5c) escaped = true;
          else if (c === 0x22) inString = false;
        } else if (c === 0x22) inString = true;
        else if (c === 0x5b || c === 0x7b) depth++;
        else if (c === 0x5d || c === 0x7d) {
          depth--;
          if (depth === 0) {
            pos++;
            return pos;
          }
        }
      }
      return -1;
    },
  };
}

const isRecord = (v: unknown): v is RecordMap =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function decodeJsonFrame(text: string, nowMs: number): ForwardRequest | ForwardDecodeError {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return new ForwardDecodeError('malformed_json', (err as Error).message, false);
  }
  const frameBytes = Buffer.byteLength(text);
  if (!Array.isArray(value)) {
    return new ForwardDecodeError('not_an_array', 'JSON request is not an array', true);
  }
  const [tag, second] = value as unknown[];
  if (typeof tag !== 'string' || tag.length === 0) {
    return new ForwardDecodeError('bad_tag', 'tag is not a non-empty string', false);
  }
  const out: EventsRequest = {
    kind: 'message',
    tag,
    entries: [],
    invalid: {},
    floatTimes: 0,
    frameBytes,
  };
  const bad = (code: InvalidEventCode) => {
    out.invalid[code] = (out.invalid[code] ?? 0) + 1;
  };
  const add = (time: unknown, record: unknown) => {
    const t =
      time === null || time === undefined
        ? timeFromMs(nowMs)
        : typeof time === 'number'
          ? timeFromNumber(time, nowMs)
          : Array.isArray(time) && typeof time[0] === 'number'
            ? timeFromNumber(time[0], nowMs)
            : ({ ok: false, reason: 'bad time' } as const);
    if (!t.ok) return bad('bad_time');
    if (!isRecord(record)) return bad('bad_record');
    const refused = refusal(record, 0);
    if (refused !== undefined) return bad(refused);
    if ('offSpec' in t && t.offSpec) out.floatTimes++;
    const entry: Entry = {
      tag,
      sec: t.sec,
      nsec: t.nsec,
      record: record as Record<string, RecordValue>,
    };
    out.entries.push(entry);
  };
  let option: unknown;
  if (Array.isArray(second) && (second.length === 0 || Array.isArray(second[0]))) {
    out.kind = 'forward';
    for (const e of second) {
      if (Array.isArray(e) && e.length >= 2) add(e[0], e[1]);
      else bad('bad_entry');
    }
    option = value[2];
  } else {
    add(second, value[2]);
    option = value[3];
  }
  if (isRecord(option) && option.chunk !== undefined && option.chunk !== null) {
    out.chunk = Buffer.from(JSON.stringify(option.chunk));
  }
  return out;
}

/**
 * Why the spool would refuse a parsed JSON record, if it would: an own `__proto__` key at any
 * depth (JSON.parse keeps it as a plain key), or arrays and maps nested deeper than the spool
 * stores (one level short of its limit, to be safe). Such a record is skipped as invalid:
 * refusing its request instead would make the sender retry the whole chunk forever.
 */
function refusal(v: unknown, depth: number): InvalidEventCode | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  if (depth >= MAX_NESTING) return 'too_deep';
  if (Array.isArray(v)) {
    for (const x of v) {
      const r = refusal(x, depth + 1);
      if (r !== undefined) return r;
    }
    return undefined;
  }
  if (Object.hasOwn(v, '__proto__')) return 'proto_key';
  for (const x of Object.values(v)) {
    const r = refusal(x, depth + 1);
    if (r !== undefined) return r;
  }
  return undefined;
}
