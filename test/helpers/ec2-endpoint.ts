/**
 * A local endpoint speaking the EC2 Query API, for driving the real `@aws-sdk/client-ec2`
 * (point the client's `endpoint` at `ec2.url`). It implements what fleetline calls, the way
 * AWS documents it:
 *
 * - requests are `POST /` with a form body: `Action=DescribeInstances&Version=2016-11-15&
 *   Filter.1.Name=tag:Role&Filter.1.Value.1=web&MaxResults=…&NextToken=…`;
 * - `DescribeInstances` answers `DescribeInstancesResponse` XML (xmlns
 *   `http://ec2.amazonaws.com/doc/2016-11-15/`) with `reservationSet/item/instancesSet/item`
 *   and a `nextToken` while more pages remain; `DescribeImages` answers `imagesSet`;
 * - errors use the EC2 shape `<Response><Errors><Error><Code>…</Code><Message>…</Message>
 *   </Error></Errors><RequestID>…</RequestID></Response>`; throttling is
 *   `RequestLimitExceeded` with HTTP 503.
 *
 * Filters supported (values may use `*` and `?` wildcards): `instance-state-name`,
 * `instance-id`, `image-id`, `availability-zone`, `tag:<key>`, `tag-key`; any other filter
 * name is refused with `InvalidParameterValue`, as EC2 does. `MaxResults` must be 5..1000.
 * Signatures are recognised (SigV4 header parsed, key id recorded) but not verified.
 *
 * Usage:
 * ```ts
 * const ec2 = await startEc2Endpoint();
 * ec2.setInstances([{ instanceId: 'i-1', state: 'running', tags: { Role: 'web' } }]);
 * ec2.setPageSize(2);          // every listing is split into pages of 2
 * ec2.throttleNext(1);         // the next request gets RequestLimitExceeded (503)
 * ec2.setResponseDelay(2000);  // answers wait 2 s (aborts and timeouts)
 * await ec2.waitForArrivals(ec2.arrivals() + 1);  // a request is now in flight
 * … run the client …
 * ec2.requests                 // what arrived: action, params, filters, signing key id
 * await ec2.close();
 * ```
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const EC2_XMLNS = 'http://ec2.amazonaws.com/doc/2016-11-15/';

export type Ec2InstanceState =
  | 'pending'
  | 'running'
  | 'shutting-down'
  | 'terminated'
  | 'stopping'
  | 'stopped';

/** EC2's numeric state codes (low byte of `instanceState/code`). */
export const EC2_STATE_CODES: Record<Ec2InstanceState, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

export interface Ec2Instance {
  instanceId: string;
  state: Ec2InstanceState;
  imageId?: string;
  privateDnsName?: string;
  privateIpAddress?: string;
  /** ISO-8601, e.g. `2026-11-27T11:00:00.000Z`. */
  launchTime?: string;
  availabilityZone?: string;
  tags?: Record<string, string>;
  /** Instances with the same reservation id are listed together; default: one each. */
  reservationId?: string;
  /** e.g. `User initiated (2026-11-27 11:58:00 GMT)`. */
  stateTransitionReason?: string;
}

/** A running `web` instance (tags Role=web, Version=1) launched at `launchedAt` (epoch ms). */
export function runningWeb(
  id: string,
  launchedAt: number,
  extra: Partial<Ec2Instance> = {},
): Ec2Instance {
  return {
    instanceId: id,
    state: 'running',
    imageId: 'ami-0aaa',
    launchTime: new Date(launchedAt).toISOString(),
    tags: { Role: 'web', Version: '1' },
    ...extra,
  };
}

export interface Ec2Image {
  imageId: string;
  name?: string;
  tags?: Record<string, string>;
}

export interface Ec2Filter {
  name: string;
  values: string[];
}

