/**
 * The narrow contract between pipeline stages.
 *
 * A stage hands a batch to the next with `consume(batch)`. Ownership: once called, the batch
 * belongs to the callee; the caller must not read or change it again. The returned promise
 * resolves when the callee has *accepted* the batch: for the spool that means durably
 * committed, so an input may acknowledge its client only after the promise resolves.
 * A rejection is the only failure and back-pressure signal: see `core/errors.ts` for how to
 * tell "retry later" from "never".
 *
 * A consumer may take a long time to resolve while it is full; inputs that read from sockets
 * should stop reading while a consume is pending, which is what gives back-pressure.
 */
import type { Batch } from './entry.ts';

export interface Consumer {
  consume(batch: Batch): Promise<void>;
}

/** Optional capability: inputs that answer at once (HTTP) ask before reading a body. */
export interface CapacityProbe {
  /** True when a consume is expected to be accepted without waiting. */
  hasCapacity(): boolean;
}
