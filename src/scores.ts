/**
 * What a search score means, and the one conversion of it. Indexes return
 * what the native core returns (the convention of every layer is written
 * once, in native/core/search_results.h): similarities for `'ip'` and
 * `'cosine'` (higher is nearer), squared Euclidean distances for `'l2'`
 * (lower is nearer). A collection reports each result both ways.
 */
import type { Metric } from './vector-index.js';

/**
 * @internal An index score as Chroma's `distance` (lower is nearer:
 * 1 - similarity for `'ip'` and `'cosine'`, the squared distance for
 * `'l2'`) and the collection's `score` (higher is nearer: the similarity,
 * or minus the squared distance).
 *
 * @example
 * distanceAndScore('cosine', 0.9); // { distance: 0.1 (about), score: 0.9 }
 * distanceAndScore('l2', 4);       // { distance: 4, score: -4 }
 */
export function distanceAndScore(metric: Metric, indexScore: number): { distance: number; score: number } {
  return metric === 'l2' ? { distance: indexScore, score: -indexScore } : { distance: 1 - indexScore, score: indexScore };
}
