/**
 * One real `fluent-logger` client per simulated instance, talking the Forward protocol to
 * fleetline with acks on, exactly as an application on a real instance would. Counts what was
 * handed to the client (`sent`), what fleetline acknowledged (`acked`) and what failed.
 */
import fluentLogger from 'fluent-logger';
import type { SimRecord } from './traffic.ts';

export interface AgentOptions {
  host: string;
  port: number;
  sharedKey?: string;
  eventMode?: 'Message' | 'PackedForward' | 'CompressedPackedForward';
}

export interface AgentCounts {
  sent: number;
  acked: number;
  failed: number;
}

export interface Agent {
  readonly instanceId: string;
  send(records: readonly SimRecord[], at: Date): void;
  /** Resolves when every record sent so far was acked or failed (or the timeout passed). */
  drain(timeoutMs: number): Promise<void>;
  close(): void;
}

const quietLogger = { info: () => {}, error: () => {} };

export function createAgent(instanceId: string, opts: AgentOptions, counts: AgentCounts): Agent {
  const sender = fluentLogger.createFluentSender<Record<string, unknown>>('', {
    host: opts.host,
    port: opts.port,
    requireAckResponse: true,
    ackResponseTimeout: 60_000,
    eventMode: opts.eventMode ?? 'PackedForward',
    flushInterval: 100,
    reconnectInterval: 1000,
    timeout: 5,
    internalLogger: quietLogger,
    ...(opts.sharedKey
      ? { security: { clientHostname: instanceId, sharedKey: opts.sharedKey } }
      : {}),
  });
  // Errors are counted per record through callbacks; the emitter needs a listener so that a
  // connection error does not become an unhandled 'error' event.
  (sender as unknown as { on(e: string, f: () => void): void }).on('error', () => {});
  let outstanding = 0;
  let idle: (() => void) | undefined;
  return {
    instanceId,
    send(records, at) {
      for (const r of records) {
        counts.sent++;
        outstanding++;
        sender.emit(r.tag, r.record, at, (err?: Error) => {
          if (err) counts.failed++;
          else counts.acked++;
          outstanding--;
          if (outstanding === 0) idle?.();
        });
      }
    },
    drain(timeoutMs) {
      if (outstanding === 0) return Promise.resolve();
      return new Promise((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        idle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    },
    close() {
      (sender as unknown as { end(l?: string, d?: unknown, cb?: () => void): void }).end();
    },
  };
}
