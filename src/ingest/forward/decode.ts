/**
 * Pure decoding of Forward protocol requests: bytes in, requests out. No sockets, no clock
 * (the caller passes "now" for events whose time is 0/nil), no logging.
 *
 * One request is one top-level msgpack value. Its mode is told by the second element
 * (SPEC "carrier mode"): an array of entries → Forward; str/bin → PackedForward, or
 * CompressedPackedForward when the payload is gzip; anything else → Message. A Message whose
 * time is a `[t, {meta}]` array also starts with an array, so Forward is chosen only when
 * the first item of that array is itself an array (an entry).
 *
 * Invalid events (bad time, non-map record) are skipped and counted per reason; the request
 * is still acknowledged, because resending it would never make it valid (fluentd does the
 * same). Problems with the request as a whole come back as a `ForwardDecodeError`.
 *
 * Records whose msgpack bytes the spool can store verbatim (see msgpack-reader.ts, "raw-safe")
 * get those bytes registered with `rememberRawRecords`, one table per request of Forward or
 * (Compressed)PackedForward mode with at least `MIN_RAW_RECORDS` of them. The bytes
 * usually lie in the connection's receive buffer, which is reused for the next requests, so
 * each request's records are copied out once, as one block.
 */

import type { Entry, RecordMap } from '../../core/entry.ts';
import { DEFAULT_MAX_ENTRIES_PER_REQUEST } from '../../core/limits.ts';
import { rememberRawRecords } from '../../core/raw-record.ts';
import { ForwardDecodeError, type InvalidEventCode } from './errors.ts';
import { readEventTime } from './event-time.ts';
import { createFrameScanner } from './frame-scanner.ts';
import { detectCompression, gunzipMembers } from './gzip-members.ts';
import { type KeyCache, Kind, MsgpackFormatError, MsgpackReader } from './msgpack-reader.ts';

export type ForwardMode = 'message' | 'forward' | 'packed' | 'compressed';

/** A request carrying events, in any of the four carrier modes. */
export interface EventsRequest {
  kind: ForwardMode;
  tag: string;
  /** Valid events, in order. The array and its records belong to the caller. */
  entries: Entry[];
  /** Skipped events by reason. */
  invalid: Partial<Record<InvalidEventCode, number>>;
  /** Events accepted with an off-spec float time. */
  floatTimes: number;
  /**
   * The msgpack encoding of `option.chunk` exactly as received (str or bin, any width), so the
   * ack echoes the same bytes and type. Undefined when no ack was asked for.
   */
  chunk?: Uint8Array;
  /** Size of the request on the wire. */
  frameBytes: number;
}

/** A `nil` request: a keep-alive that needs no answer. */
export interface HeartbeatRequest {
  kind: 'heartbeat';
  frameBytes: number;
}

export type ForwardRequest = EventsRequest | HeartbeatRequest;

export interface DecodeOptions {
  maxFrameBytes: number;
  maxDecompressedBytes: number;
  /**
   * Most events one request may carry (default DEFAULT_MAX_ENTRIES_PER_REQUEST). A decoded
   * event takes ~45× its bytes of heap, so the byte limits alone let a 65 KB gzip bomb of 3-byte
   * events become 22 M events, ~3 GB and half a minute of blocked event loop.
   */
  maxEntries?: number;
  /** Wall-clock ms used for events whose time is 0 or nil. */
  nowMs: number;
  /** Share one across calls to avoid re-decoding the same record keys. */
  keys?: KeyCache;
}

export interface Decoded {
  messages: ForwardRequest[];
  /** Bytes of `bytes` used by `messages`; the rest is an incomplete request. */
  consumed: number;
}

/**
 * Decodes every complete request at the start of `bytes`. On a bad request, returns the
 * requests before it if there are any (the next call then returns the error), otherwise the
 * error; `error.consumed` tells how far to skip when `canContinue` is true.
 */
export function decode(
  bytes: Uint8Array,
  options: DecodeOptions,
): Decoded | (ForwardDecodeError & { consumed: number }) {
  const scanner = createFrameScanner(options.maxFrameBytes);
  const messages: ForwardRequest[] = [];
  let consumed = 0;
  while (consumed < bytes.length) {
    scanner.reset(consumed);
    let end: number;
    try {
      end = scanner.scan(bytes, bytes.length);
    } catch (err) {
      if (messages.length > 0) break;
      return Object.assign(err as ForwardDecodeError, { consumed });
    }
    if (end < 0) break;
    const request = decodeFrame(bytes, consumed, end, options);
    if (request instanceof ForwardDecodeError) {
      if (messages.length > 0) break;
      return Object.assign(request, { consumed: end });
    }
    messages.push(request);
    consumed = end;
  }
  return { messages, consumed };
}

function tooManyEntries(max: number): ForwardDecodeError {
  return new ForwardDecodeError(
    'too_many_entries',
    `request carries more than max_entries_per_request ${max} events`,
    false,
  );
}

