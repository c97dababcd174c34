/**
 * Loads the compiled addon once, with an actionable message when it cannot
 * be loaded. Its constants (the API's limits and the defaults the native
 * core owns) are read when semvec is imported; the SIMD level (SEMVEC_SIMD)
 * is resolved by the first other use.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { createError, ErrorCode, type SemvecError } from './errors.js';

export interface NativeSearchResults {
  k: number;
  nq: number;
  ids: Float64Array;
  scores: Float32Array;
  /** Results per query when fewer than k may be found (IVF). */
  counts?: Uint32Array;
}

/** What an index is, fixed at construction: read once. */
export interface NativeFlatIndexInfo {
  dim: number;
  metric: 'ip' | 'cosine' | 'l2';
}

/**
 * What every native index class provides. size(), nextId(), readOnly(),
 * mappedBytes() and the IVF getters are cheap; memoryUsage() walks the
 * index's storage.
 */
export interface NativeIndex {
  add(vectors: Float32Array, ids?: Float64Array): void;
  addAsync(vectors: Float32Array, ids?: Float64Array): Promise<void>;
  remove(ids: Float64Array): number;
  removeAsync(ids: Float64Array): Promise<number>;
  contains(id: number): boolean;
  get(id: number): Float32Array;
  info(): NativeFlatIndexInfo;
  size(): number;
  nextId(): number;
  /** Heap bytes held. */
  memoryUsage(): number;
  /** Bytes of the file a mapped index maps; 0 in memory. */
  mappedBytes(): number;
  /** Whether the index is mapped from a file (and so read-only). */
  readOnly(): boolean;
  /** Drops this handle's reference to the index (work in flight keeps its own until done). */
  release(): void;
  save(path: string): void;
  saveAsync(path: string): Promise<void>;
  serialize(): Buffer;
}

export interface NativeFlatIndex extends NativeIndex {
  search(queries: Float32Array, k: number, allow?: Float64Array): NativeSearchResults;
  searchAsync(queries: Float32Array, k: number, allow?: Float64Array): Promise<NativeSearchResults>;
}

export interface NativeKMeansOptions {
  k?: number;
  iterations: number;
  seed: number;
  spherical?: boolean;
  maxPointsPerCentroid: number;
  init: 'kmeans++' | 'random';
}

export interface NativeTrainResult {
  history: Float64Array;
  iterations: number;
  trainingPoints: number;
}

export interface NativeKMeansResult extends NativeTrainResult {
  centroids: Float32Array;
  assignments: Uint32Array;
  inertia: number;
}

export interface NativeIvfIndexInfo extends NativeFlatIndexInfo {
  nlist: number;
  encoding: IVFEncoding;
}

/** Bytes of an IVF index by part: see {@link IVFIndex.memoryParts}. */
export interface IVFMemoryParts {
  /** Codes of the encoded lists (sq8, rq4, rq1) held in memory. */
  codes: number;
  /** List ids, L2 norms and the id table held in memory. */
  ids: number;
  /** Centroids (and the rq rotation) held in memory. */
  centroids: number;
  /** Float vectors held in memory (f32 lists: the whole lists). */
  floats: number;
  /** Index objects. */
  other: number;
  /** Float vectors read in place from the mapped file (resident only as the page cache keeps them). */
  floatsMapped: number;
}

/** How an IVF index stores the vectors its probes scan. */
export type IVFEncoding = 'f32' | 'sq8' | 'rq4' | 'rq1';

/**
 * Called after each k-means iteration (async calls: on the main thread while
 * the worker waits). Returning false stops early; throwing abandons the run
 * and the call throws (the promise rejects with) what it threw.
 */
export type ProgressCallback = (iteration: number, inertia: number) => unknown;

export interface NativeIvfIndex extends NativeIndex {
  info(): NativeIvfIndexInfo;
  train(vectors: Float32Array, options: NativeKMeansOptions, progress?: ProgressCallback): NativeTrainResult;
  trainAsync(vectors: Float32Array, options: NativeKMeansOptions, progress?: ProgressCallback): Promise<NativeTrainResult>;
  /** nprobe and rerank: undefined for the index's own. */
  search(queries: Float32Array, k: number, allow?: Float64Array, nprobe?: number, rerank?: number): NativeSearchResults;
  searchAsync(queries: Float32Array, k: number, allow?: Float64Array, nprobe?: number, rerank?: number): Promise<NativeSearchResults>;
  nprobe(): number;
  setNprobe(nprobe: number): void;
  rerank(): number;
  setRerank(rerank: number): void;
  isTrained(): boolean;
  listSizes(): Float64Array;
  centroids(): Float32Array;
  /** A new owned, empty index with these settings and centroids. */
  emptyLike(): NativeIvfIndex;
  memoryParts(): IVFMemoryParts;
  keepCodesInMemory(): void;
}

