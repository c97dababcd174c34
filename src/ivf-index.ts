/**
 * Approximate search with an inverted file (IVF): k-means splits the space
 * into `nlist` cells, each vector is stored in the list of its nearest
 * centroid, and a query scans only the `nprobe` most promising lists. More
 * probes: higher recall, lower speed; `nprobe = nlist` is exact.
 */
import { ErrorCode, withCallerStack } from './errors.js';
import { clusteringOptions, progressRelay, type ClusteringOptions } from './cluster/kmeans.js';
import { native, nativeConstants, type IVFEncoding, type NativeIvfIndex, type KMeansDefaults, type NativeSearchResults } from './native.js';
import {
  checkBoolean,
  checkDim,
  checkFixedLength,
  checkInteger,
  checkK,
  checkOneOf,
  checkPath,
  describe,
  fail,
  orDefault,
  toVector,
  toVectors,
} from './validate.js';
import type { IdsInput, VectorInput, VectorsInput } from './validate.js';
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

export type { IVFEncoding } from './native.js';

const { limits, defaults } = nativeConstants();

/** Candidates an `'sq8'` index re-scores exactly per query unless told otherwise (64). */
export const DEFAULT_RERANK: number = defaults.rerank;
const MAX_RERANK = limits.maxRerank;
const ENCODINGS = ['f32', 'sq8'] as const;

/**
 * Training defaults for IVF: fewer points and iterations than {@link kmeans}, as FAISS does
 * (`{ iterations: 10, maxPointsPerCentroid: 64, init: 'random' }`; frozen).
 */
export const IVF_TRAINING_DEFAULTS: KMeansDefaults = defaults.ivfTraining;

/**
 * When semvec picks IVF by itself (an `index: 'ivf'` collection, and
 * SemanticSearch's `'auto'`): from `minVectors` vectors on (below that,
 * exact search is fast enough and exact), probing `nprobe` lists per query
 * unless a query says otherwise.
 */
export const AUTO_IVF = { minVectors: 50_000, nprobe: 16 } as const;

export interface IVFIndexOptions {
  /** Vector dimension, 1 to 65536. */
  dim: number;
  /** Comparison; default `'cosine'`. */
  metric?: Metric;
  /** Number of inverted lists (k-means cells). See {@link suggestNlist}. */
  nlist: number;
  /** Lists scanned per query by default, 1 to nlist; default min(8, nlist). */
  nprobe?: number;
  /**
   * How the lists store the vectors a probe scans. `'f32'` (default): the
   * float vectors, scores exact within the probed lists. `'sq8'`: also one
   * byte per component (8-bit scalar quantisation, ranges learnt in
   * {@link IVFIndex.train}); a probe scans the bytes, a quarter of the
   * memory traffic, and the best `rerank` candidates are scored again
   * exactly from the floats. Costs 25% more memory than `'f32'`.
   */
  encoding?: IVFEncoding;
  /**
   * `'sq8'` only: candidates per query re-scored exactly (at least k are);
   * 0 returns the 8-bit estimates as scores. Default 64.
   */
  rerank?: number;
  /** Train on the vectors of the first add when the index is not trained yet. */
  autoTrain?: boolean;
  /** Training options used by autoTrain (and by train() when given none). */
  training?: ClusteringOptions;
}

export interface IVFSearchOptions extends SearchOptions {
  /**
   * Lists to scan for this call, 1 to nlist; default the index's nprobe.
   * With `allowIds`, lists holding no allowed id are skipped and probing
   * continues past nprobe lists until k allowed vectors have been seen.
   */
  nprobe?: number;
  /** `'sq8'` only: candidates re-scored exactly for this call; default the index's rerank. */
  rerank?: number;
}

export interface TrainResult {
  /** k-means iterations run. */
  iterations: number;
  /** Inertia of the training points per iteration. */
  history: Float64Array;
  /** Points the centroids were trained on. */
  trainingPoints: number;
}

const NATIVE = Symbol('native');

