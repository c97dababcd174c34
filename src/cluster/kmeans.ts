/**
 * k-means clustering on the native batch kernel: Lloyd iterations,
 * multi-threaded, deterministic for a given seed (whatever the thread count).
 */
import { ErrorCode, withCallerStack } from '../errors.js';
import { native, nativeConstants, type KMeansDefaults, type NativeKMeansOptions, type ProgressCallback } from '../native.js';
import { checkDim, checkFixedLength, checkInteger, checkOneOf, describe, fail, orDefault, toVectors, type VectorsInput } from '../validate.js';
import { callerStack } from '../vector-index.js';

/** Options shared by {@link kmeans} and IVF training. */
export interface ClusteringOptions {
  /** Lloyd iterations at most (stops early once no point changes cluster). */
  iterations?: number;
  /** Seed of the initialisation and the training subsample. Default 1234. */
  seed?: number;
  /**
   * Training uses at most k * maxPointsPerCentroid points, a seeded sample
   * (0: all points).
   */
  maxPointsPerCentroid?: number;
  /** `'kmeans++'` (spread-out seeds) or `'random'` (k distinct sampled points). */
  init?: 'kmeans++' | 'random';
  /**
   * Called after each iteration with its number (from 1) and the inertia of
   * the training points. Returning false stops early (the centroids so far
   * are the result). Throwing abandons the run: the call throws (the async
   * twin rejects with) that error and changes nothing. The async twins run
   * it on the main thread and wait for it, so every call has run before
   * their promise settles.
   */
  onProgress?: (iteration: number, inertia: number) => void | boolean;
}

export interface KMeansOptions extends ClusteringOptions {
  /** Number of clusters, 1 to the number of vectors. */
  k: number;
  /** Needed when vectors are one Float32Array; taken from the rows otherwise. */
  dim?: number;
  /**
   * `'l2'` (default): classic k-means on squared distances. `'cosine'`:
   * spherical k-means (points and centroids on the unit sphere).
   */
  metric?: 'l2' | 'cosine';
}

export interface KMeansResult {
  k: number;
  dim: number;
  /** k * dim, row-major. */
  centroids: Float32Array;
  /** Cluster of every input vector. */
  assignments: Uint32Array;
  /** Sum of squared distances of every vector to its centroid (unit vectors for cosine). */
  inertia: number;
  /** Iterations run. */
  iterations: number;
  /** Inertia of the training points after each iteration's assignment; never increases. */
  history: Float64Array;
  /** Points the centroids were trained on (<= k * maxPointsPerCentroid). */
  trainingPoints: number;
}

/**
 * @internal The defaults of {@link kmeans}, read from the native core, where
 * they are defined: `{ iterations: 25, seed: 1234, maxPointsPerCentroid: 256,
 * init: 'kmeans++' }`. IVF training takes the seed from here too.
 */
export const KMEANS_DEFAULTS = nativeConstants().defaults.kmeans;

/** @internal Validates clustering options into the native form. */
export function clusteringOptions(o: ClusteringOptions, defaults: KMeansDefaults): NativeKMeansOptions {
  if (o === null || typeof o !== 'object') {
    fail(ErrorCode.INVALID_ARGUMENT, `options must be an object; received ${describe(o)}`);
  }
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') {
    fail(ErrorCode.INVALID_ARGUMENT, `onProgress must be a function; received ${describe(o.onProgress)}`);
  }
  return {
    iterations: checkInteger(orDefault(o.iterations, defaults.iterations), 'iterations', 1, 1_000_000),
    seed: checkInteger(orDefault(o.seed, KMEANS_DEFAULTS.seed), 'seed', 0, Number.MAX_SAFE_INTEGER),
    maxPointsPerCentroid: checkInteger(
      orDefault(o.maxPointsPerCentroid, defaults.maxPointsPerCentroid),
      'maxPointsPerCentroid',
      0,
      1 << 30,
    ),
    init: checkOneOf(orDefault(o.init, defaults.init), 'init', ['kmeans++', 'random'] as const),
  };
}