/** Decodes exactly one complete request occupying `bytes[start..end)`. */
export function decodeFrame(
  bytes: Uint8Array,
  start: number,
  end: number,
  options: DecodeOptions,
): ForwardRequest | ForwardDecodeError {
  const frameBytes = end - start;
  if (frameBytes > options.maxFrameBytes) {
    return new ForwardDecodeError(
      'frame_too_large',
      `frame of ${frameBytes} bytes exceeds max_frame_bytes ${options.maxFrameBytes}`,
      false,
    );
  }
  const r = new MsgpackReader(bytes, start, end, options.keys);
  try {
    if (r.peekKind() === Kind.Nil) return { kind: 'heartbeat', frameBytes };
    const n = r.tryArrayHeader();
    if (n < 0) {
      return new ForwardDecodeError('not_an_array', 'request is not a msgpack array', true);
    }
    if (n < 2) {
      return new ForwardDecodeError('bad_shape', `request array has ${n} elements`, false);
    }
    const tag = r.tryString();
    if (tag === undefined || tag.length === 0) {
      return new ForwardDecodeError('bad_tag', 'tag is not a non-empty string', false);
    }
    const second = r.peekKind();
    if (second === Kind.Array && secondIsEntryList(r)) {
      return decodeForward(r, tag, n, frameBytes, options);
    }
    if (second === Kind.Str || second === Kind.Bin) {
      return decodePacked(r, tag, n, frameBytes, options);
    }
    return decodeMessage(r, tag, n, frameBytes, options);
  } catch (err) {
    if (err instanceof MsgpackFormatError) {
      return new ForwardDecodeError('malformed_msgpack', err.message, false);
    }
    throw err;
  }
}

/** Forward mode, unless the array is a `[time, {meta}]` Message time (see file comment). */
function secondIsEntryList(r: MsgpackReader): boolean {
  const save = r.pos;
  const n = r.tryArrayHeader();
  const isList = n === 0 || r.peekKind() === Kind.Array;
  r.pos = save;
  return isList;
}

interface Acc {
  entries: Entry[];
  invalid: Partial<Record<InvalidEventCode, number>>;
  floatTimes: number;
  /** Raw-safe records as flat triples: index in `entries`, start and end of the map's bytes. */
  raw: number[];
}

function newAcc(): Acc {
  return { entries: [], invalid: {}, floatTimes: 0, raw: [] };
}

function countInvalid(acc: Acc, code: InvalidEventCode): void {
  acc.invalid[code] = (acc.invalid[code] ?? 0) + 1;
}

/**
 * Requests with fewer raw-safe records keep none: the table and the copy cost about as much
 * per request as re-encoding two or three records (a Message-mode request, one event, was
 * ~10 % slower to decode and spool with it).
 */
export const MIN_RAW_RECORDS = 4;

/** Adds a valid entry, noting its record's byte range if the reader found it raw-safe. */
function pushEntry(acc: Acc, r: MsgpackReader, entry: Entry): void {
  if (r.lastRecordRawSafe) acc.raw.push(acc.entries.length, r.lastRecordStart, r.lastRecordEnd);
  acc.entries.push(entry);
}

/**
 * Registers the raw bytes of the raw-safe records, which lie in `buf` in increasing order.
 * Unless `buf` is ours for good (a fresh gunzip output), the span holding them is copied once.
 */
function keepRawRecords(acc: Acc, buf: Uint8Array, owned: boolean): void {
  const raw = acc.raw;
  if (raw.length < 3 * MIN_RAW_RECORDS) return;
  const n = acc.entries.length;
  const base = owned ? 0 : raw[1]!;
  const block = owned ? buf : copyOf(buf, base, raw[raw.length - 1]!);
  const records = new Array<RecordMap | undefined>(n);
  const starts = new Uint32Array(n);
  const ends = new Uint32Array(n);
  for (let k = 0; k < raw.length; k += 3) {
    const i = raw[k]!;
    records[i] = acc.entries[i]!.record;
    starts[i] = raw[k + 1]! - base;
    ends[i] = raw[k + 2]! - base;
  }
  rememberRawRecords(acc.entries, { block, records, starts, ends });
}

