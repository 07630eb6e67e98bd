/**
 * The lifecycle every long-lived part shares.
 *
 * Contract: `start()` is called once; `stop()` is idempotent, safe to call before `start()`
 * (it then does nothing), and flushes whatever the component holds before resolving.
 * `test/core/lifecycle.test.ts` checks the contract for every component in the registry of
 * `test/helpers/components.ts`.
 */
export interface Component {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Wraps start/stop functions so that the contract holds without each component re-implementing
 * the bookkeeping: concurrent `stop()` calls share one promise, and `stop()` before `start()`
 * is a no-op.
 */
export function component(
  name: string,
  hooks: { start: () => Promise<void> | void; stop: () => Promise<void> | void },
): Component {
  let state: 'new' | 'starting' | 'started' | 'stopped' = 'new';
  let starting: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;
  return {
    name,
    async start() {
      if (state !== 'new') throw new Error(`${name}: start() called twice`);
      state = 'starting';
      starting = Promise.resolve(hooks.start());
      await starting;
      state = 'started';
    },
    stop() {
      if (stopping) return stopping;
      if (state === 'new') {
        state = 'stopped';
        stopping = Promise.resolve();
        return stopping;
      }
      stopping = (async () => {
        await starting?.catch(() => undefined);
        state = 'stopped';
        await hooks.stop();
      })();
      return stopping;
    },
  };
}

/**
 * Starts components in order; on failure stops the ones already started, in reverse, and
 * rethrows the start failure. If stopping fails too, the rejection is an AggregateError whose
 * first error (and message) is the start failure: the clean-up's errors must not hide why the
 * service did not start.
 */
export async function startAll(components: readonly Component[]): Promise<void> {
  const started: Component[] = [];
  try {
    for (const c of components) {
      await c.start();
      started.push(c);
    }
  } catch (err) {
    try {
      await stopAll(started);
    } catch (stopErr) {
      const stopErrors = stopErr instanceof AggregateError ? stopErr.errors : [stopErr];
      throw new AggregateError(
        [err, ...stopErrors],
        `start failed: ${err instanceof Error ? err.message : String(err)} (stopping the components already started failed too)`,
      );
    }
    throw err;
  }
}

/** Stops components in reverse order; every stop runs even if an earlier one fails. */
export async function stopAll(components: readonly Component[]): Promise<void> {
  const errors: unknown[] = [];
  for (const c of [...components].reverse()) {
    try {
      await c.stop();
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, 'some components failed to stop');
}
