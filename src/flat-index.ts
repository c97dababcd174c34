/**
 * Exact nearest-neighbour search: every query is compared with every stored
 * vector by the native SIMD kernels, so results are exact. Also the ground
 * truth that approximate indexes are measured against.
 */
import { ErrorCode, withCallerStack } from './errors.js';
import { native, type NativeFlatIndex, type NativeSearchResults } from './native.js';
import {
  checkDim,
  checkK,
  checkOneOf,
  checkPath,
  describe,
  fail,
  toIds,
  toVector,
  toVectors,
  type IdsInput,
  type VectorInput,
  type VectorsInput,
} from './validate.js';

/**
 * How vectors are compared.
 * - `'ip'`: inner product; higher is nearer.
 * - `'cosine'`: cosine similarity; stored and query vectors are normalised.
 * - `'l2'`: squared Euclidean distance; lower is nearer.
 */
export type Metric = 'ip' | 'cosine' | 'l2';

export const METRICS: readonly Metric[] = ['ip', 'cosine', 'l2'];

export interface FlatIndexOptions {
  /** Vector dimension, 1 to 65536. */
  dim: number;
  /** Comparison; default `'cosine'`. */
  metric?: Metric;
}

/**
 * The results of one query, best first: `ids[i]` scored `scores[i]`.
 * Scores are similarities for `'ip'` and `'cosine'` (descending) and squared
 * distances for `'l2'` (ascending). Never padded: there are min(k, size)
 * results.
 */
export interface SearchResult {
  ids: Float64Array;
  scores: Float32Array;
}

const NATIVE = Symbol('native');

/** @internal Splits flat native results into per-query views (no copies). */
export function splitResults(r: NativeSearchResults): SearchResult[] {
  const out: SearchResult[] = new Array(r.nq);
  for (let i = 0; i < r.nq; i++) {
    out[i] = {
      ids: r.ids.subarray(i * r.k, (i + 1) * r.k),
      scores: r.scores.subarray(i * r.k, (i + 1) * r.k),
    };
  }
  return out;
}

function firstResult(r: NativeSearchResults): SearchResult {
  return { ids: r.ids, scores: r.scores };
}

/**
 * An exact inner-product / cosine / L2 index.
 *
 * Thread safety: searches run concurrently with each other; adds and removes
 * wait for running searches (a readers-writer lock guards the index). Do not
 * modify a Float32Array passed to an async method until its promise settles:
 * it is read in place, without a copy.
 *
 * @example
 * const index = new FlatIndex({ dim: 3, metric: 'cosine' });
 * index.add([[1, 0, 0], [0, 1, 0]]);
 * const { ids, scores } = index.search([1, 0.1, 0], 1); // ids[0] === 0
 */
export class FlatIndex {
  readonly #native: NativeFlatIndex;
  /** Vector dimension. */
  readonly dim: number;
  /** Comparison used by this index. */
  readonly metric: Metric;

  constructor(options: FlatIndexOptions);
  /** @internal */
  constructor(options: { [NATIVE]: NativeFlatIndex });
  constructor(options: FlatIndexOptions | { [NATIVE]: NativeFlatIndex }) {
    if (options === null || typeof options !== 'object') {
      fail(ErrorCode.INVALID_ARGUMENT, `FlatIndex options must be an object like { dim: 384 }; received ${describe(options)}`);
    }
    if (NATIVE in options) {
      this.#native = options[NATIVE];
    } else {
      const dim = checkDim(options.dim);
      const metric = checkOneOf(options.metric ?? 'cosine', 'metric', METRICS);
      this.#native = new (native().FlatIndex)(dim, metric);
    }
    const info = this.#native.info();
    this.dim = info.dim;
    this.metric = info.metric;
  }

  /** Number of stored vectors. */
  get size(): number {
    return this.#native.info().size;
  }

  /** The id the next add without explicit ids starts from (largest id ever added + 1). */
  get nextId(): number {
    return this.#native.info().nextId;
  }

  /** Bytes of memory held by the index (vectors, ids and lookup table). */
  memoryUsage(): number {
    return this.#native.info().memoryUsage;
  }

