/**
 * A local HTTP endpoint speaking the documented Grafana HTTP API contract, for push tests
 * (Grafana itself cannot run here). Implements what fleetline uses, with Grafana's status
 * codes and bodies:
 *
 *   GET  /api/folders/:uid            200 folder | 404
 *   POST /api/folders                 200 folder | 409 uid or title exists
 *   GET  /api/dashboards/uid/:uid     200 {dashboard, meta} | 404
 *   POST /api/dashboards/db           200 {id, uid, url, status, version, slug}
 *                                     412 version-mismatch / name-exists without overwrite
 *   POST /api/annotations             200 {id, message}
 *   GET  /api/annotations?tags=…      200 [annotation] (every tag must match)
 *
 * Auth: `Authorization: Bearer <token>`; missing or unknown token → 401; a read-only token
 * → 403 on writes.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeGrafanaOptions {
  token: string;
  /** Tokens that authenticate but may only read (Viewer). */
  readOnlyTokens?: string[];
  /** Listen on this port (to bring a "restarted" Grafana back on the same URL); default 0. */
  port?: number;
}

export interface StoredDashboard {
  id: number;
  version: number;
  folderUid: string;
  dashboard: Record<string, unknown>;
}

export interface FakeGrafana {
  url: string;
  folders: Map<string, { id: number; uid: string; title: string }>;
  dashboards: Map<string, StoredDashboard>;
  annotations: { id: number; time: number; timeEnd?: number; tags: string[]; text: string }[];
  /** Every request as `METHOD path`, for asserting what a client did. */
  requests: string[];
  stop(): Promise<void>;
}

export async function startFakeGrafana(opts: FakeGrafanaOptions): Promise<FakeGrafana> {
  let nextId = 1;
  const state: Omit<FakeGrafana, 'url' | 'stop'> = {
    folders: new Map(),
    dashboards: new Map(),
    annotations: [],
    requests: [],
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    state.requests.push(`${method} ${url.pathname}`);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
    if (!token) return send(401, { message: 'Unauthorized' });
    const readOnly = opts.readOnlyTokens?.includes(token) ?? false;
    if (token !== opts.token && !readOnly) return send(401, { message: 'Invalid API key' });
    if (readOnly && method !== 'GET')
      return send(403, { message: 'You are not allowed to perform this action' });
    const body = method === 'POST' ? await readJson(req) : undefined;
    if (body === null) return send(400, { message: 'bad request data' });

    const folderUid = /^\/api\/folders\/([^/]+)$/.exec(url.pathname)?.[1];
    const dashboardUid = /^\/api\/dashboards\/uid\/([^/]+)$/.exec(url.pathname)?.[1];
    if (method === 'GET' && folderUid) {
      const f = state.folders.get(decodeURIComponent(folderUid));
      return f ? send(200, f) : send(404, { message: 'folder not found' });
    }
    if (method === 'POST' && url.pathname === '/api/folders') {
      const { uid, title } = body as { uid?: string; title?: string };
      if (!title) return send(400, { message: 'folder title cannot be empty' });
      const u = uid ?? `f${nextId}`;
      if (state.folders.has(u))
        return send(409, { message: 'a folder with the same uid already exists' });
      if ([...state.folders.values()].some((f) => f.title === title))
        return send(409, { message: 'a folder with the same name already exists' });
      const f = { id: nextId++, uid: u, title };
      state.folders.set(u, f);
      return send(200, f);
    }
    if (method === 'GET' && dashboardUid) {
      const d = state.dashboards.get(decodeURIComponent(dashboardUid));
      if (!d) return send(404, { message: 'Dashboard not found' });
      return send(200, {
        dashboard: { ...d.dashboard, id: d.id, version: d.version },
        meta: { folderUid: d.folderUid, version: d.version, slug: slugOf(d.dashboard) },
      });
    }
    if (method === 'POST' && url.pathname === '/api/dashboards/db') {
      const b = body as {
        dashboard?: Record<string, unknown>;
        folderUid?: string;
        overwrite?: boolean;
      };
      const dash = b.dashboard;
      if (!dash || typeof dash.title !== 'string')
        return send(400, { message: 'Dashboard title cannot be empty' });
      const folderUid = b.folderUid ?? '';
      if (folderUid && !state.folders.has(folderUid))
        return send(400, { message: 'folder not found' });
      const uid = typeof dash.uid === 'string' ? dash.uid : `d${nextId}`;
      const existing = state.dashboards.get(uid);
      if (!b.overwrite) {
        if (existing && dash.version !== existing.version)
          return send(412, {
            status: 'version-mismatch',
            message: 'The dashboard has been changed by someone else',
          });
        const sameTitle = [...state.dashboards.entries()].find(
          ([u, d]) => u !== uid && d.folderUid === folderUid && d.dashboard.title === dash.title,
        );
        if (sameTitle)
          return send(412, {
            status: 'name-exists',
            message: 'A dashboard with the same name in the folder already exists',
          });
      }
      const { id: _id, version: _v, ...content } = dash;
      const stored: StoredDashboard = {
        id: existing?.id ?? nextId++,
        version: (existing?.version ?? 0) + 1,
        folderUid,
        dashboard: { ...content, uid },
      };
      state.dashboards.set(uid, stored);
      return send(200, {
        id: stored.id,
        uid,
        url: `/d/${uid}/${slugOf(stored.dashboard)}`,
        status: 'success',
        version: stored.version,
        slug: slugOf(stored.dashboard),
      });
    }
    if (method === 'POST' && url.pathname === '/api/annotations') {
      const a = body as { time?: number; timeEnd?: number; tags?: string[]; text?: string };
      if (typeof a.text !== 'string' || a.text === '')
        return send(400, { message: 'Failed to save annotation: text is required' });
      const id = nextId++;
      state.annotations.push({
        id,
        time: a.time ?? Date.now(),
        ...(a.timeEnd ? { timeEnd: a.timeEnd } : {}),
        tags: a.tags ?? [],
        text: a.text,
      });
      return send(200, { id, message: 'Annotation added' });
    }
    if (method === 'GET' && url.pathname === '/api/annotations') {
      const tags = url.searchParams.getAll('tags');
      return send(
        200,
        state.annotations.filter((a) => tags.every((t) => a.tags.includes(t))),
      );
    }
    return send(404, { message: 'Not found' });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      res.writeHead(500).end(JSON.stringify({ message: err.message }));
    });
  });
  // A taken port must fail the test, not leave it waiting for a 'listening' that never comes.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    ...state,
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return null;
  }
}

function slugOf(d: Record<string, unknown>): string {
  return String(d.title ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}
