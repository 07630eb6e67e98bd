/**
 * A stand-in for the InfluxDB 2.x write API, which cannot run here. It speaks the documented
 * wire format of `POST /api/v2/write?org=&bucket=&precision=` (docs.influxdata.com/influxdb/v2/
 * api/#operation/PostWrite): `Authorization: Token <token>`, optional `Content-Encoding: gzip`,
 * 204 on success, 401 `{"code":"unauthorized","message":…}`, 404 `{"code":"not found",…}` for an
 * unknown bucket, 400 `{"code":"invalid",…}`, and 429/503 with `Retry-After`. It records every
 * request (decompressed body, headers, arrival time) so tests can check what a writer sent and
 * when. Responses other than 204 are scripted with `respondNext`.
 *
 * It also answers the two calls a writer needs to create its bucket: `GET /api/v2/orgs[?org=]`
 * → 200 `{"orgs":[{"id","name"}]}`, and `POST /api/v2/buckets` with `{"orgID","name",
 * "retentionRules"}` → 201 with the bucket, 422 `{"code":"conflict","message":"bucket with name
 * … already exists"}` for a taken name, 404 for an unknown orgID. Those go to `adminRequests`.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** Decompressed body. */
  body: string;
  /** `Date.now()` when the request arrived. */
  at: number;
  /** The status answered. */
  status: number;
}

export interface ScriptedResponse {
  status: 204 | 400 | 401 | 404 | 413 | 429 | 500 | 503;
  message?: string;
  /** `Retry-After` header value (seconds). */
  retryAfter?: string;
  /** Answer only after this long (to exercise client timeouts). */
  delayMs?: number;
}

export interface InfluxV2Endpoint {
  url: string;
  /** Write requests. */
  requests: RecordedRequest[];
  /** Organisation and bucket API requests. */
  adminRequests: RecordedRequest[];
  /** Buckets that exist (when the endpoint was started with `bucket`, else every name does). */
  buckets(): string[];
  /** Removes a bucket, as an operator deleting it would. */
  dropBucket(name: string): void;
  /** Lines accepted (204), in arrival order. */
  lines(): string[];
  /** The next write requests get these answers, in order, instead of 204. */
  respondNext(...responses: ScriptedResponse[]): void;
  close(): Promise<void>;
}

const CODES: Record<ScriptedResponse['status'], string> = {
  204: '',
  400: 'invalid',
  401: 'unauthorized',
  404: 'not found',
  413: 'request too large',
  429: 'too many requests',
  500: 'internal error',
  503: 'unavailable',
};

export async function startInfluxV2Endpoint(
  opts: { token?: string; org?: string; bucket?: string; bucketExists?: boolean } = {},
): Promise<InfluxV2Endpoint> {
  const token = opts.token ?? 'test-token';
  const org = { id: '0a1b2c3d4e5f6071', name: opts.org ?? 'fleetline' };
  // undefined: any bucket name is accepted (tests that do not care about buckets).
  const buckets: Set<string> | undefined = opts.bucket
    ? new Set(opts.bucketExists === false ? [] : [opts.bucket])
    : undefined;
  const requests: RecordedRequest[] = [];
  const adminRequests: RecordedRequest[] = [];
  const script: ScriptedResponse[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      let raw = Buffer.concat(chunks);
      const admin = url.pathname === '/api/v2/orgs' || url.pathname === '/api/v2/buckets';
      const send = (status: number, json?: object, headers: Record<string, string> = {}) => {
        (admin ? adminRequests : requests).push({
          method: req.method ?? '',
          path: url.pathname,
          query: url.searchParams,
          headers: req.headers,
          body: raw.toString('utf8'),
          at: Date.now(),
          status,
        });
        res.writeHead(status, {
          ...headers,
          ...(json ? { 'content-type': 'application/json; charset=utf-8' } : {}),
        });
        res.end(json ? JSON.stringify(json) : undefined);
      };
      if (req.headers['content-encoding'] === 'gzip') {
        try {
          raw = gunzipSync(raw);
        } catch {
          return send(400, { code: 'invalid', message: 'gzip: invalid header' });
        }
      }
      if (admin) {
        if (req.headers.authorization !== `Token ${token}`)
          return send(401, { code: 'unauthorized', message: 'unauthorized access' });
        if (req.method === 'GET' && url.pathname === '/api/v2/orgs') {
          const name = url.searchParams.get('org');
          if (name !== null && name !== org.name)
            return send(404, {
              code: 'not found',
              message: `organization name "${name}" not found`,
            });
          return send(200, { orgs: [org] });
        }
        if (req.method === 'POST' && url.pathname === '/api/v2/buckets') {
          let body: { orgID?: string; name?: string; retentionRules?: unknown };
          try {
            body = JSON.parse(raw.toString('utf8'));
          } catch {
            return send(400, { code: 'invalid', message: 'malformed JSON' });
          }
          if (typeof body.name !== 'string' || !Array.isArray(body.retentionRules))
            return send(400, { code: 'invalid', message: 'name and retentionRules are required' });
          if (body.orgID !== org.id)
            return send(404, { code: 'not found', message: 'organization not found' });
          if (buckets?.has(body.name))
            return send(422, {
              code: 'conflict',
              message: `bucket with name ${body.name} already exists`,
            });
          buckets?.add(body.name);
          return send(201, { id: '9f8e7d6c5b4a3921', orgID: org.id, name: body.name });
        }
        return send(404, { code: 'not found', message: 'path not found' });
      }
      if (req.method !== 'POST' || url.pathname !== '/api/v2/write')
        return send(404, { code: 'not found', message: 'path not found' });
      if (req.headers.authorization !== `Token ${token}`)
        return send(401, { code: 'unauthorized', message: 'unauthorized access' });
      const bucket = url.searchParams.get('bucket');
      if (!bucket) return send(400, { code: 'invalid', message: 'bucket is required' });
      if (buckets && !buckets.has(bucket))
        return send(404, { code: 'not found', message: `bucket "${bucket}" not found` });
      if (opts.org && url.searchParams.get('org') !== opts.org)
        return send(404, {
          code: 'not found',
          message: `organization name "${url.searchParams.get('org')}" not found`,
        });
      const precision = url.searchParams.get('precision') ?? 'ns';
      if (!['ns', 'us', 'ms', 's'].includes(precision))
        return send(400, { code: 'invalid', message: `invalid precision "${precision}"` });
      const next = script.shift();
      const answer = () => {
        if (!next || next.status === 204) return send(204);
        send(
          next.status,
          { code: CODES[next.status], message: next.message ?? CODES[next.status] },
          next.retryAfter !== undefined ? { 'retry-after': next.retryAfter } : {},
        );
      };
      if (next?.delayMs) setTimeout(answer, next.delayMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    adminRequests,
    buckets: () => [...(buckets ?? [])],
    dropBucket: (name) => {
      buckets?.delete(name);
    },
    lines: () =>
      requests
        .filter((r) => r.status === 204)
        .flatMap((r) => r.body.split('\n').filter((l) => l !== '')),
    respondNext: (...responses) => {
      script.push(...responses);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
