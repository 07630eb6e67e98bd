/**
 * One HTTP POST to InfluxDB over a keep-alive agent, with a per-request timeout and an abort
 * signal (the writer's stop). Plain `node:http(s)` rather than the v2 client's WriteApi: the
 * writer must await every batch's acknowledgement and bound its concurrency itself (the client
 * resolves `flush()` before batches are acknowledged and has no back-pressure; see
 * /work/shared/reference/influxdb.md §5.4).
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface PostResult {
  status: number;
  body: string;
  retryAfter?: string;
  influxError?: string;
}

export class RequestTimeoutError extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = 'RequestTimeoutError';
  }
}

export interface Poster {
  post(
    url: URL,
    headers: Record<string, string>,
    body: Buffer,
    signal: AbortSignal,
  ): Promise<PostResult>;
  destroy(): void;
}

/** Bodies beyond this are cut when reading an error response; the message is near the start. */
const MAX_RESPONSE_BYTES = 64 * 1024;

export function createPoster(opts: { maxSockets: number; timeoutMs: number }): Poster {
  const agents = {
    http: new HttpAgent({ keepAlive: true, maxSockets: opts.maxSockets }),
    https: new HttpsAgent({ keepAlive: true, maxSockets: opts.maxSockets }),
  };
  return {
    post(url, headers, body, signal) {
      return new Promise<PostResult>((resolve, reject) => {
        const https = url.protocol === 'https:';
        const req = (https ? httpsRequest : httpRequest)(url, {
          method: 'POST',
          agent: https ? agents.https : agents.http,
          headers: { ...headers, 'content-length': String(body.length) },
          signal,
          // influxd repeats a refusal's reason in X-Influxdb-Error, control characters of a
          // field or measurement name included. Node's strict parser fails such a response as
          // a network error, which the writer would retry forever instead of dead-lettering
          // the refused lines. Lenient parsing is for this request to the configured InfluxDB
          // only.
          insecureHTTPParser: true,
        });
        const timer = setTimeout(
          () => req.destroy(new RequestTimeoutError(opts.timeoutMs)),
          opts.timeoutMs,
        );
        req.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
        req.on('response', (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            if (size < MAX_RESPONSE_BYTES) chunks.push(c);
            size += c.length;
          });
          res.on('error', (err) => {
            clearTimeout(timer);
            reject(err);
          });
          res.on('end', () => {
            clearTimeout(timer);
            const h = res.headers;
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
              ...(typeof h['retry-after'] === 'string' ? { retryAfter: h['retry-after'] } : {}),
              ...(typeof h['x-influxdb-error'] === 'string'
                ? { influxError: h['x-influxdb-error'] }
                : {}),
            });
          });
        });
        req.end(body);
      });
    },
    destroy() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}