/** Thrown into native code in place of an onProgress error: it aborts the run. */
const PROGRESS_FAILED = new Error('onProgress threw');

/**
 * @internal Relays a user progress callback to native code. Returning false
 * stops the iterations early. Throwing aborts the run (native code unwinds
 * without changing anything): `rethrow` then throws the callback's own error,
 * untouched, in place of the native error the abort caused.
 */
export function progressRelay(fn: ClusteringOptions['onProgress']): {
  callback?: ProgressCallback;
  rethrow(err: unknown): never;
} {
  let thrown: { value: unknown } | undefined;
  return {
    callback:
      fn &&
      ((iteration, inertia) => {
        try {
          return fn(iteration, inertia);
        } catch (err) {
          thrown = { value: err };
          throw PROGRESS_FAILED;
        }
      }),
    rethrow(err: unknown): never {
      throw thrown ? thrown.value : err;
    },
  };
}

function prepare(vectors: VectorsInput, options: KMeansOptions): [Float32Array, number, NativeKMeansOptions] {
  if (options === null || typeof options !== 'object') {
    fail(ErrorCode.INVALID_ARGUMENT, `kmeans options must be an object like { k: 8 }; received ${describe(options)}`);
  }
  let dim = options.dim;
  if (dim === undefined) {
    if (Array.isArray(vectors) && vectors.length > 0) dim = (vectors[0] as ArrayLike<number>).length;
    else if (vectors instanceof Float32Array) {
      fail(ErrorCode.INVALID_ARGUMENT, 'dim is required when vectors are one Float32Array');
    }
  }
  if (Array.isArray(vectors) && vectors.length === 0) {
    fail(ErrorCode.INVALID_ARGUMENT, 'vectors must hold at least one vector; received none');
  }
  const d = checkDim(dim);
  const x = toVectors(vectors, d, 'vectors');
  const n = x.length / d;
  const k = options.k;
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > n) {
    fail(ErrorCode.INVALID_ARGUMENT, `k must be an integer from 1 to the number of vectors (${n}); received ${describe(k)}`);
  }
  const metric = checkOneOf(orDefault(options.metric, 'l2'), 'metric', ['l2', 'cosine'] as const);
  return [x, d, { ...clusteringOptions(options, KMEANS_DEFAULTS), k, spherical: metric === 'cosine' }];
}

function result(r: { centroids: Float32Array; assignments: Uint32Array; inertia: number; iterations: number; history: Float64Array; trainingPoints: number }, k: number, dim: number): KMeansResult {
  return { k, dim, ...r };
}

/**
 * Clusters vectors into k groups.
 *
 * @example
 * const { assignments, centroids } = kmeans(vectors, { k: 3, dim: 384, seed: 7 });
 */
export function kmeans(vectors: VectorsInput, options: KMeansOptions): KMeansResult {
  const [x, dim, o] = prepare(vectors, options);
  const progress = progressRelay(options.onProgress);
  try {
    return result(native().kmeans(x, dim, o, progress.callback), o.k as number, dim);
  } catch (err) {
    return progress.rethrow(err);
  }
}

/**
 * {@link kmeans} on a worker thread. onProgress runs on the main thread after
 * each iteration while the worker waits for it, so every call has run
 * before the promise settles; returning false stops early and throwing
 * rejects the promise with that error, as in {@link kmeans}.
 *
 * @example
 * const clusters = await kmeansAsync(vectors, { k: 100, dim: 384, onProgress: (i, e) => console.log(i, e) });
 */
export async function kmeansAsync(vectors: VectorsInput, options: KMeansOptions): Promise<KMeansResult> {
  const caller = callerStack(kmeansAsync);
  const [x, dim, o] = prepare(vectors, options);
  checkFixedLength(x, 'vectors');
  const progress = progressRelay(options.onProgress);
  const r = await withCallerStack(native().kmeansAsync(x, dim, o, progress.callback), caller).catch(progress.rethrow);
  return result(r, o.k as number, dim);
}
