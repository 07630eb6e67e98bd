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

interface RoleSlots {
  held: Set<number>;
  /** Free ordinals below `high`, ascending: the lowest free slot is `free[0]` or `high`. */
  free: number[];
  high: number;
}

export function createSlotTable(): SlotTable {
  const byRole = new Map<string, RoleSlots>();
  const of = (role: string): RoleSlots => {
    let r = byRole.get(role);
    if (!r) {
      r = { held: new Set(), free: [], high: 0 };
      byRole.set(role, r);
    }
    return r;
  };
  // Keeps acquire/release O(log n) in the role size: a 10,000-instance first listing must not
  // scan the slots from 0 for every instance.
  const insertFree = (r: RoleSlots, slot: number) => {
    let lo = 0;
    let hi = r.free.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (r.free[mid]! < slot) lo = mid + 1;
      else hi = mid;
    }
    r.free.splice(lo, 0, slot);
  };
  const take = (r: RoleSlots, slot: number) => {
    if (slot >= r.high) {
      for (let s = r.high; s < slot; s++) r.free.push(s);
      r.high = slot + 1;
    } else {
      const i = r.free.indexOf(slot);
      if (i >= 0) r.free.splice(i, 1);
    }
    r.held.add(slot);
  };
  return {
    acquire(role, preferred) {
      const r = of(role);
      // A preferred slot is only honoured below the current size bound; anything else could
      // push the role's slot range beyond its peak membership.
      if (
        preferred !== undefined &&
        preferred >= 0 &&
        preferred <= r.held.size &&
        !r.held.has(preferred)
      ) {
        take(r, preferred);
        return preferred;
      }
      const slot = r.free.length > 0 ? r.free[0]! : r.high;
      take(r, slot);
      return slot;
    },
    release(role, slot) {
      const r = byRole.get(role);
      if (!r?.held.delete(slot)) return;
      insertFree(r, slot);
    },
    claim(role, slot) {
      const r = of(role);
      if (!r.held.has(slot)) take(r, slot);
    },
    isFree: (role, slot) => !byRole.get(role)?.held.has(slot),
    used: (role) => [...(byRole.get(role)?.held ?? [])].sort((a, b) => a - b),
  };
}