export interface RecordedEc2Request {
  action: string;
  /** The decoded form body, e.g. `{ Action, Version, 'Filter.1.Name', … }`. */
  params: Record<string, string>;
  /** `Filter.N.Name` / `Filter.N.Value.M` regrouped. */
  filters: Ec2Filter[];
  /** True when an `Authorization: AWS4-HMAC-SHA256 Credential=…` header was present. */
  signed: boolean;
  /** The access key id from the SigV4 credential scope, when signed. */
  accessKeyId?: string;
  /** The region from the SigV4 credential scope, when signed. */
  signingRegion?: string;
  /** How the endpoint answered: HTTP status and, for errors, the EC2 error code. */
  status: number;
  errorCode?: string;
}

export interface Ec2ErrorScript {
  code: string;
  message?: string;
  /** Default: 503 for `RequestLimitExceeded`, 400 otherwise. */
  status?: number;
}

export interface Ec2Endpoint {
  /** `http://127.0.0.1:<port>`: the value for the client's `endpoint`. */
  readonly url: string;
  /** Every request received, in order. */
  readonly requests: RecordedEc2Request[];
  /** Requests of one action. */
  requestsFor(action: string): RecordedEc2Request[];
  /** The fleet every following listing shows. */
  setInstances(instances: readonly Ec2Instance[]): void;
  /**
   * Fleets for the next listings, one each (a listing = a DescribeInstances call without
   * `NextToken`; its further pages stay consistent). The last one stays in place.
   */
  queueInstances(...fleets: (readonly Ec2Instance[])[]): void;
  setImages(images: readonly Ec2Image[]): void;
  /** Split listings into pages of `k` (a smaller `MaxResults` wins). `0` = no paging. */
  setPageSize(k: number): void;
  /** The next `n` requests (of `action`, or any) answer `RequestLimitExceeded` (503). */
  throttleNext(n: number, action?: string): void;
  /** The next `n` requests (of `action`, or any) answer this error. */
  failNext(n: number, error: Ec2ErrorScript, action?: string): void;
  /** Forgets every scripted throttle/failure not yet used. */
  clearFailures(): void;
  /** Every following answer waits this long first (to test timeouts and aborts). */
  setResponseDelay(ms: number): void;
  /** Resolves when at least `n` requests of `action` have been answered. */
  waitForRequests(n: number, action?: string, timeoutMs?: number): Promise<RecordedEc2Request[]>;
  /**
   * Resolves when at least `n` requests (of any action) have arrived in full, answered or
   * not: "a request is in flight" while answers are delayed.
   */
  waitForArrivals(n: number, timeoutMs?: number): Promise<void>;
  /** How many requests have arrived in full so far (for `waitForArrivals(arrivals() + 1)`). */
  arrivals(): number;
  close(): Promise<void>;
}

interface PendingFailure {
  remaining: number;
  error: Ec2ErrorScript;
  action?: string;
}