/**
 * A common nlist for n vectors: about 4 * sqrt(n) (at most n / 39, so that
 * training has enough points per centroid), a multiple of 16 above 64.
 * 1,000,000 vectors: 4000 lists.
 *
 * @example
 * const ivf = new IVFIndex({ dim: 384, nlist: suggestNlist(1_000_000) });
 */
export function suggestNlist(n: number): number {
  return native().suggestNlist(checkInteger(n, 'n', 0, Number.MAX_SAFE_INTEGER));
}

/**
 * An IVF index. Train it (or set `autoTrain`), add vectors, search with a
 * per-call `nprobe` to pick the speed/recall trade-off.
 *
 * @example
 * const ivf = new IVFIndex({ dim: 384, metric: 'cosine', nlist: 1024 });
 * ivf.train(sample);
 * ivf.add(vectors);
 * const { ids } = ivf.search(query, 10, { nprobe: 16 });
 */
export class IVFIndex extends VectorIndex<NativeIvfIndex> {
  #autoTrain = false;
  #training: ClusteringOptions = {};
  // Fixed at construction: read once, so checks against nlist cost nothing.
  #nlist: number;
  #encoding: IVFEncoding;

  constructor(options: IVFIndexOptions);
  /** @internal */
  constructor(options: { [NATIVE]: NativeIvfIndex });
  constructor(options: IVFIndexOptions | { [NATIVE]: NativeIvfIndex }) {
    if (options === null || typeof options !== 'object') {
      fail(ErrorCode.INVALID_ARGUMENT, `IVFIndex options must be an object like { dim: 384, nlist: 1024 }; received ${describe(options)}`);
    }
    if (NATIVE in options) {
      super(options[NATIVE]);
      ({ nlist: this.#nlist, encoding: this.#encoding } = this.handle.info());
      return;
    }
    const dim = checkDim(options.dim);
    const metric = checkOneOf(orDefault(options.metric, 'cosine'), 'metric', METRICS);
    const nlist = checkInteger(options.nlist, 'nlist', 1, limits.maxNlist);
    // Undefined: the native default, min(8, nlist).
    const nprobe = options.nprobe === undefined ? undefined : checkInteger(options.nprobe, 'nprobe', 1, nlist);
    const encoding = checkOneOf(orDefault(options.encoding, 'f32'), 'encoding', ENCODINGS);
    const rerank = checkInteger(orDefault(options.rerank, DEFAULT_RERANK), 'rerank', 0, MAX_RERANK);
    const autoTrain = checkBoolean(orDefault(options.autoTrain, false), 'autoTrain');
    const training = orDefault(options.training, {});
    if (training === null || typeof training !== 'object') {
      fail(ErrorCode.INVALID_ARGUMENT, `training must be an object; received ${describe(training)}`);
    }
    clusteringOptions(training, IVF_TRAINING_DEFAULTS);
    super(new (native().IvfIndex)(dim, metric, nlist, nprobe, encoding, rerank));
    this.#nlist = nlist;
    this.#encoding = encoding;
    this.#autoTrain = autoTrain;
    this.#training = training;
  }

  /** Number of inverted lists. */
  get nlist(): number {
    return this.#nlist;
  }

  /** Lists scanned per query when a search does not say. */
  get nprobe(): number {
    return this.handle.nprobe();
  }

  set nprobe(value: number) {
    this.handle.setNprobe(checkInteger(value, 'nprobe', 1, this.#nlist));
  }

  /** How the lists store vectors: `'f32'` or `'sq8'`. */
  get encoding(): IVFEncoding {
    return this.#encoding;
  }

  /** `'sq8'`: candidates re-scored exactly when a search does not say. */
  get rerank(): number {
    return this.handle.rerank();
  }

  set rerank(value: number) {
    this.handle.setRerank(checkInteger(value, 'rerank', 0, MAX_RERANK));
  }

  /** Whether the coarse quantizer has been trained. */
  get isTrained(): boolean {
    return this.handle.isTrained();
  }

  /** Vectors in each inverted list. */
  listSizes(): number[] {
    return Array.from(this.handle.listSizes());
  }

  /** The trained centroids (nlist * dim), empty before training. */
  centroids(): Float32Array {
    return this.handle.centroids();
  }

  #trainArgs(vectors: VectorsInput, options: ClusteringOptions | undefined) {
    const x = toVectors(vectors, this.dim, 'vectors');
    const merged = { ...this.#training, ...options };
    return { x, o: clusteringOptions(merged, IVF_TRAINING_DEFAULTS), progress: progressRelay(merged.onProgress) };
  }

  /**
   * Trains the coarse quantizer (k-means with k = nlist) on a sample of the
   * data, at least nlist vectors. Defaults: 10 iterations, at most 64 points
   * per centroid, random init. Only an empty index can be trained.
   *
   * @example
   * ivf.train(vectors, { seed: 7 });
   */
  train(vectors: VectorsInput, options?: ClusteringOptions): TrainResult {
    const { x, o, progress } = this.#trainArgs(vectors, options);
    try {
      return this.handle.train(x, o, progress.callback);
    } catch (err) {
      return progress.rethrow(err);
    }
  }

  /**
   * {@link IVFIndex.train} on a worker thread. onProgress runs on the main thread
   * while the worker waits for it: every call has run before the promise
   * settles; returning false stops early, throwing rejects with that error
   * and leaves the index untrained.
   */
  async trainAsync(vectors: VectorsInput, options?: ClusteringOptions): Promise<TrainResult> {
    const caller = callerStack(this.trainAsync);
    const { x, o, progress } = this.#trainArgs(vectors, options);
    checkFixedLength(x, 'vectors');
    return withCallerStack(this.handle.trainAsync(x, o, progress.callback), caller).catch(progress.rethrow);
  }

  /**
   * Adds vectors to the lists of their nearest centroids (all or nothing).
   * Untrained: throws ERR_NOT_TRAINED, or trains on these vectors first when
   * `autoTrain` is set.
   */
  override add(vectors: VectorsInput, ids?: IdsInput): void {
    if (this.#autoTrain && !this.isTrained) this.train(vectors);
    super.add(vectors, ids);
  }

  /** {@link IVFIndex.add} on a worker thread (training first if `autoTrain` asks). */
  override async addAsync(vectors: VectorsInput, ids?: IdsInput): Promise<void> {
    if (this.#autoTrain && !this.isTrained) await this.trainAsync(vectors);
    return super.addAsync(vectors, ids);
  }

  /** The native search arguments after k: allow-list, nprobe, rerank (undefined: the index's own). */
  #searchArgs(options: IVFSearchOptions | undefined): [Float64Array | undefined, number | undefined, number | undefined] {
    if (options === undefined) return [undefined, undefined, undefined];
    if (options === null || typeof options !== 'object') {
      fail(ErrorCode.INVALID_ARGUMENT, `search options must be an object like { nprobe: 16 }; received ${describe(options)}`);
    }
    return [
      allowList(options),
      options.nprobe === undefined ? undefined : checkInteger(options.nprobe, 'nprobe', 1, this.#nlist),
      options.rerank === undefined ? undefined : checkInteger(options.rerank, 'rerank', 0, MAX_RERANK),
    ];
  }

  /**
   * The (approximately) nearest k vectors to `query`, best first, from the
   * `nprobe` lists whose centroids are nearest. May return fewer than k when
   * those lists hold fewer vectors.
   *
   * @example
   * const { ids, scores } = ivf.search(query, 10, { nprobe: 32 });
   */
  search(query: VectorInput, k: number, options?: IVFSearchOptions): SearchResult {
    return firstResult(this.handle.search(toVector(query, this.dim), checkK(k), ...this.#searchArgs(options)));
  }

  /** {@link IVFIndex.search} on a worker thread. */
  async searchAsync(query: VectorInput, k: number, options?: IVFSearchOptions): Promise<SearchResult> {
    const caller = callerStack(this.searchAsync);
    const q = checkFixedLength(toVector(query, this.dim), 'query');
    const p: Promise<NativeSearchResults> = this.handle.searchAsync(q, checkK(k), ...this.#searchArgs(options));
    return withCallerStack(p, caller).then(firstResult);
  }

  /**
   * Searches many queries at once. Queries are grouped by list, so each
   * probed list is read once per batch.
   *
   * @example
   * const results = ivf.searchBatch(queries, 10, { nprobe: 16 });
   */
  searchBatch(queries: VectorsInput, k: number, options?: IVFSearchOptions): SearchResult[] {
    const q = toVectors(queries, this.dim, 'queries', true);
    return splitResults(this.handle.search(q, checkK(k), ...this.#searchArgs(options)));
  }

  /** {@link IVFIndex.searchBatch} on a worker thread. */
  async searchBatchAsync(queries: VectorsInput, k: number, options?: IVFSearchOptions): Promise<SearchResult[]> {
    const caller = callerStack(this.searchBatchAsync);
    const q = checkFixedLength(toVectors(queries, this.dim, 'queries', true), 'queries');
    return withCallerStack(this.handle.searchAsync(q, checkK(k), ...this.#searchArgs(options)), caller).then(splitResults);
  }

  /** Loads an IVF index saved with {@link VectorIndex.save}. */
  static load(path: string): IVFIndex {
    return new IVFIndex({ [NATIVE]: native().IvfIndex.load(checkPath(path)) });
  }

  /** {@link IVFIndex.load} on a worker thread. */
  static async loadAsync(path: string): Promise<IVFIndex> {
    const caller = callerStack(IVFIndex.loadAsync);
    return new IVFIndex({ [NATIVE]: await nativeLoadAsync(native().IvfIndex, path, caller) });
  }

  /**
   * Maps an IVF index file saved by this version of semvec (format 3)
   * read-only, as {@link FlatIndex.open} does: searches read the lists in
   * the file's pages, shared by every process mapping the file, and give
   * exactly the results of {@link IVFIndex.load}. `{ verify: false }` opens in time
   * proportional to nlist, not to the vectors. Add, remove and train throw
   * ERR_READ_ONLY; `nprobe` and `rerank` can still be set. For writes next
   * to a mapped index, add to an {@link IVFIndex.emptyLike} companion.
   *
   * @example
   * const ivf = IVFIndex.open('vectors.svx', { verify: false });
   */
  static open(path: string, options?: OpenIndexOptions): IVFIndex {
    return new IVFIndex({ [NATIVE]: nativeOpen(native().IvfIndex, path, options) });
  }

  /** {@link IVFIndex.open} on a worker thread (with `verify`, the checksum runs there). */
  static async openAsync(path: string, options?: OpenIndexOptions): Promise<IVFIndex> {
    const caller = callerStack(IVFIndex.openAsync);
    return new IVFIndex({ [NATIVE]: await nativeOpenAsync(native().IvfIndex, path, options, caller) });
  }

  /** Reads an IVF index from {@link VectorIndex.toBuffer}'s output. */
  static fromBuffer(buffer: Uint8Array): IVFIndex {
    return new IVFIndex({ [NATIVE]: nativeFromBuffer(native().IvfIndex, buffer) });
  }

  /**
   * A new, empty index in memory with this index's dim, metric, nlist,
   * nprobe, encoding, rerank, nextId, training options and (once trained)
   * the very same centroids: vectors added to it go to the lists they would
   * go to in this index. Made for a mapped index's writable companion (the
   * recent changes beside a read-only snapshot).
   *
   * @example
   * const base = IVFIndex.open('snapshot.svx');
   * const delta = base.emptyLike();
   * delta.add(newVectors, newIds);
   */
  emptyLike(): IVFIndex {
    const like = new IVFIndex({ [NATIVE]: this.handle.emptyLike() });
    like.#autoTrain = this.#autoTrain;
    like.#training = this.#training;
    return like;
  }
}
