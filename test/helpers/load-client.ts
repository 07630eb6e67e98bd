/**
 * A sustained, acknowledged load through the real `fluent-logger` client: every record carries
 * a unique `seq`; `acked` holds the seqs fleetline acknowledged. Used by the end-to-end,
 * crash and outage tests to check "nothing acknowledged is ever lost".
 */
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
}

export function createLoadClient(opts: LoadClientOptions): LoadClient {
  const instances = opts.instances ?? [
    { instanceId: 'i-0load000000000001', role: 'load', version: '1.0.0' },
  ];
  const senders = instances.map((inst) => {
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
    return { s, inst };
  });
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
        new Date(),
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
      for (const { s } of senders) (s as unknown as { end(): void }).end();
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
