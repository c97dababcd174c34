/** Helpers over sets of vectors stored as one row-major Float32Array. */
import { native } from './native.js';
import { checkDim, toVectors, type VectorsInput } from './validate.js';

/**
 * Scales every vector to unit L2 norm and returns the result as a new
 * Float32Array (n * dim). A zero vector stays all zeros (it has no
 * direction) instead of becoming NaN.
 *
 * @example
 * const unit = normalize([[3, 4]], 2); // Float32Array [0.6, 0.8]
 */
export function normalize(vectors: VectorsInput, dim: number): Float32Array {
  checkDim(dim);
  const x = toVectors(vectors, dim, 'vectors', true);
  const out = new Float32Array(x.length);
  if (x.length > 0) native().normalize(x, dim, out);
  return out;
}

/** Normalises vectors in place (see {@link normalize}); returns how many were zero. */
export function normalizeInPlace(vectors: Float32Array, dim: number): number {
  checkDim(dim);
  const x = toVectors(vectors, dim, 'vectors', true);
  return x.length > 0 ? native().normalize(x, dim, x) : 0;
}

/**
 * Row i of a row-major set, as a view (no copy).
 *
 * @example
 * const second = row(vectors, 384, 1);
 */
export function row(vectors: Float32Array, dim: number, i: number): Float32Array {
  return vectors.subarray(i * dim, (i + 1) * dim);
}
