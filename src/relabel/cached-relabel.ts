/**
 * `relabel()` with results remembered per label-set object. Fleet labels come from the
 * registry, which hands out the same label object for every record of an instance, so one
 * instance's records repeat the same computation; this turns it into a WeakMap lookup.
 *
 * Only *frozen* inputs are cached: identity is a safe key only for an object nobody can change.
 * Unfrozen inputs are relabelled every time (correct, just not cached). Results are frozen
 * too (a cached result is shared by every caller). The WeakMap lets label sets of terminated
 * instances be collected with them, so there is no size limit to tune.
 */
import type { Labels } from '../core/entry.ts';
import { relabel } from './relabel.ts';
import type { CompiledRule } from './rules.ts';

export type Relabeler = (labels: Labels) => Labels | null;

export function createCachedRelabel(rules: readonly CompiledRule[]): Relabeler {
  const cache = new WeakMap<Labels, Labels | null>();
  return (labels) => {
    if (!Object.isFrozen(labels)) return relabel(labels, rules);
    const hit = cache.get(labels);
    if (hit !== undefined) return hit;
    const out = relabel(labels, rules);
    const frozen = out === null || out === labels ? out : Object.freeze(out);
    cache.set(labels, frozen);
    return frozen;
  };
}
