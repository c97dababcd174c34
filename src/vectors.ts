/**
 * Helpers over vectors stored as one row-major Float32Array: normalising,
 * row views, and pairwise similarity (one pair, or every pair of two sets
 * on the native batch kernel).
 */
import { ErrorCode } from './errors.js';
import { native, nativeConstants } from './native.js';
import { checkDim, checkOneOf, describe, fail, orDefault, toVector, toVectors, type VectorInput, type VectorsInput } from './validate.js';
import { METRICS, type Metric } from './vector-index.js';

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

/**
 * Cosine similarity of two vectors of the same length, in [-1, 1]; 0 when
 * either is all zeros.
 *
 * @example
 * cosineSimilarity([1, 0], [1, 1]); // 0.7071
 */
export function cosineSimilarity(a: VectorInput, b: VectorInput): number {
  const len = (a as ArrayLike<number> | null)?.length;
  if (typeof len !== 'number') fail(ErrorCode.INVALID_ARGUMENT, `a must be an array of numbers; received ${describe(a)}`);
  const x = toVector(a, len, 'a');
  const y = toVector(b, len, 'b');
  let dot = 0;
  let xx = 0;
  let yy = 0;
  for (let i = 0; i < len; i++) {
    const xi = x[i] as number;
    const yi = y[i] as number;
    dot += xi * yi;
    xx += xi * xi;
    yy += yi * yi;
  }
  return xx === 0 || yy === 0 ? 0 : dot / Math.sqrt(xx * yy);
}

export interface SimilarityMatrixOptions {
  /** Needed when the inputs are flat Float32Arrays; taken from the rows otherwise. */
  dim?: number;
  /** `'cosine'` (default), `'ip'` (inner products) or `'l2'` (squared distances). */
  metric?: Metric;
}

/**
 * The similarity of every row of A with every row of B, as one Float32Array
 * of rows(A) * rows(B) values: entry [i * rows(B) + j] compares A[i] with
 * B[j]. Computed by the native batch kernel. A Float32Array holds at most
 * 2^32 - 1 values: a larger product is ERR_INVALID_ARGUMENT (split A into
 * batches of rows); memory that cannot be allocated is ERR_OUT_OF_MEMORY.
 *
 * @example
 * const m = similarityMatrix(embeddings, embeddings, { dim: 384 });
 * const sim01 = m[0 * n + 1];
 */
export function similarityMatrix(a: VectorsInput, b: VectorsInput, options: SimilarityMatrixOptions = {}): Float32Array {
  if (options === null || typeof options !== 'object') {
    fail(ErrorCode.INVALID_ARGUMENT, `options must be an object; received ${describe(options)}`);
  }
  let dim = options.dim;
  if (dim === undefined) {
    const first = (Array.isArray(a) ? a[0] : undefined) ?? (Array.isArray(b) ? b[0] : undefined);
    if (first === undefined) fail(ErrorCode.INVALID_ARGUMENT, 'dim is required when the inputs are flat Float32Arrays or empty');
    dim = (first as ArrayLike<number>).length;
  }
  const d = checkDim(dim);
  const metric = checkOneOf(orDefault(options.metric, 'cosine'), 'metric', METRICS);
  const x = toVectors(a, d, 'a', true);
  const y = toVectors(b, d, 'b', true);
  if (x.length === 0 || y.length === 0) return new Float32Array(0);
  const na = x.length / d;
  const nb = y.length / d;
  const max = nativeConstants().limits.maxArrayLength;
  if (na * nb > max) {
    fail(
      ErrorCode.INVALID_ARGUMENT,
      `a similarity matrix of ${na} x ${nb} = ${na * nb} values is more than a Float32Array holds (${max}); ` +
        `split a into batches of at most ${Math.floor(max / nb)} rows`,
    );
  }
  return native().similarityMatrix(x, y, d, metric);
}
