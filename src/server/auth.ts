/**
 * Token authentication for the HTTP inputs and API (`http.token`), in the forms the clients
 * that talk to fleetline already speak:
 *
 *   form                                              accepted on
 *   Authorization: Bearer <token> | Token <token>     every protected route
 *   Authorization: Basic base64(<anything>:<token>)   every protected route (Telegraf's and the
 *                                                     influx CLI's username/password, Fluent
 *                                                     Bit's http_User/http_Passwd, curl -u)
 *   ?p=<token> (u ignored)                            the InfluxDB 1.x routes POST /write and
 *                                                     POST /query only
 *
 * as InfluxDB 2.x's v1-compatibility API does (the token as basic-auth password or `p`, any
 * username). One credential per request: the Authorization header when there is one, else `p`.
 * It is compared as SHA-256 digests with timingSafeEqual, so neither the comparison nor a length
 * check tells a caller anything about the token.
 *
 * `p` travels in the URL, and URLs end up in logs: `takeQueryPassword` runs as fastify's
 * `rewriteUrl`, before routing and before anything can log the request, and replaces every
 * `p` value with `[redacted]` (with or without a token configured). Routes, fastify's `req`
 * serializer and error messages only ever see the redacted URL; the value itself is handed to
 * the token check on the side.
 *
 * A route declares what it accepts in its options, `{ config: { auth: … } }` (`RouteAuth`);
 * without it a route takes the Authorization header forms. Refusals are 401 with both
 * challenges (`WWW-Authenticate: Bearer …` and `Basic …`), a message naming every form the
 * route accepts, in the error shape its clients read; each is counted
 * (`fleetline_http_unauthorized_total{reason}`) and logged without the credentials (at most
 * 10 lines a second, the next one saying how many were left out).
 */
import { isUtf8 } from 'node:buffer';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../core/deps.ts';
import { peerAddress } from '../ingest/http/peer-address.ts';
import { counter } from '../telemetry/metrics.ts';

/**
 * What a route accepts:
 * - `open`: no credentials (health, readiness, metrics, InfluxDB's /ping);
 * - `header` (the default): Bearer, Token or Basic in the Authorization header;
 * - `influx-v1`: those and `p`; refusals shaped as InfluxDB 1.x (`{"error"}`, X-Influxdb-Error);
 * - `influx-v2`: the header forms; refusals shaped as InfluxDB 2.x (`{"code","message"}`).
 */
export type RouteAuth = 'open' | 'header' | 'influx-v1' | 'influx-v2';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What this route accepts as credentials when `http.token` is set (default `header`). */
    auth?: RouteAuth;
  }
}

export type AuthScheme = 'bearer' | 'token' | 'basic' | 'query';
export type RefusalReason = 'missing' | 'malformed' | 'wrong_token' | 'query_not_accepted';
export type AuthResult =
  | { ok: true; scheme: AuthScheme }
  | { ok: false; reason: RefusalReason; scheme?: AuthScheme };

export interface PresentedCredentials {
  /** The Authorization header, as received. */
  authorization?: string | undefined;
  /** The first non-empty `p` query parameter, decoded. */
  queryPassword?: string | undefined;
}

const REFUSALS_LOGGED_PER_SECOND = 10;

/**
 * `take()` says yes at most `limit` times per clock second; `suppressed()` is how many it said
 * no to since the last yes (read right after a yes).
 */
function perSecondBudget(limit: number, now: () => number) {
  let second = Number.NEGATIVE_INFINITY;
  let used = 0;
  let refused = 0;
  let reported = 0;
  return {
    take(): boolean {
      const s = Math.floor(now() / 1000);
      if (s !== second) {
        second = s;
        used = 0;
      }
      if (used >= limit) {
        refused++;
        return false;
      }
      used++;
      reported = refused;
      refused = 0;
      return true;
    },
    suppressed: () => reported,
  };
}

/** What every censored value is replaced with (the logger's censor too). */
export const REDACTED = '[redacted]';

