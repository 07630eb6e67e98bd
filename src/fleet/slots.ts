/**
 * Stable per-role slot ordinals (atlas-slotting style).
 *
 * A slot is a small number 0..N-1 that survives instance swaps: a new member takes the slot its
 * predecessor freed (when the caller names one) or the lowest free ordinal, so per-slot series
 * continue across replacements and the number of slot values is bounded by the role's peak
 * size, not by churn. The table holds only the slots of live members; it is rebuilt from the
 * registry on start, so it needs no persistence of its own.
 */

export interface SlotTable {
  /** Takes `preferred` when it is free, else the lowest free ordinal of the role. */
  acquire(role: string, preferred?: number): number;
  /** Frees a slot; freeing a slot that is not held is a no-op. */
  release(role: string, slot: number): void;
  /** Marks a slot as held (used when rebuilding from stored state). */
  claim(role: string, slot: number): void;
  isFree(role: string, slot: number): boolean;
  /** Slots in use, ascending. */
  used(role: string): number[];
}

export function createSlotTable(): SlotTable {
  const byRole = new Map<string, Set<number>>();
  const held = (role: string): Set<number> => {
    let s = byRole.get(role);
    if (!s) {
      s = new Set();
      byRole.set(role, s);
    }
    return s;
  };
  return {
    acquire(role, preferred) {
      const s = held(role);
      // A preferred slot is only honoured below the current size bound; anything else could
      // push the role's slot range beyond its peak membership.
      if (preferred !== undefined && preferred >= 0 && preferred <= s.size && !s.has(preferred)) {
        s.add(preferred);
        return preferred;
      }
      let slot = 0;
      while (s.has(slot)) slot++;
      s.add(slot);
      return slot;
    },
    release(role, slot) {
      byRole.get(role)?.delete(slot);
    },
    claim(role, slot) {
      held(role).add(slot);
    },
    isFree: (role, slot) => !byRole.get(role)?.has(slot),
    used: (role) => [...(byRole.get(role) ?? [])].sort((a, b) => a - b),
  };
}
