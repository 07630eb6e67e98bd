/**
 * A sustained, acknowledged load through the real `fluent-logger` client: every record carries
 * a unique `seq`; `acked` holds the seqs fleetline acknowledged. Used by the end-to-end,
 * crash and outage tests to check "nothing acknowledged is ever lost".
 *
 * `client: 'forward-socket'` sends the same Forward PackedForward requests (integer-second
 * times, chunk id, ack) over a plain socket instead. The crash test needs it: fluent-logger
 * 3.4.1 throws an uncaught TypeError when the server dies under a write (its write callback
 * calls `this._socket.once` after the socket was already set to null), which fails the test
 * run from outside the test.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { decode, encode } from '@msgpack/msgpack';
import fluentLogger from 'fluent-logger';

export interface LoadClient {
  acked: Set<number>;
  failed: Set<number>;
  sent(): number;
  /** Starts sending `perTick` records every `tickMs` until stop(). */
  start(): void;
  stop(): Promise<void>;
  /** Sends `n` records now. */
  send(n: number): void;
  /** Resolves when every record sent so far was acked or failed. */
  settle(timeoutMs?: number): Promise<void>;
}

export interface LoadClientOptions {
  port: number;
  tag?: string;
  instances?: { instanceId: string; role: string; version: string }[];
  perTick?: number;
  tickMs?: number;
  eventMode?: 'Message' | 'PackedForward' | 'CompressedPackedForward';
  ackTimeoutMs?: number;
  /** Default `fluent-logger`; see the file comment for `forward-socket`. */
  client?: 'fluent-logger' | 'forward-socket';
}

/** What `send` needs from one sender: queue a record, be told acked (no error) or failed. */
interface Sender {
  emit(tag: string, record: Record<string, unknown>, done: (err?: Error) => void): void;
  end(): void;
}

export function createLoadClient(opts: LoadClientOptions): LoadClient {
  const instances = opts.instances ?? [
    { instanceId: 'i-0load000000000001', role: 'load', version: '1.0.0' },
  ];
  const senders = instances.map((inst) => ({
    s: opts.client === 'forward-socket' ? forwardSocketSender(opts) : fluentLoggerSender(opts),
    inst,
  }));
  const acked = new Set<number>();
  const failed = new Set<number>();
  let seq = 0;
  let outstanding = 0;
  let timer: NodeJS.Timeout | undefined;
  const waiters: (() => void)[] = [];
  const send = (n: number) => {
    for (let i = 0; i < n; i++) {
      const mySeq = seq++;
      const { s, inst } = senders[mySeq % senders.length]!;
      outstanding++;
      s.emit(
        opts.tag ?? 'load.test',
        {
          seq: mySeq,
          instance_id: inst.instanceId,
          role: inst.role,
          version: inst.version,
          level: mySeq % 10 === 0 ? 'error' : 'info',
          status: mySeq % 20 === 0 ? 503 : 200,
          reqtime: 0.01 + (mySeq % 100) / 1000,
          message: `record ${mySeq}`,
        },
        (err?: Error) => {
          (err ? failed : acked).add(mySeq);
          outstanding--;
          if (outstanding === 0) for (const w of waiters.splice(0)) w();
        },
      );
    }
  };
  return {
    acked,
    failed,
    sent: () => seq,
    send,
    start() {
      timer = setInterval(() => send(opts.perTick ?? 50), opts.tickMs ?? 20);
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await this.settle();
      for (const { s } of senders) s.end();
    },
    settle(timeoutMs = 30_000) {
      if (outstanding === 0) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(
          () => reject(new Error(`${outstanding} records neither acked nor failed`)),
          timeoutMs,
        );
        waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    },
  };
}

function fluentLoggerSender(opts: LoadClientOptions): Sender {
  const s = fluentLogger.createFluentSender<Record<string, unknown>>('', {
    host: '127.0.0.1',
    port: opts.port,
    requireAckResponse: true,
    ackResponseTimeout: opts.ackTimeoutMs ?? 5000,
    eventMode: opts.eventMode ?? 'PackedForward',
    flushInterval: 20,
    reconnectInterval: 200,
    timeout: 2,
    internalLogger: { info: () => {}, error: () => {} },
  });
  (s as unknown as { on(e: string, f: () => void): void }).on('error', () => {});
  return {
    emit: (tag, record, done) => s.emit(tag, record, new Date(), done),
    end: () => (s as unknown as { end(): void }).end(),
  };
}

/**
 * One connection, one PackedForward request in flight: records queue while a request waits for
 * its ack; every 20 ms the queue goes out as the next request. A request whose ack does not come
 * (timeout, connection lost) fails its records, as fluent-logger does; the connection is then
 * re-made and the queue carries on.
 */
function forwardSocketSender(opts: LoadClientOptions): Sender {
  const ackTimeoutMs = opts.ackTimeoutMs ?? 5000;
  let queue: { tag: string; bytes: Uint8Array; done: (err?: Error) => void }[] = [];
  let inFlight:
    | { chunk: string; done: ((err?: Error) => void)[]; timer: NodeJS.Timeout }
    | undefined;
  let socket: net.Socket | undefined;
  let connected = false;
  let ended = false;
  let received = Buffer.alloc(0);

  const failInFlight = (why: string) => {
    const f = inFlight;
    inFlight = undefined;
    if (!f) return;
    clearTimeout(f.timer);
    const err = new Error(why);
    for (const done of f.done) done(err);
  };
  const connect = () => {
    if (ended) return;
    const s = net.connect({ host: '127.0.0.1', port: opts.port });
    socket = s;
    received = Buffer.alloc(0);
    s.on('connect', () => {
      connected = true;
      flush();
    });
    s.on('data', (data: Buffer) => {
      received = Buffer.concat([received, data]);
      let ack: unknown;
      try {
        ack = decode(received);
      } catch {
        return; // more bytes to come
      }
      received = Buffer.alloc(0);
      const f = inFlight;
      if (!f || (ack as { ack?: string })?.ack !== f.chunk) {
        s.destroy();
        return;
      }
      inFlight = undefined;
      clearTimeout(f.timer);
      for (const done of f.done) done();
      flush();
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      connected = false;
      failInFlight('connection closed before the ack');
      if (!ended) setTimeout(connect, 200).unref();
    });
  };
  const flush = () => {
    if (!connected || inFlight || queue.length === 0 || !socket) return;
    // One request per tag, as fluent-logger's send queue does.
    const tag = queue[0]!.tag;
    const batch = queue.filter((q) => q.tag === tag);
    queue = queue.filter((q) => q.tag !== tag);
    const entries = Buffer.concat(batch.map((q) => q.bytes));
    const chunk = randomBytes(16).toString('base64');
    const s = socket;
    inFlight = {
      chunk,
      done: batch.map((q) => q.done),
      timer: setTimeout(() => {
        failInFlight(`no ack within ${ackTimeoutMs} ms`);
        s.destroy();
      }, ackTimeoutMs),
    };
    s.write(encode([tag, entries, { chunk, size: batch.length }]));
  };
  const ticker = setInterval(flush, 20);
  connect();
  return {
    emit(tag, record, done) {
      const time = Math.floor(Date.now() / 1000);
      queue.push({ tag, bytes: encode([time, record]), done });
    },
    end() {
      ended = true;
      clearInterval(ticker);
      for (const q of queue.splice(0)) q.done(new Error('sender ended'));
      failInFlight('sender ended');
      socket?.destroy();
    },
  };
}