export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** Checks the request's one credential against the token's digest. Pure. */
export function authenticate(
  presented: PresentedCredentials,
  route: Exclude<RouteAuth, 'open'>,
  digest: Buffer,
): AuthResult {
  const header = presented.authorization && trimOws(presented.authorization);
  if (header) return checkHeader(header, digest);
  if (presented.queryPassword === undefined) return { ok: false, reason: 'missing' };
  if (route !== 'influx-v1') return { ok: false, reason: 'query_not_accepted', scheme: 'query' };
  return verdict('query', presented.queryPassword, digest);
}

function checkHeader(header: string, digest: Buffer): AuthResult {
  const m = /^(Bearer|Token|Basic)(?:[ \t]+(.*))?$/is.exec(header);
  const scheme = m?.[1]?.toLowerCase() as 'bearer' | 'token' | 'basic' | undefined;
  const value = m?.[2] && trimOws(m[2]);
  if (!scheme || !value) return { ok: false, reason: 'malformed', ...(scheme ? { scheme } : {}) };
  if (scheme !== 'basic') {
    // Node hands header values over as Latin-1, one char per byte. Go clients (Telegraf) and
    // curl send a non-ASCII token as its UTF-8 bytes, Node's http as Latin-1: either counts,
    // as the UTF-8 of basic auth and of `p` always did.
    const asReceived = verdict(scheme, value, digest);
    if (asReceived.ok || !/[\u0080-\uffff]/.test(value)) return asReceived;
    return verdict(scheme, Buffer.from(value, 'latin1').toString('utf8'), digest);
  }
  // RFC 7617: base64 of user-id ":" password; the user-id cannot hold a colon, the password can.
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return { ok: false, reason: 'malformed', scheme };
  // UTF-8, as the challenge's charset asks and curl, Go and Node send; bytes that are not UTF-8
  // are Latin-1, RFC 7617's legacy default, which Python's requests still sends.
  const bytes = Buffer.from(value, 'base64');
  const decoded = bytes.toString(isUtf8(bytes) ? 'utf8' : 'latin1');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { ok: false, reason: 'malformed', scheme };
  return verdict(scheme, decoded.slice(colon + 1), digest);
}

/**
 * Strips HTTP whitespace (space, tab) only. String#trim would also strip U+00A0, which in a
 * Latin-1 header value is the byte 0xA0 that ends the UTF-8 of `à`, `Ġ`, … at a token's end.
 */
function trimOws(text: string): string {
  return text.replace(/^[ \t]+|[ \t]+$/g, '');
}

function verdict(scheme: AuthScheme, secret: string, digest: Buffer): AuthResult {
  // Digests of equal length are compared, so neither the comparison nor an early length check
  // tells a caller how long the token is.
  return timingSafeEqual(tokenDigest(secret), digest)
    ? { ok: true, scheme }
    : { ok: false, reason: 'wrong_token', scheme };
}

/** The 401 message: what was wrong, and every form the route accepts. */
export function refusalMessage(reason: RefusalReason, route: Exclude<RouteAuth, 'open'>): string {
  const forms =
    'send the token as `Authorization: Bearer <token>` (or `Token <token>`), or as the ' +
    'password of HTTP basic auth (any username)';
  const withP =
    route === 'influx-v1' ? `${forms}, or as the \`p\` query parameter (\`u\` is ignored)` : forms;
  switch (reason) {
    case 'missing':
      return `no credentials: ${withP}`;
    case 'malformed':
      return `unreadable Authorization header: ${withP}`;
    case 'wrong_token':
      return `wrong token: ${withP}`;
    case 'query_not_accepted':
      return `the \`p\` query parameter is accepted only on POST /write and POST /query (InfluxDB 1.x API): ${forms}`;
  }
}

/**
 * The URL with every `p` query value replaced by `[redacted]`, and the first non-empty one
 * decoded (as InfluxDB takes the first of a repeated parameter). Cheap when there is no `p`.
 *
 * The query starts where fastify's router starts it, at the first `?` or `#`: a raw `#` is not
 * a fragment to it (`/write#&p=…` reaches /write with `p` in req.query). Starting at `?` only
 * left such a `p` unredacted in req.url, req.query and the refusal log's path.
 */
