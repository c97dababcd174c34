/**
 * bench/peers/driver.ts: what every library's driver offers bench:peers, and
 * the data set they all index. A driver builds an exact index and its
 * approximate indexes from the same Float32Array, searches them with one
 * query and with all queries, reports their memory and times their save and
 * load where the library has them; the benchmark interleaves the drivers and
 * computes every ratio itself.
 */
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { FlatIndex } from '../../src/index.js';
import type { ResultIds } from '../../src/index.js';
import { DIFFICULTIES, DIFFICULTY_NAMES, DIFFICULTY_NOTES, draw, rowViews, type Difficulty } from '../lib/data.js';
import { loadRealText } from '../lib/realtext.js';
import { BenchError } from '../lib/args.js';
import { fmtInt, progress } from '../lib/format.js';
import { collectGarbage } from '../lib/machine.js';
import { timeEachWarm, timed, type Timed } from '../lib/timing.js';
import type { ApproxIndexName } from './settings.js';
import { K, WARMUP_CALLS, type Lib, type Params } from './settings.js';

// ------------------------------------------------------------------- data ---

/**
 * The data sets of the approximate comparison: the synthetic mixtures, and
 * `realtext`, vectors with the structure of text embeddings (bench/lib/realtext.ts).
 */
export type DataName = Difficulty | 'realtext';
export const DATA_NAMES: readonly DataName[] = [...DIFFICULTY_NAMES, 'realtext'];

/** Two short lines describing a data set, for the charts. */
export const dataNotes = (name: DataName): readonly [string, string] =>
  name === 'realtext' ? ['realtext: TF-IDF + SVD of man pages', 'and package docs (held-out queries)'] : DIFFICULTY_NOTES[name];

/** One difficulty's vectors and queries, normalised, and their files for the subprocess. */
export interface Dataset {
  difficulty: DataName;
  dim: number;
  /** Rows indexed by every library. */
  n: number;
  /** At least n rows: the first n are `data`; k-means may use more. */
  rows: Float32Array;
  data: Float32Array;
  queries: Float32Array;
  qs: Float32Array[];
  /** hnswlib's input, converted outside the timings. */
  qsArrays: number[][];
  /** `rows` and `queries` as raw float32 files (written when FAISS runs). */
  rowsFile: string;
  queriesFile: string;
}

/** `rowCount` rows (the first p.n indexed) and p.queries queries of a difficulty, normalised (inner product = cosine). */
export function makeDataset(p: Params, difficulty: DataName, rowCount: number, tmp: string, writeFiles: boolean): Dataset {
  const { dim } = p;
  progress(`${difficulty}: ${difficulty === 'realtext' ? 'loading' : 'generating'} ${fmtInt(rowCount)} + ${fmtInt(p.queries)} rows`);
  let rows: Float32Array, queries: Float32Array;
  if (difficulty === 'realtext') {
    const real = loadRealText(rowCount, p.queries);
    if (real.dim !== dim) throw new BenchError(`the real-text set has ${real.dim} dimensions; run with --dim ${real.dim}`);
    if (real.nQueries < p.queries) throw new BenchError(`the real-text set has ${real.nQueries} queries; run with --queries ${real.nQueries} or fewer`);
    ({ vectors: rows, queries } = real);
  } else {
    ({ data: rows, queries } = draw(DIFFICULTIES[difficulty], dim, rowCount, p.queries, true));
  }
  const qs = rowViews(queries, dim);
  const set: Dataset = {
    difficulty,
    dim,
    n: p.n,
    rows,
    data: rows.subarray(0, p.n * dim), // rows are i.i.d.: a prefix is a sample too
    queries,
    qs,
    qsArrays: qs.map((q) => Array.from(q)),
    rowsFile: join(tmp, `${difficulty}.f32`),
    queriesFile: join(tmp, `${difficulty}-queries.f32`),
  };
  if (writeFiles) {
    writeFileSync(set.rowsFile, rows);
    writeFileSync(set.queriesFile, queries);
  }
  return set;
}

/** The exact top k of every query (semvec FlatIndex, untimed). */
export function groundTruth(set: Dataset): ResultIds[] {
  const flat = new FlatIndex({ dim: set.dim, metric: 'ip' });
  flat.add(set.data);
  const truth = flat.searchBatch(set.queries, K);
  flat.close();
  return truth;
}

// ---------------------------------------------------------------- indexes ---

/** One library's exact search, as the benchmark drives it. */
export interface ExactIndex {
  lib: Lib;
  /** The calls used, as the report names them. */
  call: { ingest: string; single: string; batch: string };
  /** (Re)builds the exact index from the Float32Array; null: there is none (usearch scans the array). */
  ingest: (() => Promise<{ seconds: number; conversionSeconds: number | null }>) | null;
  /** Seconds per call of `count` single-query calls (after a warm-up). */
  single(count: number): Promise<number[]>;
  /** One batch call over all queries. */
  batch(): Promise<Timed<ResultIds[]>>;
}

