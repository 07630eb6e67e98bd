/**
 * The Forward protocol listener: sockets only. Bytes are cut into requests by the frame
 * scanners and decoded by `decode.ts`; the handshake is checked by `handshake.ts`.
 *
 * Per connection, requests are handled strictly in order: while `downstream.consume` is
 * pending the socket is paused, so a slow pipeline pushes back on the client through TCP
 * instead of growing a buffer here. The ack (`{"ack": chunk}`) is written only after the
 * consume resolved, as one standalone write (clients decode exactly one read); a rejected
 * consume closes the connection without an ack so the client retries.
 *
 *   accept ─► [shared_key?] HELO ─► PING ─► PONG(true) ─┐
 *         └────────────────────────────────────────────┴─► requests ─► consume ─► ack
 *
 * The UDP heartbeat is answered with one 0x00 byte from the listening socket, because fluentd
 * matches replies by source address. Empty TCP connections (fluentd's default heartbeat opens
 * one per second) are counted, never logged above debug.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { parseDuration } from '../../config/duration.ts';
import type { ForwardConfig } from '../../config/schema.ts';
import type { Consumer } from '../../core/consumer.ts';
import type { Deps } from '../../core/deps.ts';
import type { Batch, Origin } from '../../core/entry.ts';
import { type Component, component } from '../../core/lifecycle.ts';
import { decodeFrame, type ForwardRequest } from './decode.ts';
import { ForwardDecodeError } from './errors.ts';
import { createFrameScanner, type FrameScanner } from './frame-scanner.ts';
import { checkPing, encodeHelo, type HandshakeSecrets, type HandshakeState } from './handshake.ts';
import { createJsonScanner, decodeJsonFrame } from './json-frames.ts';
import { createForwardMetrics, type ForwardMetrics } from './metrics.ts';
import { createKeyCache } from './msgpack-reader.ts';

export interface ForwardServer extends Component {
  /** The bound TCP (and UDP) port; meaningful after `start()`. */
  port(): number;
}

const INITIAL_BUFFER = 64 * 1024;
const ACK_PREFIX = Buffer.from([0x81, 0xa3, 0x61, 0x63, 0x6b]);
/** Time a client gets to read a failed PONG before we drop the socket ourselves. */
const CLOSE_GRACE_MS = 1000;
/** How long stop() waits for requests already handed downstream to be accepted. */
const STOP_DRAIN_MS = 5000;
/**
 * Largest PING accepted. A real one is under 400 bytes; a small cap keeps an unauthenticated
 * client from making us buffer a full max_frame_bytes request.
 */
const MAX_PING_BYTES = 16 * 1024;

