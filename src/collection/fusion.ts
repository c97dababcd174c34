/**
 * Fusion of ranked lists (hybrid search): reciprocal rank fusion, which
 * uses only ranks (score = sum over lists of 1 / (k + rank)), or a weighted
 * sum of each list's scores scaled to [0, 1] over that list (min-max).
 */
import { ErrorCode } from '../errors.js';
import { describe, fail } from '../validate.js';
import { isPlainObject } from './metadata.js';

/**
 * How hybrid search merges its keyword and vector rankings:
 * `{ method: 'rrf', k }` (default; k = 60) or
 * `{ method: 'weighted', alpha }`: alpha times the vector score plus
 * 1 - alpha times the keyword score, each scaled to [0, 1] over its
 * candidates (default alpha 0.5).
 */
export type Fusion = { method: 'rrf'; k?: number } | { method: 'weighted'; alpha?: number };

/** A checked fusion. */
export type FusionSpec = { method: 'rrf'; k: number } | { method: 'weighted'; alpha: number };

export const DEFAULT_RRF_K = 60;

/** The fusion option, checked. */
export function checkFusion(value: unknown): FusionSpec {
  if (value === undefined) return { method: 'rrf', k: DEFAULT_RRF_K };
  if (!isPlainObject(value)) fail(ErrorCode.INVALID_ARGUMENT, `fusion must be an object like { method: 'rrf', k: 60 } or { method: 'weighted', alpha: 0.5 }; received ${describe(value)}`);
  const method = value.method;
  const keys = Object.keys(value);
  if (method === 'rrf') {
    const extra = keys.find((k) => k !== 'method' && k !== 'k');
    if (extra !== undefined) fail(ErrorCode.INVALID_ARGUMENT, `fusion: unknown key ${JSON.stringify(extra)} for method 'rrf' (it takes k)`);
    const k = value.k ?? DEFAULT_RRF_K;
    if (typeof k !== 'number' || !Number.isFinite(k) || k < 0) fail(ErrorCode.INVALID_ARGUMENT, `fusion.k must be a finite number >= 0; received ${describe(k)}`);
    return { method, k };
  }
  if (method === 'weighted') {
    const extra = keys.find((k) => k !== 'method' && k !== 'alpha');
    if (extra !== undefined) fail(ErrorCode.INVALID_ARGUMENT, `fusion: unknown key ${JSON.stringify(extra)} for method 'weighted' (it takes alpha)`);
    const alpha = value.alpha ?? 0.5;
    if (typeof alpha !== 'number' || !(alpha >= 0 && alpha <= 1)) fail(ErrorCode.INVALID_ARGUMENT, `fusion.alpha must be a number in [0, 1]; received ${describe(alpha)}`);
    return { method, alpha };
  }
  return fail(ErrorCode.INVALID_ARGUMENT, `fusion.method must be 'rrf' or 'weighted'; received ${describe(method)}`);
}

/** One ranked list: ids best first, with their scores (higher better). */
export interface Ranking {
  ids: readonly number[];
  scores: readonly number[];
}

/** A fused result: the id, its fused score, and its place and score in each list (absent if not in it). */
export interface Fused {
  id: number;
  score: number;
  vector?: { rank: number; score: number };
  keyword?: { rank: number; score: number };
}

/** Scales scores to [0, 1] (all 1 when they are equal). */
function minMax(scores: readonly number[]): number[] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of scores) {
    lo = Math.min(lo, s);
    hi = Math.max(hi, s);
  }
  return scores.map((s) => (hi > lo ? (s - lo) / (hi - lo) : 1));
}

/** Fuses a vector and a keyword ranking; best first, ties broken by the lower id. */
export function fuse(vector: Ranking, keyword: Ranking, spec: FusionSpec): Fused[] {
  const out = new Map<number, Fused>();
  const entry = (id: number) => {
    let f = out.get(id);
    if (!f) out.set(id, (f = { id, score: 0 }));
    return f;
  };
  const vScaled = spec.method === 'weighted' ? minMax(vector.scores) : [];
  const kScaled = spec.method === 'weighted' ? minMax(keyword.scores) : [];
  vector.ids.forEach((id, i) => {
    const f = entry(id);
    f.vector = { rank: i + 1, score: vector.scores[i] as number };
    f.score += spec.method === 'rrf' ? 1 / (spec.k + i + 1) : spec.alpha * (vScaled[i] as number);
  });
  keyword.ids.forEach((id, i) => {
    const f = entry(id);
    f.keyword = { rank: i + 1, score: keyword.scores[i] as number };
    f.score += spec.method === 'rrf' ? 1 / (spec.k + i + 1) : (1 - spec.alpha) * (kScaled[i] as number);
  });
  return [...out.values()].sort((a, b) => b.score - a.score || a.id - b.id);
}
