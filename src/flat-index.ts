/**
 * Exact nearest-neighbour search: every query is compared with every stored
 * vector by the native SIMD kernels, so results are exact. Also the ground
 * truth that approximate indexes are measured against.
 */
import { ErrorCode, withCallerStack } from './errors.js';
import { native, type NativeFlatIndex } from './native.js';
import { checkDim, checkFixedLength, checkK, checkOneOf, checkPath, describe, fail, orDefault, toVector, toVectors } from './validate.js';
import type { VectorInput, VectorsInput } from './validate.js';
import {
  allowList,
  callerStack,
  firstResult,
  METRICS,
  nativeFromBuffer,
  nativeLoadAsync,
  nativeOpen,
  nativeOpenAsync,
  splitResults,
  VectorIndex,
  type Metric,
  type OpenIndexOptions,
  type SearchOptions,
  type SearchResult,
} from './vector-index.js';

export interface FlatIndexOptions {
  /** Vector dimension, 1 to 65536. */
  dim: number;
  /** Comparison; default `'cosine'`. */
  metric?: Metric;
}

const NATIVE = Symbol('native');

/**
 * An exact inner-product / cosine / L2 index.
 *
 * @example
 * const index = new FlatIndex({ dim: 3, metric: 'cosine' });
 * index.add([[1, 0, 0], [0, 1, 0]]);
 * const { ids, scores } = index.search([1, 0.1, 0], 1); // ids[0] === 0
 */
export class FlatIndex extends VectorIndex<NativeFlatIndex> {
  constructor(options: FlatIndexOptions);
  /** @internal */
  constructor(options: { [NATIVE]: NativeFlatIndex });
  constructor(options: FlatIndexOptions | { [NATIVE]: NativeFlatIndex }) {
    if (options === null || typeof options !== 'object') {
      fail(ErrorCode.INVALID_ARGUMENT, `FlatIndex options must be an object like { dim: 384 }; received ${describe(options)}`);
    }
    if (NATIVE in options) {
      super(options[NATIVE]);
    } else {
      const dim = checkDim(options.dim);
      const metric = checkOneOf(orDefault(options.metric, 'cosine'), 'metric', METRICS);
      super(new (native().FlatIndex)(dim, metric));
    }
  }

  /**
   * The k stored vectors nearest to `query`, best first; with
   * `allowIds`, the k nearest among those ids.
   *
   * @example
   * const { ids, scores } = index.search(query, 10);
   */
  search(query: VectorInput, k: number, options?: SearchOptions): SearchResult {
    return firstResult(this.handle.search(toVector(query, this.dim), checkK(k), allowList(options)));
  }

  /** {@link FlatIndex.search} on a worker thread. */
  async searchAsync(query: VectorInput, k: number, options?: SearchOptions): Promise<SearchResult> {
    const caller = callerStack(this.searchAsync);
    const q = checkFixedLength(toVector(query, this.dim), 'query');
    return withCallerStack(this.handle.searchAsync(q, checkK(k), allowList(options)), caller).then(firstResult);
  }

  /**
   * Searches many queries at once (Float32Array of nq * dim, or rows). Much
   * faster per query than a loop of {@link FlatIndex.search}: the stored vectors are
   * read once per batch and scored with a register-tiled kernel.
   *
   * @example
   * const results = index.searchBatch(queries, 10); // results[i].ids
   */
  searchBatch(queries: VectorsInput, k: number, options?: SearchOptions): SearchResult[] {
    const q = toVectors(queries, this.dim, 'queries', true);
    return splitResults(this.handle.search(q, checkK(k), allowList(options)));
  }

  /** {@link FlatIndex.searchBatch} on a worker thread. */
  async searchBatchAsync(queries: VectorsInput, k: number, options?: SearchOptions): Promise<SearchResult[]> {
    const caller = callerStack(this.searchBatchAsync);
    const q = checkFixedLength(toVectors(queries, this.dim, 'queries', true), 'queries');
    return withCallerStack(this.handle.searchAsync(q, checkK(k), allowList(options)), caller).then(splitResults);
  }

  /**
   * Loads an index saved with {@link VectorIndex.save}. Throws ERR_NOT_FOUND,
   * ERR_CORRUPT_FILE (truncated, checksum mismatch, bad fields),
   * ERR_UNSUPPORTED_VERSION, ERR_WRONG_INDEX_KIND, or ERR_IO (unreadable,
   * or not a regular file: a FIFO, socket, device or directory is refused
   * without waiting on it).
   *
   * @example
   * const index = FlatIndex.load('vectors.svx');
   */
  static load(path: string): FlatIndex {
    return new FlatIndex({ [NATIVE]: native().FlatIndex.load(checkPath(path)) });
  }

  /** {@link FlatIndex.load} on a worker thread. */
  static async loadAsync(path: string): Promise<FlatIndex> {
    const caller = callerStack(FlatIndex.loadAsync);
    return new FlatIndex({ [NATIVE]: await nativeLoadAsync(native().FlatIndex, path, caller) });
  }

  /**
   * Maps an index file saved by this version of semvec (format 3) read-only
   * instead of reading it: the vectors stay in the file's pages, shared
   * through the page cache by every process that maps the same file, and
   * searches give exactly the results of {@link FlatIndex.load}. With `verify`
   * (default) the checksum and contents are checked first, reading the
   * file once; `{ verify: false }` opens in constant time. The index is
   * read-only (add and remove throw ERR_READ_ONLY). An older file is
   * ERR_UNSUPPORTED_VERSION: load it, or load and save it again. Replacing
   * the file by a save is safe; truncating it in place while mapped is not
   * (reads past its new end crash the process with SIGBUS).
   *
   * @example
   * const index = FlatIndex.open('vectors.svx', { verify: false });
   */
  static open(path: string, options?: OpenIndexOptions): FlatIndex {
    return new FlatIndex({ [NATIVE]: nativeOpen(native().FlatIndex, path, options) });
  }

  /** {@link FlatIndex.open} on a worker thread (with `verify`, the checksum runs there). */
  static async openAsync(path: string, options?: OpenIndexOptions): Promise<FlatIndex> {
    const caller = callerStack(FlatIndex.openAsync);
    return new FlatIndex({ [NATIVE]: await nativeOpenAsync(native().FlatIndex, path, options, caller) });
  }

  /** Reads an index from {@link VectorIndex.toBuffer}'s output. */
  static fromBuffer(buffer: Uint8Array): FlatIndex {
    return new FlatIndex({ [NATIVE]: nativeFromBuffer(native().FlatIndex, buffer) });
  }
}