export function takeQueryPassword(url: string): { url: string; password?: string } {
  const q = queryStart(url);
  if (q < 0 || !/(?:^|[&?#])(?:p|%70)=/i.test(url.slice(q + 1))) return { url };
  let password: string | undefined;
  const parts = url
    .slice(q + 1)
    .split('&')
    .map((part) => {
      const eq = part.indexOf('=');
      if (eq < 0 || eq === part.length - 1) return part;
      const key = part.slice(0, eq);
      if (decodeComponent(key) === 'p') password ??= decodeComponent(part.slice(eq + 1));
      // `x?p=…` / `x#p=…` (a second `?` or a `#` after the first): no `p` to the query parser,
      // but a `p` the client meant, so redacted all the same (and not taken).
      else if (!/[?#](?:p|%70)$/.test(key)) return part;
      return `${key}=${REDACTED}`;
    });
  const redacted = `${url.slice(0, q + 1)}${parts.join('&')}`;
  return password === undefined ? { url: redacted } : { url: redacted, password };
}

function queryStart(url: string): number {
  const question = url.indexOf('?');
  const hash = url.indexOf('#');
  return hash < 0 || (question >= 0 && question < hash) ? question : hash;
}

/** As the query-string parser decodes: `+` is a space; a bad escape stays as sent. */
function decodeComponent(text: string): string {
  const spaced = text.replaceAll('+', ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

export interface HttpAuth {
  /** fastify's `rewriteUrl`: takes `p` out of the URL before routing and logging. */
  rewriteUrl(req: IncomingMessage): string;
  /** The `onRequest` hook that enforces `http.token`; undefined when no token is set. */
  onRequest?: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
}

export function createHttpAuth(token: string | undefined, deps: Deps): HttpAuth {
  // The `p` values taken out of URLs, until the token check reads them; gone with the request.
  const queryPasswords = new WeakMap<IncomingMessage, string>();
  const rewriteUrl = (req: IncomingMessage): string => {
    const url = req.url ?? '/';
    const taken = takeQueryPassword(url);
    if (taken.url === url) return url;
    // fastify keeps the URL as received here; the route would see the redacted one anyway.
    (req as IncomingMessage & { originalUrl?: string }).originalUrl = taken.url;
    if (token && taken.password !== undefined) queryPasswords.set(req, taken.password);
    return taken.url;
  };
  if (!token) return { rewriteUrl };

  const digest = tokenDigest(token);
  const refused = counter(
    deps.metrics,
    'fleetline_http_unauthorized_total',
    'HTTP requests refused with 401 because http.token is set, by reason',
    ['reason'],
  );
  // A client without the token must not be able to flood the log: the counter sees every
  // refusal, the log at most REFUSALS_LOGGED_PER_SECOND, then says how many it left out.
  const logBudget = perSecondBudget(REFUSALS_LOGGED_PER_SECOND, () => deps.clock.now());
  const onRequest = async (req: FastifyRequest, reply: FastifyReply) => {
    const route = req.routeOptions.config?.auth ?? 'header';
    if (route === 'open') return;
    const result = authenticate(
      { authorization: req.headers.authorization, queryPassword: queryPasswords.get(req.raw) },
      route,
      digest,
    );
    if (result.ok) return;
    refused.inc({ reason: result.reason });
    if (logBudget.take()) {
      const path = req.url.split('?')[0];
      const suppressed = logBudget.suppressed();
      deps.log.warn(
        {
          event: 'http_unauthorized',
          reason: result.reason,
          scheme: result.scheme,
          method: req.method,
          path,
          peer: peerAddress(req.socket.remoteAddress),
          ...(suppressed > 0 && { suppressed }),
        },
        'HTTP request refused: missing or wrong credentials',
      );
    }
    const message = refusalMessage(result.reason, route);
    reply
      .code(401)
      .header('www-authenticate', [
        'Bearer realm="fleetline"',
        'Basic realm="fleetline", charset="UTF-8"',
      ]);
    if (route === 'influx-v1') {
      reply.header('x-influxdb-error', message).send({ error: message });
    } else if (route === 'influx-v2') {
      reply.send({ code: 'unauthorized', message });
    } else {
      reply.send({ error: 'unauthorized', message });
    }
    return reply;
  };
  return { rewriteUrl, onRequest };
}
