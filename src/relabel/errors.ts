/**
 * Errors of the relabel stage. Rules are compiled once at start-up, so the only error is a
 * configuration error: permanent (retrying cannot fix a rule), listing every problem found,
 * each prefixed with its key path (`relabel[2].regex: …`).
 */
import { PermanentError } from '../core/errors.ts';

export class RelabelConfigError extends PermanentError {
  constructor(readonly problems: readonly string[]) {
    super('relabel_config', problems.join('\n'));
  }
}
