/**
 * The one internal representation every input produces and every later stage consumes.
 *
 * A Forward event, an HTTP fluentd record and an InfluxDB line-protocol point all become an
 * `Entry`: a tag (fluentd tag or measurement), a nanosecond-exact time, a record (fields), and
 * for line protocol the point's tags. The fleet stage adds `labels` and `instanceId`.
 * Time is kept as seconds + nanoseconds because a JS number cannot hold epoch nanoseconds
 * exactly, and both fluentd's EventTime and line protocol carry them.
 */

/** A value inside a record, as msgpack or JSON can deliver it. */
export type RecordValue =
  | string
  | number
  | boolean
  | null
  | bigint
  | Uint8Array
  | RecordValue[]
  | { [key: string]: RecordValue };

export type RecordMap = Record<string, RecordValue>;

/** Stable labels the fleet stage attaches: role, version, slot and configured extras. */
export type Labels = Record<string, string>;

export interface Entry {
  /** fluentd tag, or the line-protocol measurement. */
  tag: string;
  /** Whole seconds since the Unix epoch. */
  sec: number;
  /** Nanoseconds within the second, 0..999_999_999. */
  nsec: number;
  /** The log record, or the line-protocol fields. */
  record: RecordMap;
  /** Line-protocol tags; absent for log records. */
  tags?: Record<string, string>;
  /** Set by the fleet stage: role/version/slot (+ extras) after relabelling. */
  labels?: Labels;
  /** Set by the fleet stage: the instance that produced the entry, when known. */
  instanceId?: string | null;
}

/** Where a batch came from; identity resolution uses the connection facts. */
export interface Origin {
  /** `internal`: produced by fleetline itself (lifecycle events, rollups). */
  input: 'forward' | 'http-fluentd' | 'influx-v1' | 'influx-v2' | 'internal';
  /** Remote address of the connection (IPv4-mapped IPv6 prefixes stripped). */
  peerAddress?: string;
  tls?: boolean;
  /** The hostname a Forward client proved in the shared-key handshake. */
  authHostname?: string;
  /** For line protocol: the database (v1 `db`) or bucket (v2) the client asked for. */
  database?: string;
}

/** A unit handed from one stage to the next. */
export interface Batch {
  entries: Entry[];
  origin: Origin;
  /** Wall-clock ms when the input finished reading the batch. */
  receivedAt: number;
}

/** Epoch nanoseconds of an entry as a bigint (exact). */
export function entryTimeNs(e: Pick<Entry, 'sec' | 'nsec'>): bigint {
  return BigInt(e.sec) * 1_000_000_000n + BigInt(e.nsec);
}

/** Epoch milliseconds of an entry (truncated). */
export function entryTimeMs(e: Pick<Entry, 'sec' | 'nsec'>): number {
  return e.sec * 1000 + Math.floor(e.nsec / 1_000_000);
}