  #prepareAdd(vectors: VectorsInput, ids?: IdsInput): [Float32Array, Float64Array | undefined] {
    const x = toVectors(vectors, this.dim, 'vectors');
    const n = x.length / this.dim;
    return [x, ids === undefined ? undefined : toIds(ids, n)];
  }

  /**
   * Adds vectors: one Float32Array of n * dim values (read in place, no copy)
   * or an array of rows. Ids are non-negative safe integers, unique in the
   * index; without them ids continue from {@link nextId}. All or nothing: on
   * any error (a duplicate id, NaN, a wrong dimension) nothing is added.
   *
   * @example
   * index.add(new Float32Array(2 * 384), [10, 11]);
   */
  add(vectors: VectorsInput, ids?: IdsInput): void {
    const [x, i] = this.#prepareAdd(vectors, ids);
    this.#native.add(x, i);
  }

  /**
   * {@link add} on a worker thread: the event loop stays free while
   * vectors are copied into the index.
   *
   * @example
   * await index.addAsync(vectors);
   */
  addAsync(vectors: VectorsInput, ids?: IdsInput): Promise<void> {
    const caller: { stack?: string } = {};
    Error.captureStackTrace(caller, this.addAsync);
    const [x, i] = this.#prepareAdd(vectors, ids);
    return withCallerStack(this.#native.addAsync(x, i), caller);
  }

  /**
   * The k stored vectors nearest to `query`, best first.
   *
   * @example
   * const { ids, scores } = index.search(query, 10);
   */
  search(query: VectorInput, k: number): SearchResult {
    return firstResult(this.#native.search(toVector(query, this.dim), checkK(k)));
  }

  /** {@link search} on a worker thread. */
  searchAsync(query: VectorInput, k: number): Promise<SearchResult> {
    const caller: { stack?: string } = {};
    Error.captureStackTrace(caller, this.searchAsync);
    const q = toVector(query, this.dim);
    return withCallerStack(this.#native.searchAsync(q, checkK(k)), caller).then(firstResult);
  }

  /**
   * Searches many queries at once (Float32Array of nq * dim, or rows). Much
   * faster per query than a loop of {@link search}: the stored vectors are
   * read once per batch and scored with a register-tiled kernel.
   *
   * @example
   * const results = index.searchBatch(queries, 10); // results[i].ids
   */
  searchBatch(queries: VectorsInput, k: number): SearchResult[] {
    const q = toVectors(queries, this.dim, 'queries', true);
    return splitResults(this.#native.search(q, checkK(k)));
  }

  /** {@link searchBatch} on a worker thread. */
  searchBatchAsync(queries: VectorsInput, k: number): Promise<SearchResult[]> {
    const caller: { stack?: string } = {};
    Error.captureStackTrace(caller, this.searchBatchAsync);
    const q = toVectors(queries, this.dim, 'queries', true);
    return withCallerStack(this.#native.searchAsync(q, checkK(k)), caller).then(splitResults);
  }

  /**
   * Removes vectors by id and returns how many were removed. All or nothing:
   * if any id is absent, throws ERR_NOT_FOUND and removes none.
   *
   * @example
   * index.remove([10, 11]);
   */
  remove(ids: IdsInput): number {
    return this.#native.remove(toIds(ids, undefined));
  }

  /** Whether `id` is stored. */
  has(id: number): boolean {
    return typeof id === 'number' && this.#native.contains(id);
  }

  /**
   * A copy of the stored vector of `id` (normalised, for `'cosine'`).
   * Throws ERR_NOT_FOUND if absent.
   */
  getVector(id: number): Float32Array {
    const [i] = toIds([id], 1, 'id');
    return this.#native.get(i as number);
  }

  /**
   * Writes the index to `path` atomically (temporary file, fsync, rename):
   * a crash leaves the old file or the new one, never a mix. The file is
   * versioned and checksummed (CRC-32C).
   *
   * @example
   * index.save('vectors.svx');
   */
  save(path: string): void {
    this.#native.save(checkPath(path));
  }

  /** {@link save} on a worker thread. */
  saveAsync(path: string): Promise<void> {
    const caller: { stack?: string } = {};
    Error.captureStackTrace(caller, this.saveAsync);
    return withCallerStack(this.#native.saveAsync(checkPath(path)), caller);
  }

  /** The index in the file format, as a Buffer. */
  toBuffer(): Buffer {
    return this.#native.serialize();
  }

  /**
   * Loads an index saved with {@link save}. Throws ERR_NOT_FOUND,
   * ERR_CORRUPT_FILE (truncated, checksum mismatch, bad fields),
   * ERR_UNSUPPORTED_VERSION or ERR_WRONG_INDEX_KIND.
   *
   * @example
   * const index = FlatIndex.load('vectors.svx');
   */
  static load(path: string): FlatIndex {
    return new FlatIndex({ [NATIVE]: native().FlatIndex.load(checkPath(path)) });
  }

  /** {@link load} on a worker thread. */
  static async loadAsync(path: string): Promise<FlatIndex> {
    const caller: { stack?: string } = {};
    Error.captureStackTrace(caller, FlatIndex.loadAsync);
    const n = await withCallerStack(native().FlatIndex.loadAsync(checkPath(path)), caller);
    return new FlatIndex({ [NATIVE]: n });
  }

  /** Reads an index from {@link toBuffer}'s output. */
  static fromBuffer(buffer: Uint8Array): FlatIndex {
    if (!(buffer instanceof Uint8Array)) {
      fail(ErrorCode.INVALID_ARGUMENT, `buffer must be a Buffer or Uint8Array; received ${describe(buffer)}`);
    }
    return new FlatIndex({ [NATIVE]: native().FlatIndex.deserialize(buffer) });
  }
}