/** Size and persistence of a built index, measured once after the build. */
export interface Footprint {
  /** The index's own memory counter, or its file size where it has none. */
  memoryBytes: number;
  memorySource: 'memoryUsage()' | 'file size';
  fileBytes: number;
  saveSeconds: number;
  loadSeconds: number;
}

/** One value of a search-time setting: a number, or a string naming more than one (`'256 nprobe 64'`: ef 256 with nprobe 64). */
export type SettingValue = number | string;

/** One built approximate index and its search-time setting to sweep. */
export interface ApproxIndex<V extends SettingValue = number> {
  /** Curve and table name, e.g. 'FAISS IVF'. */
  label: string;
  lib: Lib;
  method: string;
  setting: 'nprobe' | 'ef';
  values: readonly V[];
  buildSeconds: number;
  buildDetail: Record<string, number>;
  footprint: Footprint;
  batch(value: V): Promise<Timed<ResultIds[]>>;
  /** Seconds per call of `count` single-query calls (after a warm-up). */
  single(value: V, count: number): Promise<number[]>;
  /** A batch search restricted to `allowIds`, where the library has one (semvec). */
  filtered?(allowIds: Float64Array, value: number): Timed<ResultIds[]>;
  /** Releases the index now (in-process indexes without one go with their last reference). */
  free?(): Promise<void>;
}

/**
 * One approximate index, not yet built. The benchmark builds, sweeps and
 * frees each in turn, so memory holds one index at a time (at 1M x 384 every
 * index built at once does not fit in 24 GiB).
 */
export interface ApproxBuild {
  label: ApproxIndexName;
  /** Builds the index (timed), then measures its memory, save and load. */
  build(): Promise<ApproxIndex<SettingValue>>;
}

/** What an approximate build needs besides the data: semvec's nlist (the IVF peers use the same) and a scratch directory. */
export interface BuildContext {
  nlist: number;
  tmp: string;
}

/** One k-means run: the call, as the report names it, and the run (its centroids are scored by the benchmark). */
export interface KMeansRun {
  lib: 'semvec' | 'faiss' | 'sklearn';
  call: string;
  run(): Promise<{ seconds: number; iterations: number; trainingPoints: number; ownInertia: number; centroids: Float32Array }>;
}

/** One library, as bench:peers drives it. */
export interface PeerDriver {
  readonly lib: Lib;
  /** Where it runs: in this process, or in a subprocess that times its own calls. */
  readonly runs: 'in-process' | 'subprocess';
  /** Name and version of the library (and of anything it brings along), for the report. */
  versions(): Record<string, string>;
  /** Hands the data set to the library before its indexes are built (untimed). */
  prepare?(set: Dataset): Promise<void>;
  exact(set: Dataset): ExactIndex;
  /** Frees the exact index (in-process ones go with their last reference). */
  dropExact?(): Promise<void>;
  /** The approximate indexes, each built on demand (timed), then its memory, save and load measured. */
  approximate(set: Dataset, at: BuildContext): ApproxBuild[];
  /** The k-means runs this library offers on the first `n` rows. */
  kmeans?(set: Dataset, n: number, k: number): KMeansRun[];
}

// ---------------------------------------------------------------- helpers ---

/** Seconds per call of fn(i) for i < count, after a few warm-up calls. */
export function timeSingles(count: number, fn: (i: number) => void): number[] {
  return timeEachWarm(WARMUP_CALLS, count, fn);
}

/** nprobe 1, 2, 4, ... below nlist, then nlist itself (exact: recall 1). */
export function nprobeSweep(nlist: number): number[] {
  const out: number[] = [];
  for (let nprobe = 1; nprobe < nlist; nprobe *= 2) out.push(nprobe);
  return [...out, nlist];
}

/** Times save(file) and load(file) of an in-process index (the loaded copy is dropped). */
export function footprintOf(file: string, memoryBytes: number | null, save: () => void, load: () => void): Footprint {
  const saved = timed(save);
  const loaded = timed(load);
  collectGarbage();
  const fileBytes = statSync(file).size;
  rmSync(file, { force: true });
  return {
    memoryBytes: memoryBytes ?? fileBytes,
    memorySource: memoryBytes === null ? 'file size' : 'memoryUsage()',
    fileBytes,
    saveSeconds: saved.seconds,
    loadSeconds: loaded.seconds,
  };
}

/** Rows of K result ids from the keys of all queries (row-major, K per query). */
export function idRows(keys: BigInt64Array | BigUint64Array, rows: number): ResultIds[] {
  return Array.from({ length: rows }, (_, i) => ({ ids: Array.from(keys.subarray(i * K, (i + 1) * K), Number) }));
}

/** A dependency's version from its package.json (usearch does not export that path). */
export const packageVersion = (name: string): string =>
  (JSON.parse(readFileSync(new URL(`../../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version: string }).version;