export interface NativeGraphIndexInfo extends NativeFlatIndexInfo {
  degree: number;
  buildEf: number;
  alpha: number;
  seed: number;
}

export interface NativeGraphIndex extends NativeIndex {
  info(): NativeGraphIndexInfo;
  /** ef and rerank: undefined for the index's own; nprobe: undefined for 0. */
  search(queries: Float32Array, k: number, allow?: Float64Array, ef?: number, rerank?: number, nprobe?: number): NativeSearchResults;
  searchAsync(
    queries: Float32Array,
    k: number,
    allow?: Float64Array,
    ef?: number,
    rerank?: number,
    nprobe?: number,
  ): Promise<NativeSearchResults>;
  ef(): number;
  setEf(ef: number): void;
  rerank(): number;
  setRerank(rerank: number): void;
  /** Nodes held, removed ones not yet compacted away included. */
  slots(): number;
  neighbours(id: number): Float64Array;
}

export interface NativeIndexClass<N> {
  load(path: string): N;
  loadAsync(path: string): Promise<N>;
  /** Maps a format-3 file read-only; verify: checksum and contents too. */
  open(path: string, verify: boolean): N;
  openAsync(path: string, verify: boolean): Promise<N>;
  deserialize(buffer: Uint8Array): N;
}

export interface NativeIvfIndexClass extends NativeIndexClass<NativeIvfIndex> {
  /** nprobe and rerank: undefined for the defaults (NativeConstants). */
  new (dim: number, metric: string, nlist: number, nprobe: number | undefined, encoding: IVFEncoding, rerank: number | undefined): NativeIvfIndex;
}

export interface NativeGraphIndexClass extends NativeIndexClass<NativeGraphIndex> {
  /** Undefined settings: the defaults (NativeConstants). */
  new (
    dim: number,
    metric: string,
    degree: number | undefined,
    buildEf: number | undefined,
    alpha: number | undefined,
    ef: number | undefined,
    rerank: number | undefined,
    seed: number | undefined,
  ): NativeGraphIndex;
}

export interface NativeFlatIndexClass extends NativeIndexClass<NativeFlatIndex> {
  new (dim: number, metric: string): NativeFlatIndex;
}

/** k-means options a default stands for. */
export interface KMeansDefaults {
  readonly iterations: number;
  readonly maxPointsPerCentroid: number;
  readonly init: 'kmeans++' | 'random';
}

/**
 * The limits of the API (native/core/api_limits.h) and the defaults the
 * native core owns (KMeansParams, IvfIndex::training_defaults, kDefaultRerank,
 * kDefaultNprobe), each defined once there.
 */
export interface NativeConstants {
  /** The IVF encodings, with the bits per component of what a probe scans. */
  readonly ivfEncodings: readonly { readonly name: IVFEncoding; readonly bitsPerDim: number }[];
  readonly limits: {
    /** Largest dim of an `'rq4'` or `'rq1'` IVF index. */
    readonly maxRqDim: number;
    readonly maxDim: number;
    readonly maxVectors: number;
    readonly maxId: number;
    readonly maxNextId: number;
    readonly maxNlist: number;
    readonly maxRerank: number;
    /** A graph index's rerank 'auto', as the native calls take it (one past maxRerank). */
    readonly autoRerank: number;
    readonly maxK: number;
    /** Candidates a graph search keeps (ef), at most. */
    readonly maxEf: number;
    readonly minGraphDegree: number;
    readonly maxGraphDegree: number;
    /** Values in the largest typed array the addon returns (2^32 - 1). */
    readonly maxArrayLength: number;
  };
  readonly defaults: {
    readonly kmeans: KMeansDefaults & { readonly seed: number };
    /** IVF training: k-means with these changes (and k-means's seed). */
    readonly ivfTraining: KMeansDefaults;
    /** Candidates an `'sq8'` IVF index re-scores exactly per query. */
    readonly rerank: number;
    /** An IVF index made without an nprobe probes min(nprobe, nlist) lists. */
    readonly nprobe: number;
    /** A graph index's settings (GraphParams). */
    readonly graph: {
      readonly degree: number;
      readonly buildEf: number;
      readonly alpha: number;
      readonly ef: number;
      readonly rerank: 'auto';
      readonly seed: number;
    };
  };
}

/** CPU features the native core detects. */
export interface CpuFeatures {
  avx2: boolean;
  avx512: boolean;
  avx512Vnni: boolean;
  avxVnni: boolean;
}

