/**
 * What every semvec index shares: adding, removing, reading back, saving.
 * Search lives in the concrete classes (FlatIndex, IVFIndex).
 */
import { ErrorCode, withCallerStack } from './errors.js';
import type { NativeIndex, NativeIndexClass, NativeSearchResults } from './native.js';
import { checkBoolean, checkFixedLength, checkPath, describe, fail, orDefault, toIds, toVectors, type IdsInput, type VectorsInput } from './validate.js';

/**
 * How vectors are compared.
 * - `'ip'`: inner product; higher is nearer.
 * - `'cosine'`: cosine similarity; stored and query vectors are normalised.
 * - `'l2'`: squared Euclidean distance; lower is nearer.
 */
export type Metric = 'ip' | 'cosine' | 'l2';

export const METRICS: readonly Metric[] = ['ip', 'cosine', 'l2'];

/**
 * The results of one query, best first: `ids[i]` scored `scores[i]`.
 * Scores are similarities for `'ip'` and `'cosine'` (descending) and squared
 * distances for `'l2'` (ascending). Never padded: a flat index returns
 * min(k, size) results; an IVF index may return fewer when the probed lists
 * hold fewer vectors. (The convention of each layer is written once, in
 * native/core/search_results.h; a collection turns these scores into its
 * distance and score with distanceAndScore, src/scores.ts.)
 */
export interface SearchResult {
  ids: Float64Array;
  scores: Float32Array;
}

/** Options every index's search takes. */
export interface SearchOptions {
  /**
   * Only these ids may be returned (ids not in the index are ignored). The
   * results are the best k among them, so a filtered search returns k
   * results whenever that many allowed vectors exist.
   */
  allowIds?: IdsInput;
}

/** @internal The native allow-list of search options, validated. */
export function allowList(options: SearchOptions | undefined): Float64Array | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== 'object') {
    fail(ErrorCode.INVALID_ARGUMENT, `search options must be an object; received ${describe(options)}`);
  }
  return options.allowIds === undefined ? undefined : toIds(options.allowIds, undefined, 'allowIds');
}

/** @internal Splits flat native results into per-query views (no copies). */
export function splitResults(r: NativeSearchResults): SearchResult[] {
  const out: SearchResult[] = new Array(r.nq);
  for (let i = 0; i < r.nq; i++) {
    const n = r.counts ? (r.counts[i] as number) : r.k;
    out[i] = {
      ids: r.ids.subarray(i * r.k, i * r.k + n),
      scores: r.scores.subarray(i * r.k, i * r.k + n),
    };
  }
  return out;
}

/** @internal The single result of a one-query search. */
export function firstResult(r: NativeSearchResults): SearchResult {
  return splitResults(r)[0] ?? { ids: new Float64Array(0), scores: new Float32Array(0) };
}

/** @internal A stack-capturing wrapper for async native calls. */
export function callerStack(fn: Function): { stack?: string } {
  const caller: { stack?: string } = {};
  Error.captureStackTrace(caller, fn);
  return caller;
}

/** @internal Loads a native index of class `cls` and checks the buffer argument. */
export function nativeFromBuffer<N>(cls: NativeIndexClass<N>, buffer: unknown): N {
  if (!(buffer instanceof Uint8Array)) {
    fail(ErrorCode.INVALID_ARGUMENT, `buffer must be a Buffer or Uint8Array; received ${describe(buffer)}`);
  }
  return cls.deserialize(buffer);
}

/** @internal */
export async function nativeLoadAsync<N>(cls: NativeIndexClass<N>, path: string, caller: { stack?: string }): Promise<N> {
  return withCallerStack(cls.loadAsync(checkPath(path)), caller);
}

/** How `FlatIndex.open` and `IVFIndex.open` map a file. */
export interface OpenIndexOptions {
  /**
   * Check the file's CRC-32C checksum and everything `load()` checks
   * (finite vectors, ids in range and unique) before the first search:
   * reads every page of the file once (bench:open measured about 0.7 s per
   * GB from the page cache and 0.9 s per GB from disk, on a busy 2-core
   * machine). Default `true`. With `false`, opening
   * takes constant time (O(nlist) for IVF): only the header, fields and
   * section table are checked, the contents are trusted (a damaged file
   * then gives wrong results, never a crash).
   */
  verify?: boolean;
}

