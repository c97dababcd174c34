/** Measuring approximate search against exact search. */
import { ErrorCode } from '../errors.js';
import { checkK, describe, fail } from '../validate.js';

/** Ids of one query's results, best first (a SearchResult or a plain id list). */
export type ResultIds = { ids: ArrayLike<number> } | ArrayLike<number>;

/** @internal The ids of one result (also used by the benchmarks' recall with ties). */
export function idsOf(r: ResultIds): ArrayLike<number> {
  return 'ids' in (r as object) ? (r as { ids: ArrayLike<number> }).ids : (r as ArrayLike<number>);
}

/**
 * recall@k: the fraction of the exact top-k that the approximate top-k
 * found, averaged over queries. Queries whose exact result has fewer than k
 * ids count against what they have. Accepts one result or a batch.
 *
 * @example
 * const exact = flat.searchBatch(queries, 10);
 * const approx = ivf.searchBatch(queries, 10, { nprobe: 16 });
 * console.log(recallAtK(approx, exact, 10)); // e.g. 0.97
 */
export function recallAtK(approx: ResultIds | ResultIds[], exact: ResultIds | ResultIds[], k: number): number {
  checkK(k);
  const a = Array.isArray(approx) && typeof approx[0] === 'object' ? (approx as ResultIds[]) : [approx as ResultIds];
  const e = Array.isArray(exact) && typeof exact[0] === 'object' ? (exact as ResultIds[]) : [exact as ResultIds];
  if (a.length !== e.length) {
    fail(ErrorCode.INVALID_ARGUMENT, `approx and exact must hold the same number of queries; received ${a.length} and ${e.length}`);
  }
  let found = 0;
  let wanted = 0;
  for (let q = 0; q < e.length; q++) {
    const ei = idsOf(e[q] as ResultIds);
    const ai = idsOf(a[q] as ResultIds);
    if (ei === undefined || ai === undefined || typeof ei.length !== 'number') {
      fail(ErrorCode.INVALID_ARGUMENT, `query ${q}: expected results with ids; received ${describe(e[q])}`);
    }
    const truth = new Set<number>();
    for (let j = 0; j < Math.min(k, ei.length); j++) truth.add(ei[j] as number);
    wanted += truth.size;
    for (let j = 0; j < Math.min(k, ai.length); j++) if (truth.has(ai[j] as number)) found++;
  }
  return wanted === 0 ? 1 : found / wanted;
}