/** One int8 linear layer of an encoder (ONNX MatMulInteger's B with its dequantisation). */
export interface NativeEncoderLinear {
  /** in * out values, row-major [in][out]. */
  weight: Int8Array;
  /** Per output column (out values) or per tensor (1). */
  scale: Float32Array;
  /** Per output column (out values) or per tensor (1), each in -128..127. */
  zeroPoint: Int32Array;
  /** out values. */
  bias: Float32Array;
}

/** A layer norm's parameters, hidden values each. */
export interface NativeEncoderNorm {
  gamma: Float32Array;
  beta: Float32Array;
}

/** An embedding table of rows * hidden values, row-major; a quantised one dequantises as (q - zeroPoint) * scale. */
export type NativeEncoderTable =
  | { data: Float32Array }
  | { data: Uint8Array | Int8Array; scale: number; zeroPoint: number };

/** A BERT encoder (post-LayerNorm) with int8 linear layers. */
export interface NativeEncoderSpec {
  hidden: number;
  heads: number;
  intermediate: number;
  layerNormEps: number;
  gelu: 'erf' | 'tanh';
  word: NativeEncoderTable;
  /** Its rows are the longest sequence the encoder takes. */
  position: NativeEncoderTable;
  /** Absent: no token-type embedding (type ids must be 0). */
  tokenType?: NativeEncoderTable;
  embeddingNorm: NativeEncoderNorm;
  layers: Array<{
    query: NativeEncoderLinear;
    key: NativeEncoderLinear;
    value: NativeEncoderLinear;
    output: NativeEncoderLinear;
    attentionNorm: NativeEncoderNorm;
    intermediate: NativeEncoderLinear;
    ffnOutput: NativeEncoderLinear;
    outputNorm: NativeEncoderNorm;
  }>;
}

/**
 * The native int8 encoder. Sequences arrive packed (no padding): `ids` and
 * `typeIds` hold every token, `lengths` each sequence's token count. The
 * result holds one pooled row of `hidden` floats per sequence (not
 * normalised); a sequence's row is bit-identical whatever the batch.
 */
export interface NativeEncoder {
  encode(ids: Int32Array, typeIds: Int32Array | null, lengths: Uint32Array, pooling: 'mean' | 'cls'): Float32Array;
  encodeAsync(
    ids: Int32Array,
    typeIds: Int32Array | null,
    lengths: Uint32Array,
    pooling: 'mean' | 'cls',
  ): Promise<Float32Array>;
  readonly hidden: number;
  readonly layers: number;
  readonly maxPositions: number;
  readonly vocab: number;
  memoryUsage(): number;
  /** Frees the encoder once running async calls finish; later calls throw ERR_CLOSED. */
  release(): void;
}

export interface NativeEncoderClass {
  /** Checks every shape and copies what it needs (keeps no reference to the arrays). threads: 0 or absent for the hardware threads. */
  new (spec: NativeEncoderSpec, threads?: number): NativeEncoder;
}

export interface NativeAddon {
  simdLevel(): 'scalar' | 'avx2' | 'avx512';
  getThreads(): number;
  setThreads(threads: number): void;
  hardwareThreads(): number;
  /** What the CPU offers (with the OS's support for the registers), whatever SEMVEC_SIMD says. */
  cpuFeatures(): CpuFeatures;
  setErrorFactory(factory: (code: string, message: string) => Error): void;
  normalize(vectors: Float32Array, dim: number, out: Float32Array): number;
  suggestNlist(n: number): number;
  tryLockFile(path: string, exclusive: boolean): number;
  unlockFile(fd: number): void;
  similarityMatrix(a: Float32Array, b: Float32Array, dim: number, metric: string): Float32Array;
  /** The API's limits and the defaults the native core owns, frozen. */
  readonly constants: NativeConstants;
  kmeans(vectors: Float32Array, dim: number, options: NativeKMeansOptions, progress?: ProgressCallback): NativeKMeansResult;
  kmeansAsync(
    vectors: Float32Array,
    dim: number,
    options: NativeKMeansOptions,
    progress?: ProgressCallback,
  ): Promise<NativeKMeansResult>;
  FlatIndex: NativeFlatIndexClass;
  IvfIndex: NativeIvfIndexClass;
  GraphIndex: NativeGraphIndexClass;
  Encoder: NativeEncoderClass;
}

/** Where a build made on this machine puts the addon: `build/Release/semvec.node` in the package. */
export const addonPath = fileURLToPath(new URL('../build/Release/semvec.node', import.meta.url));

/** The package's directory: it holds `build/Release` (a local build) and `prebuilds/` (shipped binaries). */
const packageRoot = fileURLToPath(new URL('..', import.meta.url));