/** @internal The `verify` flag of open options, validated. */
export function openVerify(options: OpenIndexOptions | undefined): boolean {
  if (options === undefined) return true;
  if (options === null || typeof options !== 'object') {
    fail(ErrorCode.INVALID_ARGUMENT, `open options must be an object like { verify: false }; received ${describe(options)}`);
  }
  return checkBoolean(orDefault(options.verify, true), 'verify');
}

/** @internal Maps a native index of class `cls` (sync or async). */
export function nativeOpen<N>(cls: NativeIndexClass<N>, path: string, options: OpenIndexOptions | undefined): N {
  return cls.open(checkPath(path), openVerify(options));
}

/** @internal */
export async function nativeOpenAsync<N>(
  cls: NativeIndexClass<N>,
  path: string,
  options: OpenIndexOptions | undefined,
  caller: { stack?: string },
): Promise<N> {
  return withCallerStack(cls.openAsync(checkPath(path), openVerify(options)), caller);
}

/**
 * Base of the index classes. Thread safety: searches run concurrently with
 * each other; adds and removes wait for running searches (a readers-writer
 * lock guards each index). Do not modify a Float32Array passed to an async
 * method until its promise settles: it is read in place, without a copy.
 * Async methods refuse (ERR_INVALID_ARGUMENT) a Float32Array over a
 * resizable ArrayBuffer or a growable SharedArrayBuffer, which could shrink
 * under the worker thread: pass a copy. Their argument errors reject the
 * promise.
 */
/** What a closed index's handle is: every call throws ERR_CLOSED. */
const CLOSED: unknown = new Proxy(
  {},
  {
    get: () => () => fail(ErrorCode.CLOSED, 'this index was closed (close()); load or open it again'),
  },
);

export abstract class VectorIndex<N extends NativeIndex = NativeIndex> {
  #native: N;
  /** Vector dimension. */
  readonly dim: number;
  /** Comparison used by this index. */
  readonly metric: Metric;

  protected constructor(handle: N) {
    this.#native = handle;
    const info = handle.info(); // fixed facts: read once
    this.dim = info.dim;
    this.metric = info.metric;
  }