export async function startEc2Endpoint(): Promise<Ec2Endpoint> {
  let fleet: readonly Ec2Instance[] = [];
  let queued: (readonly Ec2Instance[])[] = [];
  let images: readonly Ec2Image[] = [];
  let pageSize = 0;
  let responseDelayMs = 0;
  const failures: PendingFailure[] = [];
  const requests: RecordedEc2Request[] = [];
  // A listing's pages are served from the fleet as it was at the listing's first page.
  const listings = new Map<string, Ec2Instance[]>();
  const waiters: { check: () => boolean; resolve: () => void }[] = [];

  let arrived = 0;
  // Delayed answers still waiting: cleared on close so no timer outlives the endpoint.
  const delays = new Set<NodeJS.Timeout>();
  const delay = (ms: number) =>
    ms <= 0
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            delays.delete(timer);
            resolve();
          }, ms);
          delays.add(timer);
        });
  const notify = () => {
    for (const w of waiters.splice(0)) (w.check() ? w.resolve : () => waiters.push(w))();
  };

  const server = createServer((req, res) => {
    readBody(req)
      .then((body) => {
        arrived++;
        notify();
        return delay(responseDelayMs).then(() => body);
      })
      .then((body) => {
        // A client that gave up (aborted) is not answered, nor recorded.
        if (!res.destroyed && !req.socket.destroyed) handle(req, res, body);
      })
      .catch((err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      });
  });

  function handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    const params = Object.fromEntries(new URLSearchParams(body));
    const auth = req.headers.authorization ?? '';
    const sig = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(
      auth,
    );
    const action = params.Action ?? '';
    const record: RecordedEc2Request = {
      action,
      params,
      filters: collectFilters(params),
      signed: sig !== null,
      ...(sig ? { accessKeyId: sig[1]!, signingRegion: sig[2]! } : {}),
      status: 200,
    };
    const reply = (status: number, xml: string, errorCode?: string) => {
      record.status = status;
      if (errorCode) record.errorCode = errorCode;
      requests.push(record);
      res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8' });
      res.end(xml);
      notify();
    };
    const fail = (error: Ec2ErrorScript) => {
      const status = error.status ?? (error.code === 'RequestLimitExceeded' ? 503 : 400);
      reply(status, errorXml(error.code, error.message ?? defaultMessage(error.code)), error.code);
    };

    if (req.method !== 'POST') {
      fail({ code: 'InvalidAction', message: 'use POST' });
      return;
    }
    const scripted = failures.find((f) => f.remaining > 0 && (!f.action || f.action === action));
    if (scripted) {
      scripted.remaining--;
      fail(scripted.error);
      return;
    }
    try {
      if (action === 'DescribeInstances') reply(200, describeInstances(params, record));
      else if (action === 'DescribeImages') reply(200, describeImages(params, record));
      else fail({ code: 'InvalidAction', message: `The action ${action} is not valid` });
    } catch (err) {
      if (!(err instanceof Ec2ApiError)) throw err;
      fail({ code: err.code, message: err.message });
    }
  }

  function describeInstances(params: Record<string, string>, record: RecordedEc2Request): string {
    const maxResults = params.MaxResults === undefined ? undefined : Number(params.MaxResults);
    if (maxResults !== undefined && !(maxResults >= 5 && maxResults <= 1000))
      throw new Ec2ApiError(
        'InvalidParameterValue',
        `Value ( ${params.MaxResults} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.`,
      );
    let listingId: string;
    let offset: number;
    if (params.NextToken) {
      const decoded = decodeToken(params.NextToken);
      if (!decoded || !listings.has(decoded.listingId))
        throw new Ec2ApiError('InvalidParameterValue', 'The parameter NextToken is not valid');
      ({ listingId, offset } = decoded);
    } else {
      // EC2 refuses an unknown filter even when nothing would be matched against it.
      for (const f of record.filters) instanceMatches(PROBE_INSTANCE, f);
      if (queued.length > 0) fleet = queued.shift()!;
      const matching = fleet.filter((i) => record.filters.every((f) => instanceMatches(i, f)));
      listingId = randomUUID();
      offset = 0;
      listings.set(listingId, matching);
    }
    const all = listings.get(listingId)!;
    const limits = [pageSize || Infinity, maxResults ?? Infinity];
    const size = Math.min(...limits);
    const page = all.slice(offset, offset + size);
    const nextOffset = offset + page.length;
    const nextToken = nextOffset < all.length ? encodeToken(listingId, nextOffset) : undefined;
    return [
      `<?xml version="1.0" encoding="UTF-8"?>`,
      `<DescribeInstancesResponse xmlns="${EC2_XMLNS}">`,
      `<requestId>${randomUUID()}</requestId>`,
      `<reservationSet>${reservations(page).map(reservationXml).join('')}</reservationSet>`,
      nextToken ? `<nextToken>${nextToken}</nextToken>` : '',
      `</DescribeInstancesResponse>`,
    ].join('');
  }

  function describeImages(params: Record<string, string>, record: RecordedEc2Request): string {
    const ids = Object.entries(params)
      .filter(([k]) => /^ImageId\.\d+$/.test(k))
      .map(([, v]) => v);
    for (const f of record.filters) imageMatches(PROBE_IMAGE, f);
    const missing = ids.filter((id) => !images.some((img) => img.imageId === id));
    if (missing.length > 0)
      throw new Ec2ApiError(
        'InvalidAMIID.NotFound',
        `The image id '[${missing.join(', ')}]' does not exist`,
      );
    const selected = images.filter(
      (img) =>
        (ids.length === 0 || ids.includes(img.imageId)) &&
        record.filters.every((f) => imageMatches(img, f)),
    );
    return [
      `<?xml version="1.0" encoding="UTF-8"?>`,
      `<DescribeImagesResponse xmlns="${EC2_XMLNS}">`,
      `<requestId>${randomUUID()}</requestId>`,
      `<imagesSet>${selected.map(imageXml).join('')}</imagesSet>`,
      `</DescribeImagesResponse>`,
    ].join('');
  }

  function waitUntil(check: () => boolean, what: () => string, timeoutMs: number) {
    if (check()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${what()}`)),
        timeoutMs,
      );
      waiters.push({
        check,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    requestsFor: (action) => requests.filter((r) => r.action === action),
    setInstances(instances) {
      fleet = instances;
      queued = [];
    },
    queueInstances(...fleets) {
      queued.push(...fleets);
    },
    setImages(list) {
      images = list;
    },
    setPageSize(k) {
      pageSize = k;
    },
    clearFailures() {
      failures.length = 0;
    },
    setResponseDelay(ms) {
      responseDelayMs = ms;
    },
    throttleNext(n, action) {
      failures.push({
        remaining: n,
        error: { code: 'RequestLimitExceeded', message: 'Request limit exceeded.' },
        ...(action ? { action } : {}),
      });
    },
    failNext(n, error, action) {
      failures.push({ remaining: n, error, ...(action ? { action } : {}) });
    },
    waitForRequests(n, action, timeoutMs = 20_000) {
      const matching = () => requests.filter((r) => !action || r.action === action);
      return waitUntil(
        () => matching().length >= n,
        () => `${n} answered ${action ?? ''} requests, have ${matching().length}`,
        timeoutMs,
      ).then(matching);
    },
    arrivals: () => arrived,
    waitForArrivals(n, timeoutMs = 20_000) {
      return waitUntil(
        () => arrived >= n,
        () => `${n} requests to arrive, have ${arrived}`,
        timeoutMs,
      );
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const timer of delays) clearTimeout(timer);
        delays.clear();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

class Ec2ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function defaultMessage(code: string): string {
  return code === 'RequestLimitExceeded' ? 'Request limit exceeded.' : `${code} (scripted)`;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function collectFilters(params: Record<string, string>): Ec2Filter[] {
  const filters = new Map<number, Ec2Filter>();
  for (const [key, value] of Object.entries(params)) {
    const name = /^Filter\.(\d+)\.Name$/.exec(key);
    const val = /^Filter\.(\d+)\.Value\.(\d+)$/.exec(key);
    const n = Number((name ?? val)?.[1]);
    if (!name && !val) continue;
    const f = filters.get(n) ?? { name: '', values: [] };
    if (name) f.name = value;
    else f.values[Number(val![2]) - 1] = value;
    filters.set(n, f);
  }
  return [...filters.entries()].sort(([a], [b]) => a - b).map(([, f]) => f);
}

function wildcard(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 's');
}

function anyMatches(values: readonly string[], actual: string | undefined): boolean {
  return actual !== undefined && values.some((v) => wildcard(v).test(actual));
}

/** Matched against every filter first so a bad filter name fails on an empty fleet too. */
const PROBE_INSTANCE: Ec2Instance = { instanceId: 'i-probe', state: 'running' };
const PROBE_IMAGE: Ec2Image = { imageId: 'ami-probe' };

function instanceMatches(i: Ec2Instance, f: Ec2Filter): boolean {
  if (f.name.startsWith('tag:')) return anyMatches(f.values, i.tags?.[f.name.slice(4)]);
  switch (f.name) {
    case 'instance-state-name':
      return anyMatches(f.values, i.state);
    case 'instance-id':
      return anyMatches(f.values, i.instanceId);
    case 'image-id':
      return anyMatches(f.values, i.imageId);
    case 'availability-zone':
      return anyMatches(f.values, i.availabilityZone);
    case 'tag-key':
      return Object.keys(i.tags ?? {}).some((k) => anyMatches(f.values, k));
    default:
      throw new Ec2ApiError('InvalidParameterValue', `The filter '${f.name}' is invalid`);
  }
}

function imageMatches(img: Ec2Image, f: Ec2Filter): boolean {
  if (f.name.startsWith('tag:')) return anyMatches(f.values, img.tags?.[f.name.slice(4)]);
  if (f.name === 'image-id') return anyMatches(f.values, img.imageId);
  if (f.name === 'name') return anyMatches(f.values, img.name);
  throw new Ec2ApiError('InvalidParameterValue', `The filter '${f.name}' is invalid`);
}

function encodeToken(listingId: string, offset: number): string {
  return Buffer.from(JSON.stringify({ listingId, offset })).toString('base64');
}

function decodeToken(token: string): { listingId: string; offset: number } | undefined {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as unknown;
    if (v && typeof v === 'object' && 'listingId' in v && 'offset' in v)
      return v as { listingId: string; offset: number };
  } catch {
    // fall through: an unreadable token is invalid
  }
  return undefined;
}

function reservations(page: readonly Ec2Instance[]): [string, Ec2Instance[]][] {
  const byId = new Map<string, Ec2Instance[]>();
  for (const i of page) {
    const id = i.reservationId ?? `r-${i.instanceId.replace(/^i-/, '')}`;
    byId.set(id, [...(byId.get(id) ?? []), i]);
  }
  return [...byId.entries()];
}

function esc(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function el(name: string, value: string | number | undefined): string {
  return value === undefined ? '' : `<${name}>${esc(String(value))}</${name}>`;
}

function tagSetXml(tags: Record<string, string> | undefined): string {
  if (!tags || Object.keys(tags).length === 0) return '';
  const items = Object.entries(tags).map(
    ([k, v]) => `<item>${el('key', k)}${el('value', v)}</item>`,
  );
  return `<tagSet>${items.join('')}</tagSet>`;
}

function reservationXml([reservationId, instances]: [string, Ec2Instance[]]): string {
  return [
    '<item>',
    el('reservationId', reservationId),
    el('ownerId', '123456789012'),
    '<instancesSet>',
    ...instances.map(instanceXml),
    '</instancesSet>',
    '</item>',
  ].join('');
}

function instanceXml(i: Ec2Instance): string {
  return [
    '<item>',
    el('instanceId', i.instanceId),
    el('imageId', i.imageId),
    `<instanceState>${el('code', EC2_STATE_CODES[i.state])}${el('name', i.state)}</instanceState>`,
    el('privateDnsName', i.privateDnsName),
    el('reason', i.stateTransitionReason),
    el('instanceType', 't3.micro'),
    el('launchTime', i.launchTime),
    i.availabilityZone
      ? `<placement>${el('availabilityZone', i.availabilityZone)}${el('tenancy', 'default')}</placement>`
      : '',
    el('privateIpAddress', i.privateIpAddress),
    tagSetXml(i.tags),
    '</item>',
  ].join('');
}

function imageXml(img: Ec2Image): string {
  return [
    '<item>',
    el('imageId', img.imageId),
    el('imageState', 'available'),
    el('name', img.name),
    tagSetXml(img.tags),
    '</item>',
  ].join('');
}

function errorXml(code: string, message: string): string {
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<Response><Errors><Error>${el('Code', code)}${el('Message', message)}</Error></Errors>`,
    `<RequestID>${randomUUID()}</RequestID></Response>`,
  ].join('');
}