/** Which binary of the addon is loaded. */
export interface AddonOrigin {
  /** The file loaded. */
  path: string;
  /** `'prebuilt'`: shipped in the package (`prebuilds/`); `'source'`: built on this machine (`build/`). */
  kind: 'prebuilt' | 'source';
}

/** The addon once required (its error factory set). */
let loaded: NativeAddon | undefined;
/** The addon once its SIMD level is resolved too: what native() returns. */
let addon: NativeAddon | undefined;
let origin: AddonOrigin | undefined;

/** `<platform>-<arch>` and the C library, as the prebuilt binaries are named. */
function platformTag(): string {
  const glibc = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime;
  const libc = process.platform === 'linux' ? (glibc ? `, glibc ${glibc}` : ', musl') : '';
  return `${process.platform}-${process.arch}${libc}, Node.js ${process.versions.node}`;
}

const BUILD_NEEDS = 'building needs cmake >= 3.15 and a C++17 compiler (g++ >= 9, clang >= 10 or MSVC 2019)';

/**
 * @internal The error thrown when the addon cannot load: says why and what to
 * do. `file` is the binary that failed to load, or undefined when none was
 * found for this platform.
 */
export function explainLoadFailure(err: unknown, file: string | undefined): SemvecError {
  // An error thrown by the addon's own initialisation (a bad SEMVEC_SIMD)
  // already says what to do.
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('ERR_') && code !== 'ERR_DLOPEN_FAILED') {
    return createError(code, (err as Error).message);
  }
  const reason = err instanceof Error ? err.message.trim() : String(err);
  let message: string;
  if (file === undefined) {
    message =
      `semvec has no prebuilt native module for ${platformTag()}, and none was built here ` +
      '(the install step builds one from source where no prebuilt one fits, unless install scripts were skipped).\n' +
      `Build it: \`npm rebuild semvec\`; ${BUILD_NEEDS}.`;
  } else if (file.startsWith(join(packageRoot, 'prebuilds'))) {
    message =
      `semvec's prebuilt native module ${file} does not load on this system (${platformTag()}); ` +
      'a system older than the one it supports (it needs glibc >= 2.34 on Linux) is the usual cause.\n' +
      `Build one from source instead: \`npm rebuild semvec\` (it builds when the prebuilt one does not load); ${BUILD_NEEDS}.`;
  } else {
    message =
      `semvec could not load its native module at ${file}: the file exists but the system could not load it; ` +
      'it was probably built for another platform, CPU architecture or Node.js ABI.\n' +
      'Rebuild it on this machine with `npm rebuild semvec`.';
  }
  return createError(ErrorCode.NATIVE_LOAD, `${message}\nCause: ${reason}`, { cause: err });
}

/**
 * The addon, required on first call: a build made on this machine
 * (`build/Release`) when there is one, else the prebuilt binary for this
 * platform (`prebuilds/`, chosen by node-gyp-build's rules). Throws a
 * {@link NativeError} if neither loads.
 */
function load(): NativeAddon {
  if (loaded === undefined) {
    const require = createRequire(import.meta.url);
    let file: string;
    try {
      // A build made here is build/Release/semvec.node exactly (the
      // directory may hold other modules); else the prebuilt for this platform.
      file = existsSync(addonPath) ? addonPath : (require('node-gyp-build') as { resolve(dir: string): string }).resolve(packageRoot);
    } catch (err) {
      throw explainLoadFailure(err, undefined);
    }
    let required: NativeAddon;
    try {
      required = require(file) as NativeAddon;
    } catch (err) {
      throw explainLoadFailure(err, file);
    }
    required.setErrorFactory(createError);
    loaded = required;
    origin = { path: file, kind: file.startsWith(join(packageRoot, 'prebuilds')) ? 'prebuilt' : 'source' };
  }
  return loaded;
}

/**
 * The API's limits and the native defaults, read from the addon (loading it
 * if need be). Throws a {@link NativeError} if the addon cannot load.
 */
export function nativeConstants(): NativeConstants {
  return load().constants;
}

/**
 * The addon, loaded on first call, its SIMD level resolved. Throws a
 * {@link NativeError} if it cannot load, or if SEMVEC_SIMD asks for a level
 * that does not exist or that the CPU lacks.
 */
export function native(): NativeAddon {
  if (addon === undefined) {
    const required = load();
    required.simdLevel(); // throws ERR_UNSUPPORTED for a bad SEMVEC_SIMD
    addon = required;
  }
  return addon;
}

/** Which binary of the addon is in use (loads it if needed). */
export function addonOrigin(): AddonOrigin {
  native();
  return origin as AddonOrigin;
}