export function createForwardServer(
  config: ForwardConfig,
  deps: Deps,
  downstream: Consumer,
): ForwardServer {
  const metrics = createForwardMetrics(deps.metrics);
  const idleMs = parseDuration(config.idle_timeout);
  const handshakeMs = parseDuration(config.handshake_timeout);
  const secrets: HandshakeSecrets | undefined = config.shared_key
    ? { selfHostname: config.self_hostname, sharedKey: config.shared_key, users: config.users }
    : undefined;
  const decodeOptions = {
    maxFrameBytes: config.max_frame_bytes,
    maxDecompressedBytes: config.max_decompressed_bytes,
    maxEntries: config.max_entries_per_request,
    nowMs: 0,
    keys: createKeyCache(),
  };
  const connections = new Set<Connection>();
  let tcp: net.Server | undefined;
  let udp: dgram.Socket | undefined;
  let boundPort = 0;

  const ctx: ConnectionContext = {
    config,
    deps,
    downstream,
    metrics,
    secrets,
    handshakeMs,
    stopping: false,
    decode(buf, start, end) {
      decodeOptions.nowMs = deps.clock.now();
      return decodeFrame(buf, start, end, decodeOptions);
    },
  };

  const accept = (socket: net.Socket, isTls: boolean) => {
    const conn = new Connection(socket, isTls, ctx);
    connections.add(conn);
    metrics.connections.inc();
    metrics.connectionsTotal.inc();
    socket.setTimeout(idleMs);
    // Not setTimeout's callback argument: that is a one-time listener, and we may look twice.
    socket.on('timeout', () => {
      // A connection waiting on the downstream is paused, not idle: look again later.
      if (conn.busy()) {
        socket.setTimeout(idleMs);
        return;
      }
      metrics.connectionsClosed.inc({ reason: 'idle_timeout' });
      deps.log.info(
        { event: 'forward_connection_idle', peer: conn.peer, idle_ms: idleMs },
        'closing idle Forward connection',
      );
      socket.destroy();
    });
    socket.once('close', () => {
      connections.delete(conn);
      metrics.connections.dec();
    });
    conn.begin();
  };

  const base = component('forward-server', {
    async start() {
      const serverOptions = { allowHalfOpen: true, pauseOnConnect: false };
      if (config.tls) {
        const t = config.tls;
        tcp = tls.createServer({
          ...serverOptions,
          cert: readFileSync(t.cert),
          key: readFileSync(t.key),
          ...(t.ca ? { ca: readFileSync(t.ca), requestCert: true, rejectUnauthorized: true } : {}),
        });
        tcp.on('secureConnection', (s: tls.TLSSocket) => accept(s, true));
        tcp.on('tlsClientError', (err, s) => {
          metrics.connectionsRefused.inc({ reason: 'tls_error' });
          deps.log.warn(
            { event: 'forward_tls_error', peer: peerOf(s), err: err.message },
            'Forward TLS handshake failed',
          );
        });
      } else {
        tcp = net.createServer(serverOptions, (s) => accept(s, false));
      }
      const server = tcp;
      // Node refuses connections beyond the cap before any TLS work is spent on them.
      server.maxConnections = config.max_connections;
      server.on('drop', (info?: { remoteAddress?: string }) => {
        metrics.connectionsRefused.inc({ reason: 'max_connections' });
        deps.log.warn(
          {
            event: 'forward_connection_refused',
            reason: 'max_connections',
            peer: info?.remoteAddress?.replace(/^::ffff:/, ''),
          },
          `refusing Forward connection: max_connections ${config.max_connections} reached`,
        );
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.bind, () => {
          server.off('error', reject);
          resolve();
        });
      });
      server.on('error', (err) =>
        deps.log.error({ event: 'forward_server_error', err: err.message }, 'Forward server error'),
      );
      boundPort = (server.address() as net.AddressInfo).port;
      try {
        udp = await bindHeartbeat(config.bind, boundPort, deps, metrics);
      } catch (err) {
        await new Promise<void>((r) => server.close(() => r()));
        throw err;
      }
      deps.log.info(
        {
          event: 'forward_listening',
          bind: config.bind,
          port: boundPort,
          tls: !!config.tls,
          auth: !!secrets,
        },
        'Forward input listening',
      );
    },
    async stop() {
      ctx.stopping = true;
      const server = tcp;
      const closed = server ? new Promise<void>((r) => server.close(() => r())) : undefined;
      udp?.close();
      // Let batches already handed downstream settle (and be acked), then drop every socket.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([...connections].map((c) => c.drain())),
        new Promise((r) => {
          timer = setTimeout(r, STOP_DRAIN_MS);
        }),
      ]);
      clearTimeout(timer);
      for (const c of connections) c.socket.end();
      // A short grace so the last acks leave before the sockets are torn down.
      if (connections.size > 0) await new Promise((r) => setTimeout(r, 50));
      for (const c of connections) c.socket.destroy();
      await closed;
    },
  });

  return Object.assign(base, { port: () => boundPort });
}

async function bindHeartbeat(
  bind: string,
  port: number,
  deps: Deps,
  metrics: ForwardMetrics,
): Promise<dgram.Socket> {
  const sock = dgram.createSocket(net.isIPv6(bind) ? 'udp6' : 'udp4');
  const reply = Buffer.from([0]);
  sock.on('message', (_msg, rinfo) => {
    metrics.heartbeats.inc({ transport: 'udp' });
    // Replies must leave from the listening socket: fluentd matches them by source address.
    sock.send(reply, rinfo.port, rinfo.address, () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, bind, () => {
      sock.off('error', reject);
      resolve();
    });
  });
  sock.on('error', (err) =>
    deps.log.warn({ event: 'forward_udp_error', err: err.message }, 'Forward UDP heartbeat error'),
  );
  return sock;
}

interface ConnectionContext {
  config: ForwardConfig;
  deps: Deps;
  downstream: Consumer;
  metrics: ForwardMetrics;
  secrets: HandshakeSecrets | undefined;
  handshakeMs: number;
  /** Set by stop(): finish what is pending, start nothing new. */
  stopping: boolean;
  decode(buf: Uint8Array, start: number, end: number): ForwardRequest | ForwardDecodeError;
}

function peerOf(socket: net.Socket): string | undefined {
  const a = socket.remoteAddress;
  return a?.startsWith('::ffff:') ? a.slice(7) : a;
}

/** Continuable rejections are logged at most this often per connection (see `reject`). */
const REJECT_LOG_INTERVAL_MS = 1000;

