/**
 * Approximate nearest-neighbour search on a proximity graph (the family of
 * HNSW, Vamana and NSG): every vector is a node linked to at most `degree`
 * near neighbours; a search walks the graph best-first from a fixed entry,
 * keeping the `ef` best candidates, on 8-bit codes of the vectors (a
 * quarter of the memory traffic of floats), and scores the best `rerank`
 * of them again exactly from the floats. Search time grows about with
 * log n, where an IVF index's grows with sqrt n.
 *
 * - Build: vectors are linked in parallel batches on every core, their
 *   neighbours chosen on the 8-bit codes. The graph depends on the vectors,
 *   their order, the seed and how adds were split, never on the number of
 *   threads or the SIMD level: it is deterministic.
 * - Filtered search (`allowIds`): a narrow allow-list (allowed^2 <= 50 * ef
 *   * size) is scanned, its codes scored and the best re-ranked exactly; a
 *   wider one is walked, the graph traversed through every node but only
 *   allowed ones returned. Neither collapses at low selectivity.
 * - Partition (`nprobe`): a search may also start its walk from whole
 *   groups of a k-means partition of the vectors, the query's best
 *   `nprobe`, for data a walk alone cannot navigate. Trained on first use
 *   and saved with the index (format 5.0), so a loaded or mapped copy has
 *   it at once; vectors added later join their nearest group.
 * - Remove: a removed vector becomes a tombstone, still a stepping stone for
 *   walks but never returned. When tombstones reach 10% of the nodes, the
 *   remove that gets there repairs the graph (every node linked to a
 *   tombstone chooses its links again among its own and the tombstones'
 *   links) and compacts it: that call costs about one neighbour selection
 *   per affected node, the others almost nothing.
 */
import { ErrorCode, withCallerStack } from './errors.js';
import { native, nativeConstants, type NativeGraphIndex, type NativeSearchResults } from './native.js';
import { checkDim, checkFixedLength, checkInteger, checkK, checkOneOf, checkPath, describe, fail, orDefault, toVector, toVectors } from './validate.js';
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

const { limits, defaults } = nativeConstants();

/** A graph index's settings unless told otherwise: degree 32, buildEf 96, alpha 1, ef 64, rerank 'auto', seed 1234. */
export const GRAPH_DEFAULTS = defaults.graph;

export interface GraphIndexOptions {
  /** Vector dimension, 1 to 65536. */
  dim: number;
  /** Comparison; default `'cosine'`. */
  metric?: Metric;
  /** Links per node, 4 to 256; default 32. More: higher recall at a given ef, more memory, slower build. */
  degree?: number;
  /** Candidates each insertion keeps while it looks for its links; default 96. More: a better graph, slower build. */
  buildEf?: number;
  /**
   * The neighbour heuristic's alpha, 1 to 2; default 1 (HNSW's heuristic).
   * Above 1 prunes fewer candidates: with 32 links on data whose
   * neighbours are all about equally far (overlapping isotropic clusters),
   * 1.2 filled the rows with the nearest few and recall@10 collapsed (0.12
   * at ef 320, against 0.96 with 1); on text-like vectors it was a little
   * better (0.9975 against 0.9890 at ef 64). Raise it with `degree`.
   */
  alpha?: number;
  /** Candidates a search keeps unless it says (raised to k); default 64. */
  ef?: number;
  /**
   * Of those, re-scored exactly from the float vectors (at least k are); 0
   * returns the 8-bit estimates. Default `'auto'`: min(max(32, ef), 256),
   * every candidate the walk keeps up to 256, so a wider search also re-scores more
   * (on tightly clustered data a fixed 32 stopped recall@10 at 0.972
   * however large ef was; all of ef 160 reached 0.993).
   */
  rerank?: GraphRerank;
  /** Seeds the insertion order within each add; default 1234. */
  seed?: number;
}

export interface GraphSearchOptions extends SearchOptions {
  /** Candidates the walk keeps for this call, 1 to 65536 (raised to k); default the index's ef. Higher: better recall, slower. */
  ef?: number;
  /** Candidates re-scored exactly for this call (a count, or `'auto'`); default the index's rerank. */
  rerank?: GraphRerank;
  /**
   * Groups of the index's partition whose members also start this call's
   * walk: the `nprobe` whose centroids score best against the query, 0 to
   * 65536 (more than there are: all); default 0, a walk alone. For data
   * where a walk stalls below the recall you need however wide (overlapping
   * isotropic clusters, uniform noise), as an IVF scans its best lists.
   * The partition (k-means, one group per 256 vectors) is trained by the
   * first such search after the index was built or compacted (13 to 15 s at
   * 1M x 384 vectors), and a save keeps it: a copy loaded or mapped from
   * that file needs no training. See docs/choosing-an-index.md.
   */
  nprobe?: number;
}

