/**
 * The HTTP server (fastify): health, readiness, metrics, and whatever route plugins the
 * composition root hands in (inputs, API). Sockets only; no business logic lives here.
 *
 *   GET /healthz  200 while the process runs
 *   GET /readyz   200 when every readiness check passes, else 503 {ready:false, checks}
 *   GET /metrics  Prometheus text format
 */
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyPluginAsync,
  LogController,
} from 'fastify';
import { stdSerializers } from 'pino';
import type { HttpConfig } from '../config/schema.ts';
import type { Deps } from '../core/deps.ts';
import { type Component, component } from '../core/lifecycle.ts';
import { createHttpAuth } from './auth.ts';
import { evaluateReadiness, type ReadinessCheck } from './readiness.ts';

export interface HttpServer extends Component {
  readonly app: FastifyInstance;
  /** The bound port (useful when configured as 0). Valid after start(). */
  port(): number;
  url(): string;
}

export interface HttpServerOptions {
  readiness: readonly ReadinessCheck[];
  /** Route plugins registered in order (inputs, API). */
  routes?: readonly FastifyPluginAsync[];
}

/**
 * pino's error serializer without `rawPacket`: Node attaches the bytes it could not parse to a
 * client error, the request head as received (Authorization, a `p` in the URL), and fastify
 * logs that error (at trace level).
 */
function errorWithoutRequestBytes(err: Error): unknown {
  const out: unknown = stdSerializers.err(err);
  if (typeof out === 'object' && out !== null && 'rawPacket' in out) {
    const { rawPacket: _bytes, ...rest } = out as Record<string, unknown>;
    return rest;
  }
  return out;
}

export function createHttpServer(
  config: HttpConfig,
  deps: Deps,
  opts: HttpServerOptions,
): HttpServer {
  const auth = createHttpAuth(config.token, deps);
  const app = Fastify({
    loggerInstance: deps.log.child(
      { component: 'http' },
      { serializers: { err: errorWithoutRequestBytes } },
    ) as FastifyBaseLogger,
    // Nothing logs per request; inputs log named events instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.max_body_bytes,
    // Behind no proxy by default: peer address is the socket's.
    trustProxy: false,
    // A `p` query parameter (InfluxDB 1.x password) leaves the URL before anything sees it.
    rewriteUrl: auth.rewriteUrl,
  });
  if (auth.onRequest) app.addHook('onRequest', auth.onRequest);

  // Probes and scrapers keep working with http.token set.
  const open = { config: { auth: 'open' as const } };
  app.get('/healthz', open, async () => ({ status: 'ok' }));
  app.get('/readyz', open, async (_req, reply) => {
    const report = await evaluateReadiness(opts.readiness);
    reply.code(report.ready ? 200 : 503).send(report);
  });
  app.get('/metrics', open, async (_req, reply) => {
    reply.header('content-type', deps.metrics.contentType).send(await deps.metrics.metrics());
  });
  for (const plugin of opts.routes ?? []) app.register(plugin);

  let boundPort = config.port;
  const lifecycle = component('http', {
    async start() {
      await app.listen({ host: config.bind, port: config.port });
      const addr = app.server.address();
      if (addr && typeof addr === 'object') boundPort = addr.port;
      deps.log.info(
        { event: 'http_listening', bind: config.bind, port: boundPort },
        'HTTP listening',
      );
    },
    async stop() {
      await app.close();
    },
  });
  return {
    ...lifecycle,
    app,
    port: () => boundPort,
    url: () =>
      `http://${config.bind.includes(':') ? `[${config.bind}]` : config.bind}:${boundPort}`,
  };
}
