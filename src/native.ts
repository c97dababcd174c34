/**
 * Loads the compiled addon once, on first use, with an actionable message
 * when it cannot be loaded.
 */
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

export interface NativeFlatIndexInfo {
  dim: number;
  metric: 'ip' | 'cosine' | 'l2';
  size: number;
  nextId: number;
  memoryUsage: number;
}

/** What every native index class provides. */
export interface NativeIndex {
  add(vectors: Float32Array, ids?: Float64Array): void;
  addAsync(vectors: Float32Array, ids?: Float64Array): Promise<void>;
  remove(ids: Float64Array): number;
  removeAsync(ids: Float64Array): Promise<number>;
  contains(id: number): boolean;
  get(id: number): Float32Array;
  info(): NativeFlatIndexInfo;
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
  nprobe: number;
  trained: boolean;
  encoding: IVFEncoding;
  rerank: number;
}

/** How an IVF index stores the vectors its probes scan. */
export type IVFEncoding = 'f32' | 'sq8';

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
  search(queries: Float32Array, k: number, nprobe: number, allow?: Float64Array, rerank?: number): NativeSearchResults;
  searchAsync(queries: Float32Array, k: number, nprobe: number, allow?: Float64Array, rerank?: number): Promise<NativeSearchResults>;
  setNprobe(nprobe: number): void;
  setRerank(rerank: number): void;
  listSizes(): Float64Array;
  centroids(): Float32Array;
}

export interface NativeIndexClass<N> {
  load(path: string): N;
  loadAsync(path: string): Promise<N>;
  deserialize(buffer: Uint8Array): N;
}

export interface NativeIvfIndexClass extends NativeIndexClass<NativeIvfIndex> {
  new (dim: number, metric: string, nlist: number, nprobe: number, encoding: IVFEncoding, rerank: number): NativeIvfIndex;
}

export interface NativeFlatIndexClass extends NativeIndexClass<NativeFlatIndex> {
  new (dim: number, metric: string): NativeFlatIndex;
}

export interface NativeAddon {
  simdLevel(): 'scalar' | 'avx2' | 'avx512';
  getThreads(): number;
  setThreads(threads: number): void;
  hardwareThreads(): number;
  setErrorFactory(factory: (code: string, message: string) => Error): void;
  normalize(vectors: Float32Array, dim: number, out: Float32Array): number;
  probeFmaGflops(threads: number, seconds: number): number;
  probeReadGbps(threads: number, bytes: number, repeats: number): number;
  suggestNlist(n: number): number;
  tryLockFile(path: string, exclusive: boolean): number;
  unlockFile(fd: number): void;
  similarityMatrix(a: Float32Array, b: Float32Array, dim: number, metric: string): Float32Array;
  /** Values in the largest typed array the addon returns (2^32 - 1). */
  readonly maxArrayLength: number;
  kmeans(vectors: Float32Array, dim: number, options: NativeKMeansOptions, progress?: ProgressCallback): NativeKMeansResult;
  kmeansAsync(
    vectors: Float32Array,
    dim: number,
    options: NativeKMeansOptions,
    progress?: ProgressCallback,
  ): Promise<NativeKMeansResult>;
  FlatIndex: NativeFlatIndexClass;
  IvfIndex: NativeIvfIndexClass;
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
 * The addon, loaded on first call: a build made on this machine
 * (`build/Release`) when there is one, else the prebuilt binary for this
 * platform (`prebuilds/`, chosen by node-gyp-build's rules). Throws a
 * {@link NativeError} if neither loads.
 */
export function native(): NativeAddon {
  if (addon === undefined) {
    const require = createRequire(import.meta.url);
    let file: string;
    try {
      file = (require('node-gyp-build') as { resolve(dir: string): string }).resolve(packageRoot);
    } catch (err) {
      throw explainLoadFailure(err, undefined);
    }
    let loaded: NativeAddon;
    try {
      loaded = require(file) as NativeAddon;
    } catch (err) {
      throw explainLoadFailure(err, file);
    }
    loaded.setErrorFactory(createError);
    addon = loaded;
    origin = { path: file, kind: file.startsWith(join(packageRoot, 'prebuilds')) ? 'prebuilt' : 'source' };
  }
  return addon;
}

/** Which binary of the addon is in use (loads it if needed). */
export function addonOrigin(): AddonOrigin {
  native();
  return origin as AddonOrigin;
}