/** One client connection: buffering, framing, handshake state and the in-order request loop. */
class Connection {
  readonly peer: string | undefined;
  // Allocated on the first byte: fluentd's heartbeat connections (one per second per agent)
  // never send any.
  private buf: Buffer = Buffer.alloc(0);
  /** Bytes [off, len) of `buf` are received and not yet consumed. */
  private off = 0;
  private len = 0;
  private received = 0;
  private encoding: 'unknown' | 'msgpack' | 'json' = 'unknown';
  private scanner: FrameScanner;
  private phase: 'handshake' | 'established';
  private handshake: HandshakeState | undefined;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private authHostname: string | undefined;
  private pending: Promise<void> | undefined;
  private ended = false;
  private closing = false;
  /** When a rejection was last logged, and how many have not been since (see `reject`). */
  private lastRejectLogAt = Number.NEGATIVE_INFINITY;
  private rejectsNotLogged = 0;

  constructor(
    readonly socket: net.Socket,
    private readonly isTls: boolean,
    private readonly ctx: ConnectionContext,
  ) {
    this.peer = peerOf(socket);
    this.phase = ctx.secrets ? 'handshake' : 'established';
    this.scanner = ctx.secrets
      ? createFrameScanner(MAX_PING_BYTES, 'the PING size limit')
      : createFrameScanner(ctx.config.max_frame_bytes);
  }