/** A copy of `buf[start..end)`, as a plain Uint8Array (Buffer#slice would be a view). */
function copyOf(buf: Uint8Array, start: number, end: number): Uint8Array {
  // Not zero-filled first: every byte is overwritten at once.
  const out = Buffer.allocUnsafeSlow(end - start);
  out.set(buf.subarray(start, end));
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Reads one `[time, record]` entry into `acc`; always consumes exactly one value. */
function readEntry(r: MsgpackReader, tag: string, acc: Acc, nowMs: number): void {
  const n = r.tryArrayHeader();
  if (n < 2) {
    if (n < 0) r.skip();
    else for (let i = 0; i < n; i++) r.skip();
    countInvalid(acc, 'bad_entry');
    return;
  }
  const time = readEventTime(r, nowMs);
  const record = r.tryRecord();
  if (record === undefined) r.skip();
  for (let i = 2; i < n; i++) r.skip();
  if (!time.ok) {
    countInvalid(acc, 'bad_time');
    return;
  }
  if (record === undefined) {
    countInvalid(acc, 'bad_record');
    return;
  }
  if (r.lastRecordHasProtoKey) {
    countInvalid(acc, 'proto_key');
    return;
  }
  if (time.offSpec) acc.floatTimes++;
  pushEntry(acc, r, { tag, sec: time.sec, nsec: time.nsec, record });
}

interface Options {
  chunk?: Uint8Array;
  compressed?: string;
}

/** Reads the option map (absent, nil, `{}`, or a map32 with unknown keys are all fine). */
function readOptions(r: MsgpackReader): Options {
  const out: Options = {};
  const n = r.tryMapHeader();
  if (n < 0) {
    r.skip();
    return out;
  }
  for (let i = 0; i < n; i++) {
    const key = r.tryString();
    if (key === 'chunk') {
      const from = r.pos;
      r.skip();
      out.chunk = r.buf.slice(from, r.pos);
    } else if (key === 'compressed' && r.peekKind() === Kind.Str) {
      out.compressed = r.tryString();
    } else {
      if (key === undefined) r.skip();
      r.skip();
    }
  }
  return out;
}

function finish(
  kind: ForwardMode,
  tag: string,
  acc: Acc,
  opts: Options,
  frameBytes: number,
): EventsRequest {
  const out: EventsRequest = {
    kind,
    tag,
    entries: acc.entries,
    invalid: acc.invalid,
    floatTimes: acc.floatTimes,
    frameBytes,
  };
  if (opts.chunk) out.chunk = opts.chunk;
  return out;
}

function decodeMessage(
  r: MsgpackReader,
  tag: string,
  n: number,
  frameBytes: number,
  o: DecodeOptions,
): EventsRequest {
  const acc = newAcc();
  const time = readEventTime(r, o.nowMs);
  let record: ReturnType<MsgpackReader['tryRecord']>;
  if (n >= 3) {
    record = r.tryRecord();
    if (record === undefined) r.skip();
  }
  const opts = n >= 4 ? readOptions(r) : {};
  for (let i = 4; i < n; i++) r.skip();
  if (!time.ok) countInvalid(acc, 'bad_time');
  else if (record === undefined) countInvalid(acc, 'bad_record');
  else if (r.lastRecordHasProtoKey) countInvalid(acc, 'proto_key');
  else {
    if (time.offSpec) acc.floatTimes++;
    // No raw bytes for a single event: see MIN_RAW_RECORDS.
    acc.entries.push({ tag, sec: time.sec, nsec: time.nsec, record });
  }
  return finish('message', tag, acc, opts, frameBytes);
}

function decodeForward(
  r: MsgpackReader,
  tag: string,
  n: number,
  frameBytes: number,
  o: DecodeOptions,
): EventsRequest | ForwardDecodeError {
  const acc = newAcc();
  const count = r.tryArrayHeader();
  const max = o.maxEntries ?? DEFAULT_MAX_ENTRIES_PER_REQUEST;
  if (count > max) return tooManyEntries(max);
  for (let i = 0; i < count; i++) readEntry(r, tag, acc, o.nowMs);
  const opts = n >= 3 ? readOptions(r) : {};
  for (let i = 3; i < n; i++) r.skip();
  keepRawRecords(acc, r.buf, false);
  return finish('forward', tag, acc, opts, frameBytes);
}

function decodePacked(
  r: MsgpackReader,
  tag: string,
  n: number,
  frameBytes: number,
  o: DecodeOptions,
): EventsRequest | ForwardDecodeError {
  // The entries stay raw bytes: fluentd sends binary inside str32, which text decoding corrupts.
  const rawStart = r.tryRawBytes();
  const rawEnd = r.lastEnd;
  const opts = n >= 3 ? readOptions(r) : {};
  for (let i = 3; i < n; i++) r.skip();
  let payload = r.buf.subarray(rawStart, rawEnd);
  const compression = detectCompression(opts.compressed, payload);
  if (compression === 'zstd') {
    return new ForwardDecodeError(
      'unsupported_compression',
      'zstd-compressed Forward payloads are not supported; configure the sender with compress gzip or text',
      false,
    );
  }
  if (compression === 'gzip') {
    const out = gunzipMembers(payload, o.maxDecompressedBytes);
    if (out instanceof ForwardDecodeError) return out;
    payload = out;
  }
  const acc = newAcc();
  const inner = new MsgpackReader(payload, 0, payload.length, o.keys);
  const max = o.maxEntries ?? DEFAULT_MAX_ENTRIES_PER_REQUEST;
  let seen = 0;
  try {
    while (!inner.atEnd()) {
      if (++seen > max) return tooManyEntries(max);
      readEntry(inner, tag, acc, o.nowMs);
    }
  } catch (err) {
    if (!(err instanceof MsgpackFormatError)) throw err;
    return new ForwardDecodeError(
      'bad_entries',
      `packed entries are corrupt after ${acc.entries.length} events: ${err.message}`,
      false,
    );
  }
  keepRawRecords(acc, payload, compression === 'gzip');
  return finish(compression === 'gzip' ? 'compressed' : 'packed', tag, acc, opts, frameBytes);
}
