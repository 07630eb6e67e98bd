/**
 * How the InfluxDB writer classifies a write response — the one place that answers "retry or
 * not?" for InfluxDB:
 *
 * - `written`: 2xx. (1.x answers 204; 3.x may answer 201 for a partial success it accepted.)
 * - `rejected`: the server refused lines of this body for good (400 in InfluxDB's words for bad
 *   data: parse error, field type conflict, cardinality limit; 2.x answers a field type conflict
 *   or other partial write with 422 "unprocessable entity"; 413: body too large). The valid lines
 *   of such a body *are* stored, but the server does not say which ones failed, so the writer
 *   bisects.
 * - `misconfigured`: 401/403 (credentials), 404 (database/bucket not found), a 400 that is not
 *   InfluxDB's data error, and other 4xx that are about the request, not the data. The data is fine: retry with backoff and say loudly
 *   what to fix.
 * - `unavailable`: network errors, timeouts, 429 and 5xx. Retry with backoff, honouring
 *   `Retry-After`.
 */
import { RetryableError } from '../../core/errors.ts';

export type WriteOutcome =
  | { kind: 'written'; status: number }
  | { kind: 'rejected'; status: number; message: string }
  | { kind: 'misconfigured'; status: number; message: string }
  | {
      kind: 'unavailable';
      status: number | 'network' | 'timeout';
      message: string;
      retryAfterMs?: number;
    };

/**
 * InfluxDB's wording for refused data: 1.x `partial write: …` / `unable to parse …`, 2.x
 * `{"code":"invalid", …}` (rendered `invalid: …`), 3.x `partial write of line protocol …`.
 */
const DATA_ERROR =
  /partial write|unable to parse|^invalid: |field type conflict|max-(series|values)-per|invalid (field|tag|number|boolean|timestamp)|bad timestamp|missing (fields|tag|measurement)|beyond retention/i;

/** The server's error text from a v1 (`{"error"}`), v2 (`{"code","message"}`) or plain body. */
export function serverMessage(body: string, headerError?: string): string {
  const text = body.trim();
  if (text.startsWith('{')) {
    try {
      const json = JSON.parse(text) as { error?: unknown; message?: unknown; code?: unknown };
      if (typeof json.error === 'string') return json.error;
      if (typeof json.message === 'string')
        return typeof json.code === 'string' ? `${json.code}: ${json.message}` : json.message;
    } catch {
      // not JSON after all; fall through to the raw text
    }
  }
  if (text !== '') return text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
  return headerError ?? '';
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

export function classifyResponse(
  status: number,
  body: string,
  headers: { retryAfter?: string; influxError?: string },
  nowMs: number,
): WriteOutcome {
  if (status >= 200 && status < 300) return { kind: 'written', status };
  const message = serverMessage(body, headers.influxError) || `HTTP ${status}`;
  if (status === 413) return { kind: 'rejected', status, message };
  // Only a 400 that reads like InfluxDB judging the *data* may dead-letter lines. A 400 from
  // something else (a proxy, a wrong URL) would otherwise bisect every body down to single lines
  // and dead-letter all of them; treat it as a configuration problem and keep the data.
  // InfluxDB 2.x says 422 where 1.x says 400 for a partial write (field type conflict): retrying
  // such a body as "misconfigured" would repeat it forever and hold up every later delivery.
  if (status === 400 || status === 422)
    return DATA_ERROR.test(message)
      ? { kind: 'rejected', status, message }
      : { kind: 'misconfigured', status, message };
  if (status === 429 || status >= 500) {
    const retryAfterMs = parseRetryAfter(headers.retryAfter, nowMs);
    return {
      kind: 'unavailable',
      status,
      message,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    };
  }
  return { kind: 'misconfigured', status, message };
}

/** What `deliver` rejects with: the spool keeps the batches and offers them again later. */
export class InfluxWriterStoppedError extends RetryableError {
  constructor() {
    super(
      'influxdb_writer_stopped',
      'InfluxDB writer is not running; the batches stay in the spool',
    );
  }
}