  begin(): void {
    const { socket, ctx } = this;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => {
      this.ended = true;
      this.pump();
    });
    socket.on('error', (err) =>
      ctx.deps.log.debug(
        { event: 'forward_socket_error', peer: this.peer, err: err.message },
        'Forward socket error',
      ),
    );
    socket.once('close', () => {
      clearTimeout(this.handshakeTimer);
      if (this.received === 0) ctx.metrics.heartbeats.inc({ transport: 'tcp' });
    });
    if (ctx.secrets) {
      this.handshake = { nonce: randomBytes(16), authSalt: randomBytes(16) };
      socket.write(encodeHelo(this.handshake));
      this.handshakeTimer = setTimeout(() => {
        if (this.phase !== 'handshake' || this.closing) return;
        this.authFailed('handshake_timeout', `no valid PING within ${ctx.handshakeMs} ms`);
        socket.destroy();
      }, ctx.handshakeMs);
      this.handshakeTimer.unref();
    }
  }

  busy(): boolean {
    return this.pending !== undefined;
  }

  /** Resolves when no consume is pending on this connection. */
  async drain(): Promise<void> {
    while (this.pending) await this.pending.catch(() => undefined);
  }

  private onData(chunk: Buffer): void {
    if (this.closing) return;
    this.received += chunk.length;
    this.ctx.metrics.bytes.inc(chunk.length);
    this.append(chunk);
    this.pump();
  }

  private append(chunk: Buffer): void {
    const live = this.len - this.off;
    if (live + chunk.length > this.buf.length) {
      const size = Math.max(this.buf.length * 2, live + chunk.length, INITIAL_BUFFER);
      const next = Buffer.allocUnsafe(size);
      this.buf.copy(next, 0, this.off, this.len);
      this.buf = next;
      this.rebase(live);
    } else if (this.len + chunk.length > this.buf.length) {
      this.buf.copy(this.buf, 0, this.off, this.len);
      this.rebase(live);
    }
    chunk.copy(this.buf, this.len);
    this.len += chunk.length;
  }

  /** The live bytes moved to offset 0: rescan the current frame from there. */
  private rebase(live: number): void {
    this.off = 0;
    this.len = live;
    this.scanner.reset(0);
  }

  private pump(): void {
    while (!this.pending && !this.closing) {
      if (this.ctx.stopping) {
        this.finish();
        return;
      }
      if (this.off === this.len) {
        if (this.off > 0) this.resetBuffer();
        if (this.ended) {
          this.finish();
          return;
        }
        return;
      }
      if (this.encoding === 'unknown') this.sniff();
      let end: number;
      try {
        end = this.scanner.scan(this.buf, this.len);
      } catch (err) {
        if (!(err instanceof ForwardDecodeError)) throw err;
        this.reject(err);
        return;
      }
      if (end < 0) {
        if (this.ended) {
          if (this.encoding === 'json' && isBlank(this.buf, this.off, this.len)) {
            this.finish();
            return;
          }
          this.reject(
            new ForwardDecodeError(
              'truncated',
              `connection ended inside a request (${this.len - this.off} bytes buffered)`,
              false,
            ),
          );
          return;
        }
        return;
      }
      const start = this.off;
      this.off = end;
      this.scanner.reset(end);
      try {
        if (this.phase === 'handshake') this.onPing(start, end);
        else this.onRequest(start, end);
      } catch (err) {
        // A decoder bug must cost one connection, never the process.
        this.reject(
          new ForwardDecodeError('internal_error', String((err as Error)?.stack ?? err), false),
        );
      }
    }
  }

  private sniff(): void {
    const first = this.buf[this.off];
    // JSON cannot carry the handshake, which is always msgpack.
    if (!this.ctx.secrets && (first === 0x7b || first === 0x5b)) {
      this.encoding = 'json';
      this.scanner = createJsonScanner(this.ctx.config.max_frame_bytes);
    } else {
      this.encoding = 'msgpack';
    }
    this.scanner.reset(this.off);
  }

  private resetBuffer(): void {
    this.off = 0;
    this.len = 0;
    this.scanner.reset(0);
    // Give back the memory of one big request instead of holding it per connection.
    if (this.buf.length > 4 * INITIAL_BUFFER) this.buf = Buffer.allocUnsafe(INITIAL_BUFFER);
  }

  private onPing(start: number, end: number): void {
    const result = checkPing(this.buf, start, end, this.handshake!, this.ctx.secrets!);
    clearTimeout(this.handshakeTimer);
    if (result.ok) {
      this.socket.write(result.pong);
      this.phase = 'established';
      this.authHostname = result.clientHostname;
      this.scanner = createFrameScanner(this.ctx.config.max_frame_bytes);
      this.scanner.reset(this.off);
      return;
    }
    this.authFailed(result.code, result.reason);
    this.closing = true;
    this.socket.end(result.pong);
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  private authFailed(code: string, reason: string): void {
    this.ctx.metrics.authFailures.inc({ reason: code });
    this.ctx.deps.log.warn(
      { event: 'forward_auth_failed', reason: code, detail: reason, peer: this.peer },
      `Forward handshake failed: ${reason}`,
    );
  }

  private onRequest(start: number, end: number): void {
    const { ctx } = this;
    const request =
      this.encoding === 'json'
        ? decodeJsonFrame(this.buf.toString('utf8', start, end), ctx.deps.clock.now())
        : ctx.decode(this.buf, start, end);
    if (request instanceof ForwardDecodeError) {
      this.reject(request);
      return;
    }
    ctx.metrics.requests.inc({ mode: request.kind });
    if (request.kind === 'heartbeat') return;
    for (const [reason, n] of Object.entries(request.invalid)) {
      ctx.metrics.eventsInvalid.inc({ reason }, n);
    }
    if (request.floatTimes > 0)
      ctx.metrics.eventsOffSpec.inc({ reason: 'float_time' }, request.floatTimes);
    if (request.entries.length === 0) {
      this.ack(request.chunk);
      return;
    }
    const origin: Origin = { input: 'forward', tls: this.isTls };
    if (this.peer !== undefined) origin.peerAddress = this.peer;
    if (this.authHostname !== undefined) origin.authHostname = this.authHostname;
    const batch: Batch = { entries: request.entries, origin, receivedAt: ctx.deps.clock.now() };
    const count = batch.entries.length;
    const chunk = request.chunk;
    this.socket.pause();
    this.pending = ctx.downstream.consume(batch).then(
      () => {
        this.pending = undefined;
        ctx.metrics.eventsAccepted.inc(count);
        this.ack(chunk);
        if (this.closing) return;
        this.socket.resume();
        this.pump();
      },
      (err: unknown) => {
        this.pending = undefined;
        ctx.metrics.consumeFailures.inc();
        ctx.deps.log.warn(
          {
            event: 'forward_consume_failed',
            peer: this.peer,
            events: count,
            err: (err as Error)?.message,
          },
          'downstream refused a Forward request; closing without ack so the client retries',
        );
        this.closing = true;
        this.socket.destroy();
      },
    );
  }

  private ack(chunk: Uint8Array | undefined): void {
    if (!chunk || this.socket.destroyed) return;
    const body =
      this.encoding === 'json'
        ? Buffer.concat([Buffer.from('{"ack":'), chunk, Buffer.from('}')])
        : Buffer.concat([ACK_PREFIX, chunk]);
    this.socket.write(body);
    this.ctx.metrics.acks.inc();
  }

  private reject(err: ForwardDecodeError): void {
    this.ctx.metrics.framesRejected.inc({ reason: err.code });
    // A rejection that keeps the connection open can repeat once per byte (a stream of lone
    // integers): log it at most once a second per connection, saying how many were not logged.
    const now = this.ctx.deps.clock.now();
    if (err.canContinue && now - this.lastRejectLogAt < REJECT_LOG_INTERVAL_MS) {
      this.rejectsNotLogged++;
      return;
    }
    this.lastRejectLogAt = now;
    const line: Record<string, unknown> = {
      event: 'forward_frame_rejected',
      reason: err.code,
      detail: err.message,
      peer: this.peer,
    };
    if (this.rejectsNotLogged > 0) line.not_logged_since_last = this.rejectsNotLogged;
    this.rejectsNotLogged = 0;
    this.ctx.deps.log.warn(line, `Forward request rejected: ${err.message}`);
    if (err.canContinue) return;
    this.closing = true;
    this.socket.destroy();
  }

  private finish(): void {
    this.closing = true;
    this.socket.end();
  }
}

function isBlank(buf: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = buf[i];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return false;
  }
  return true;
}
