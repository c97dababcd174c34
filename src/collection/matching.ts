/**
 * The records a filter selects, as a search and a read need them: how
 * many, whether one is in, and their row ids (built when asked).
 */

/** Records selected by filters: how many, membership, and their row ids. */
export interface Matching {
  count: number;
  has(rid: number): boolean;
  rids(): Float64Array;
}

/** A selection of these rids. */
export function setMatching(rids: Float64Array): Matching {
  let set: Set<number> | undefined;
  return { count: rids.length, has: (rid) => (set ??= new Set(rids)).has(rid), rids: () => rids };
}

/** The records in both selections (either, when the other is undefined). */
export function intersect(a: Matching | undefined, b: Matching | undefined): Matching | undefined {
  if (!a || !b) return a ?? b;
  return setMatching(a.rids().filter((r) => b.has(r)));
}