/** Candidates a graph search re-scores exactly: a count from 0, or `'auto'` (min(max(32, ef), 256)). */
export type GraphRerank = number | 'auto';

/** A rerank option checked, as the native calls take it. */
function nativeRerank(value: unknown): number {
  if (value === 'auto') return limits.autoRerank;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > limits.maxRerank) {
    fail(ErrorCode.INVALID_ARGUMENT, `rerank must be an integer from 0 to ${limits.maxRerank} or 'auto'; received ${describe(value)}`);
  }
  return value;
}

const NATIVE = Symbol('native');

/**
 * A graph index: approximate search in about log n steps.
 *
 * @example
 * const index = new GraphIndex({ dim: 3, metric: 'cosine' });
 * index.add([[1, 0, 0], [0, 1, 0], [0.9, 0.1, 0]]);
 * const { ids } = index.search([1, 0, 0], 2, { ef: 32 });
 */
export class GraphIndex extends VectorIndex<NativeGraphIndex> {
  // Fixed at construction: read once.
  readonly #degree: number;
  readonly #buildEf: number;
  readonly #alpha: number;
  readonly #seed: number;

  constructor(options: GraphIndexOptions);
  /** @internal */
  constructor(options: { [NATIVE]: NativeGraphIndex });
  constructor(options: GraphIndexOptions | { [NATIVE]: NativeGraphIndex }) {
    if (options === null || typeof options !== 'object') {
      fail(ErrorCode.INVALID_ARGUMENT, `GraphIndex options must be an object like { dim: 384 }; received ${describe(options)}`);
    }
    if (NATIVE in options) {
      super(options[NATIVE]);
    } else {
      const dim = checkDim(options.dim);
      const metric = checkOneOf(orDefault(options.metric, 'cosine'), 'metric', METRICS);
      const degree = checkInteger(orDefault(options.degree, defaults.graph.degree), 'degree', limits.minGraphDegree, limits.maxGraphDegree);
      const buildEf = checkInteger(orDefault(options.buildEf, defaults.graph.buildEf), 'buildEf', 1, limits.maxEf);
      const alpha = orDefault(options.alpha, defaults.graph.alpha);
      if (typeof alpha !== 'number' || !(alpha >= 1 && alpha <= 2)) {
        fail(ErrorCode.INVALID_ARGUMENT, `alpha must be a number from 1 to 2; received ${describe(alpha)}`);
      }
      const ef = checkInteger(orDefault(options.ef, defaults.graph.ef), 'ef', 1, limits.maxEf);
      const rerank = nativeRerank(orDefault<unknown>(options.rerank, defaults.graph.rerank));
      const seed = checkInteger(orDefault(options.seed, defaults.graph.seed), 'seed', 0, Number.MAX_SAFE_INTEGER);
      super(new (native().GraphIndex)(dim, metric, degree, buildEf, alpha, ef, rerank, seed));
    }
    ({ degree: this.#degree, buildEf: this.#buildEf, alpha: this.#alpha, seed: this.#seed } = this.handle.info());
  }

  /** Links per node. */
  get degree(): number {
    return this.#degree;
  }

  /** Candidates each insertion keeps. */
  get buildEf(): number {
    return this.#buildEf;
  }

  /** The neighbour heuristic's alpha. */
  get alpha(): number {
    return this.#alpha;
  }

  /** The seed of the insertion order. */
  get seed(): number {
    return this.#seed;
  }

  /** Candidates a search keeps when it does not say. */
  get ef(): number {
    return this.handle.ef();
  }

  set ef(value: number) {
    this.handle.setEf(checkInteger(value, 'ef', 1, limits.maxEf));
  }

  /** Candidates re-scored exactly when a search does not say: a count, or `'auto'`. */
  get rerank(): GraphRerank {
    const rerank = this.handle.rerank();
    return rerank === limits.autoRerank ? 'auto' : rerank;
  }

  set rerank(value: GraphRerank) {
    this.handle.setRerank(nativeRerank(value));
  }

  /** Nodes of the graph, removed vectors not yet compacted away included. */
  get slots(): number {
    return this.handle.slots();
  }

  /**
   * The ids the node of `id` links to (removed ones left out). Throws
   * ERR_NOT_FOUND if absent.
   */
  neighbours(id: number): number[] {
    return Array.from(this.handle.neighbours(checkInteger(id, 'id', 0, Number.MAX_SAFE_INTEGER)));
  }

  /** The native search arguments after k: allow-list, ef, rerank (undefined: the index's own), nprobe. */
  #searchArgs(
    options: GraphSearchOptions | undefined,
  ): [Float64Array | undefined, number | undefined, number | undefined, number | undefined] {
    if (options === undefined) return [undefined, undefined, undefined, undefined];
    if (options === null || typeof options !== 'object') {
      fail(ErrorCode.INVALID_ARGUMENT, `search options must be an object like { ef: 128 }; received ${describe(options)}`);
    }
    return [
      allowList(options),
      options.ef === undefined ? undefined : checkInteger(options.ef, 'ef', 1, limits.maxEf),
      options.rerank === undefined ? undefined : nativeRerank(options.rerank),
      options.nprobe === undefined ? undefined : checkInteger(options.nprobe, 'nprobe', 0, limits.maxEf),
    ];
  }

  /**
   * The (approximately) nearest k vectors to `query`, best first, scored
   * exactly (unless `rerank` is 0).
   *
   * @example
   * const { ids, scores } = index.search(query, 10, { ef: 128 });
   */
  search(query: VectorInput, k: number, options?: GraphSearchOptions): SearchResult {
    return firstResult(this.handle.search(toVector(query, this.dim), checkK(k), ...this.#searchArgs(options)));
  }

  /** {@link GraphIndex.search} on a worker thread. */
  async searchAsync(query: VectorInput, k: number, options?: GraphSearchOptions): Promise<SearchResult> {
    const caller = callerStack(this.searchAsync);
    const q = checkFixedLength(toVector(query, this.dim), 'query');
    const p: Promise<NativeSearchResults> = this.handle.searchAsync(q, checkK(k), ...this.#searchArgs(options));
    return withCallerStack(p, caller).then(firstResult);
  }

  /**
   * Searches many queries at once, on every core.
   *
   * @example
   * const results = index.searchBatch(queries, 10, { ef: 96 });
   */
  searchBatch(queries: VectorsInput, k: number, options?: GraphSearchOptions): SearchResult[] {
    const q = toVectors(queries, this.dim, 'queries', true);
    return splitResults(this.handle.search(q, checkK(k), ...this.#searchArgs(options)));
  }

  /** {@link GraphIndex.searchBatch} on a worker thread. */
  async searchBatchAsync(queries: VectorsInput, k: number, options?: GraphSearchOptions): Promise<SearchResult[]> {
    const caller = callerStack(this.searchBatchAsync);
    const q = checkFixedLength(toVectors(queries, this.dim, 'queries', true), 'queries');
    return withCallerStack(this.handle.searchAsync(q, checkK(k), ...this.#searchArgs(options)), caller).then(splitResults);
  }

  /** Loads a graph index saved with {@link VectorIndex.save}. */
  static load(path: string): GraphIndex {
    return new GraphIndex({ [NATIVE]: native().GraphIndex.load(checkPath(path)) });
  }

  /** {@link GraphIndex.load} on a worker thread. */
  static async loadAsync(path: string): Promise<GraphIndex> {
    const caller = callerStack(GraphIndex.loadAsync);
    return new GraphIndex({ [NATIVE]: await nativeLoadAsync(native().GraphIndex, path, caller) });
  }

  /**
   * Maps a graph index file read-only, as {@link FlatIndex.open} does:
   * searches walk the file's pages in place, shared by every process
   * mapping the file, with exactly the results of {@link GraphIndex.load}.
   * Even with `{ verify: false }` every link is checked to name a node
   * (time proportional to the links), so a walk never leaves the file. Add
   * and remove throw ERR_READ_ONLY; `ef` and `rerank` can still be set.
   *
   * @example
   * const index = GraphIndex.open('vectors.svx');
   */
  static open(path: string, options?: OpenIndexOptions): GraphIndex {
    return new GraphIndex({ [NATIVE]: nativeOpen(native().GraphIndex, path, options) });
  }

  /** {@link GraphIndex.open} on a worker thread. */
  static async openAsync(path: string, options?: OpenIndexOptions): Promise<GraphIndex> {
    const caller = callerStack(GraphIndex.openAsync);
    return new GraphIndex({ [NATIVE]: await nativeOpenAsync(native().GraphIndex, path, options, caller) });
  }

  /** Reads a graph index from {@link VectorIndex.toBuffer}'s output. */
  static fromBuffer(buffer: Uint8Array): GraphIndex {
    return new GraphIndex({ [NATIVE]: nativeFromBuffer(native().GraphIndex, buffer) });
  }
}