  /**
   * Releases the index now instead of at garbage collection: its memory,
   * or for a mapped index ({@link FlatIndex.open}) the mapping, and with
   * it a replaced file's disk space. Searches and writes already running
   * finish first. Afterwards every method throws ERR_CLOSED. Calling it
   * again does nothing.
   *
   * @example
   * const index = FlatIndex.open('vectors.svx');
   * // ... searches ...
   * index.close();
   */
  close(): void {
    if (this.#native === (CLOSED as N)) return;
    this.#native.release();
    this.#native = CLOSED as N;
  }

  /** Whether {@link VectorIndex.close} was called. */
  get closed(): boolean {
    return this.#native === (CLOSED as N);
  }

  /** @internal The native index. */
  protected get handle(): N {
    return this.#native;
  }

  /** Number of stored vectors. */
  get size(): number {
    return this.#native.size();
  }

  /** The id the next add without explicit ids starts from (largest id ever added + 1). */
  get nextId(): number {
    return this.#native.nextId();
  }

  /**
   * Bytes of heap memory held by the index (vectors, ids, lookup tables).
   * A mapped index ({@link FlatIndex.open}) holds its vectors in the file's
   * pages instead: see {@link VectorIndex.mappedBytes}.
   */
  memoryUsage(): number {
    return this.#native.memoryUsage();
  }

  /**
   * Bytes of the file a mapped index maps (0 for an index in memory). The
   * pages are the page cache's, shared by every process that maps the same
   * file, and resident only once read.
   */
  mappedBytes(): number {
    return this.#native.mappedBytes();
  }

  /**
   * Whether the index is mapped from a file ({@link FlatIndex.open},
   * {@link IVFIndex.open}) and so read-only: add, remove and train throw
   * ERR_READ_ONLY. Load the file for a copy that can change.
   */
  get readOnly(): boolean {
    return this.#native.readOnly();
  }

  protected prepareAdd(vectors: VectorsInput, ids?: IdsInput): [Float32Array, Float64Array | undefined] {
    const x = toVectors(vectors, this.dim, 'vectors');
    const n = x.length / this.dim;
    return [x, ids === undefined ? undefined : toIds(ids, n)];
  }

  /**
   * Adds vectors: one Float32Array of n * dim values (read in place, no copy)
   * or an array of rows. Ids are non-negative safe integers, unique in the
   * index; without them ids continue from {@link VectorIndex.nextId} (an add whose ids
   * would pass 2^53 - 1 is refused). All or nothing: on
   * any error (a duplicate id, NaN, a wrong dimension) nothing is added. A
   * mapped index ({@link VectorIndex.readOnly}) throws ERR_READ_ONLY.
   *
   * @example
   * index.add(new Float32Array(2 * 384), [10, 11]);
   */
  add(vectors: VectorsInput, ids?: IdsInput): void {
    const [x, i] = this.prepareAdd(vectors, ids);
    this.#native.add(x, i);
  }

  /**
   * {@link VectorIndex.add} on a worker thread: the event loop stays free.
   *
   * @example
   * await index.addAsync(vectors);
   */
  async addAsync(vectors: VectorsInput, ids?: IdsInput): Promise<void> {
    const caller = callerStack(this.addAsync);
    const [x, i] = this.prepareAdd(vectors, ids);
    return withCallerStack(this.#native.addAsync(checkFixedLength(x, 'vectors'), i), caller);
  }

  /**
   * Removes vectors by id and returns how many were removed. All or nothing:
   * if any id is absent, throws ERR_NOT_FOUND and removes none. A mapped
   * index ({@link VectorIndex.readOnly}) throws ERR_READ_ONLY.
   *
   * @example
   * index.remove([10, 11]);
   */
  remove(ids: IdsInput): number {
    return this.#native.remove(toIds(ids, undefined));
  }

  /**
   * {@link VectorIndex.remove} on a worker thread: waiting for running searches to let
   * go of the index never blocks the event loop.
   *
   * @example
   * await index.removeAsync([10, 11]);
   */
  async removeAsync(ids: IdsInput): Promise<number> {
    const caller = callerStack(this.removeAsync);
    return withCallerStack(this.#native.removeAsync(toIds(ids, undefined)), caller);
  }

  /** Whether `id` is stored. */
  has(id: number): boolean {
    return typeof id === 'number' && this.#native.contains(id);
  }

  /**
   * A copy of the stored vector of `id` (normalised, for `'cosine'`).
   * Throws ERR_NOT_FOUND if absent.
   *
   * @example
   * const v = index.getVector(10);
   */
  getVector(id: number): Float32Array {
    const [i] = toIds([id], 1, 'id');
    return this.#native.get(i as number);
  }

  /**
   * Writes the index to `path` atomically (temporary file, fsync, rename):
   * a crash leaves the old file or the new one, never a mix. The file is
   * versioned and checksummed (CRC-32C), in format 3 (flat, f32 and sq8
   * IVF) or 4 (rq4 and rq1 IVF, graph), which `open()` can map. A mapped index saves a copy of itself; saving over the file it
   * maps is safe (the mapping keeps the old file's contents).
   *
   * @example
   * index.save('vectors.svx');
   */
  save(path: string): void {
    this.#native.save(checkPath(path));
  }

  /** {@link VectorIndex.save} on a worker thread. */
  async saveAsync(path: string): Promise<void> {
    const caller = callerStack(this.saveAsync);
    return withCallerStack(this.#native.saveAsync(checkPath(path)), caller);
  }

  /** The index in the file format, as a Buffer. */
  toBuffer(): Buffer {
    return this.#native.serialize();
  }
}
