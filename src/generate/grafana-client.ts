/**
 * A minimal client for Grafana's HTTP API (service-account token, JSON). Its one job besides
 * the request is turning Grafana's status codes into errors that say what to do: 401 (token),
 * 403 (permissions), 412 (conflict), 5xx/network (retry). The token never appears in a message.
 */
import { PermanentError, RetryableError } from '../core/errors.ts';

export interface GrafanaClientOptions {
  url: string;
  token: string;
  timeoutMs?: number;
}

export interface GrafanaClient {
  /** Resolves with the JSON body, or `undefined` on 404; throws on every other failure. */
  request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T | undefined>;
}

export class GrafanaApiError extends PermanentError {
  constructor(
    code: string,
    readonly status: number,
    message: string,
  ) {
    super(code, message);
  }
}

/**
 * The URL without userinfo. The client authenticates with the token; credentials in
 * `grafana.url` (`https://admin:pw@grafana`) would make fetch refuse every request, and would
 * put the password into every message that names the server.
 */
export function withoutCredentials(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//');
  }
}

export function createGrafanaClient(o: GrafanaClientOptions): GrafanaClient {
  const base = withoutCredentials(o.url).replace(/\/+$/, '');
  return {
    async request<T>(method: 'GET' | 'POST', path: string, body?: unknown) {
      let res: Response;
      try {
        res = await fetch(`${base}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${o.token}`,
            accept: 'application/json',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(o.timeoutMs ?? 15_000),
        });
      } catch (err) {
        throw new RetryableError(
          'grafana_unreachable',
          `Grafana at ${base} is unreachable (${(err as Error).message}); retry later`,
          5000,
          { cause: err },
        );
      }
      const text = await res.text();
      const json = parse(text);
      if (res.ok) return json as T;
      if (res.status === 404 && method === 'GET') return undefined;
      const detail = (json as { message?: string; status?: string } | undefined) ?? {};
      const what = `${method} ${path}`;
      switch (res.status) {
        case 401:
          throw new GrafanaApiError(
            'grafana_unauthorized',
            401,
            `Grafana rejected the credentials for ${what} (401 ${detail.message ?? 'Unauthorized'}): set grafana.token (or FLEETLINE_GRAFANA_TOKEN) to a valid service-account token`,
          );
        case 403:
          throw new GrafanaApiError(
            'grafana_forbidden',
            403,
            `Grafana refused ${what} (403 ${detail.message ?? 'Forbidden'}): the service account needs the Editor role (or folder write permission)`,
          );
        case 412:
          throw new GrafanaApiError(
            'grafana_precondition_failed',
            412,
            `Grafana refused ${what} (412 ${detail.status ?? ''}: ${detail.message ?? 'precondition failed'}): another dashboard holds this uid/title or it changed meanwhile`,
          );
      }
      if (res.status >= 500 || res.status === 429)
        throw new RetryableError(
          'grafana_unavailable',
          `Grafana answered ${res.status} to ${what}: ${detail.message ?? text.slice(0, 200)}; retry later`,
          5000,
        );
      throw new GrafanaApiError(
        'grafana_rejected',
        res.status,
        `Grafana answered ${res.status} to ${what}: ${detail.message ?? text.slice(0, 200)}`,
      );
    },
  };
}

function parse(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}
