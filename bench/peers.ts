/**
 * bench/peers.ts: semvec against the libraries users would pick instead.
 *
 * Run with `npm run bench:peers` (or `npx tsx bench/peers.ts --quick`).
 * One-off setup for the FAISS and scikit-learn side: `sh bench/setup-peers.sh`
 * (Debian's python3-faiss, python3-numpy, python3-sklearn). The benchmark
 * never installs anything: without FAISS it prints that command and runs the
 * other libraries only.
 *
 * Peers, all in this process except FAISS and scikit-learn:
 * - usearch (npm, prebuilt, runtime SIMD dispatch): exactSearch() for exact
 *   search (no index: it takes the raw Float32Array), Index (HNSW) for
 *   approximate search. threads = 0 (its automatic choice) everywhere.
 * - hnswlib-node (npm, built from source by node-gyp at install):
 *   BruteforceSearch for exact, HierarchicalNSW for approximate. Its API
 *   takes number[] per vector and has no batch search: ingest pays the
 *   Float32Array -> number[] conversion (reported separately); queries are
 *   converted once up front, outside the timings; its "batch" is a loop of
 *   searchKnn (single-threaded).
 * - FAISS (Debian python3-faiss, a generic build, not AVX-512 specialised):
 *   bench/peers_faiss.py under /usr/bin/python3, a line-protocol subprocess
 *   that reads the same vectors and queries from the .f32 files this script
 *   writes to a temp dir, and times its own calls (time.perf_counter around
 *   each index.search / add / train call; the pipe is not timed).
 *   IndexFlatIP for exact, IndexIVFFlat (inner product, same nlist as semvec,
 *   10 k-means iterations and at most 64 training points per centroid, as
 *   semvec's IVF defaults) for approximate, faiss.Kmeans for k-means.
 *   OpenMP threads: its default.
 * - scikit-learn (Debian python3-sklearn), k-means only: KMeans in the same
 *   subprocess.
 *
 * Data: the `hard` and `easy` mixtures of bench/ivf.ts (DIFFICULTIES in
 * bench/common.ts; --difficulty picks them), N x dim each, and `queries`
 * queries from the same mixture with another seed; all rows normalised,
 * metric inner product everywhere (semvec 'ip', FAISS METRIC_INNER_PRODUCT,
 * usearch 'ip', hnswlib 'ip'), k = 10.
 *
 * Method:
 * - Exact search and ingest run on the hard data only (exact search does
 *   not depend on how the data clusters).
 * - Ingest: time to put N vectors from one Float32Array into each exact
 *   index; `reps` repetitions, libraries interleaved (order rotated per
 *   repetition), medians reported.
 * - Exact single-query latency: `single` queries per library per repetition
 *   with each library's own single-query call, timed one by one with
 *   hrtime (FAISS: perf_counter in Python); per repetition the median and
 *   p99 (nearest rank); reported: the median over repetitions of each.
 * - Exact batch: all `queries` queries with each library's batch call
 *   (hnswlib: loop); median of `reps` interleaved repetitions; QPS.
 * - Agreement: recall@10 of each peer's exact batch result against semvec's
 *   FlatIndex.searchBatch (ties at the 10th score can make it a hair < 1).
 * - Approximate, per difficulty: semvec IVFIndex (one curve per entry of
 *   SEMVEC_IVF; nlist = suggestNlist(N), IVF defaults) and FAISS IVFFlat
 *   swept over nprobe = 1, 2, 4, ... and nlist (exact: every IVF curve ends
 *   at recall 1); usearch and hnswlib HNSW (M = 16, efConstruction = 128 for
 *   both) swept over ef (usearch: one build, saved once and loaded into an
 *   Index per expansion_search, since it has no ef setter). Per setting:
 *   recall@10 against the exact ground truth (FlatIndex.searchBatch), batch
 *   QPS (median of `reps` interleaved repetitions) and single-query median
 *   latency (`single` calls, one repetition). Build time: one build each.
 *   For each recall level 0.90/0.95/0.99: the fastest setting (batch QPS,
 *   and single-query median) reaching it, and semvec's speed as a multiple
 *   of each peer's.
 * - k-means, on the first `kmeans-n` rows of the hard data, k = `kmeans-k`:
 *   semvec kmeans, faiss.Kmeans and sklearn KMeans (n_init 1, algorithm
 *   'lloyd', tol 0), all with FAISS's defaults (25 iterations, seed 1234, at
 *   most 256 training points per centroid, a seeded subsample beyond) and
 *   random initialisation (FAISS has no k-means++). One run each, wall time
 *   of the call. Inertia is computed here, the same way for every library:
 *   the sum over the rows of the squared L2 distance to the nearest of the
 *   centroids it returned (the nearest found by an exact semvec FlatIndex,
 *   the distance summed in float64).
 * - Ratios: "semvec x" = peer time / semvec time (> 1: semvec is faster).
 * - Targets (TARGETS), each printed PASS or MISS with its numbers.
 *
 * Output: the tables on stdout, the same tables in a Markdown file (--md),
 * the results as JSON (--out), and SVG charts in --svg-dir: recall@10
 * against single-query QPS per difficulty (peers-<difficulty>.svg) and
 * exact-search QPS per library (peers-exact.svg).
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import vm from 'node:vm';

import usearch from 'usearch';

import { renderBarSvg, renderRecallQpsSvg } from '../src/cli/chart.js';
import { FlatIndex, IVF_TRAINING_DEFAULTS, IVFIndex, kmeans, normalizeInPlace, recallAtK, suggestNlist } from '../src/index.js';
import type { IVFIndexOptions, IVFSearchOptions, ResultIds } from '../src/index.js';
import {
  DIFFICULTIES,
  fmt,
  fmtBytes,
  fmtInt,
  fmtMs,
  machineInfo,
  machineLines,
  makeMixture,
  markdownTable,
  median,
  now,
  parseDifficulties,
  positiveInt,
  progress,
  quantile,
  sample,
  table,
  timeEach,
  verdict,
  type Difficulty,
  type Machine,
} from './common.js';

const require = createRequire(import.meta.url);
const hnswlib = require('hnswlib-node') as typeof import('hnswlib-node');

// ---------------------------------------------------------------- options ---

const K = 10;
const SEEDS = { mixture: 1, data: 2, queries: 3 } as const;
const EFS = [10, 20, 40, 80, 160, 320, 640, 1280] as const;
const HNSW_M = 16;
const HNSW_EF_CONSTRUCTION = 128;
const RECALL_LEVELS = [0.9, 0.95, 0.99] as const;
const WARMUP_CALLS = 3;
/** k-means settings of all three libraries: faiss.Kmeans's defaults; random init, as FAISS has no other. */
const KMEANS = { iterations: 25, maxPointsPerCentroid: 256, seed: 1234, init: 'random' } as const;
const PYTHON = '/usr/bin/python3';
const SETUP_COMMAND = 'sh bench/setup-peers.sh   # apt-get install python3-faiss python3-numpy python3-sklearn';

/** One semvec IVF curve of the approximate comparison. */
interface SemvecIvfConfig {
  label: string;
  /** IVFIndex options besides dim, metric and nlist (which the benchmark sets). */
  options: Omit<IVFIndexOptions, 'dim' | 'metric' | 'nlist'>;
  /** Options of every search call besides nprobe (which the sweep sets). */
  search?: Omit<IVFSearchOptions, 'nprobe'>;
}

/** The semvec IVF configurations swept against the peers: one line each. */
const SEMVEC_IVF: readonly SemvecIvfConfig[] = [
  { label: 'semvec IVF', options: {} },
  { label: 'semvec IVF-SQ8', options: { encoding: 'sq8' } },
];

/** Targets, judged from the measured numbers (exact: hard data; approximate: hard data at N). */
const TARGETS = {
  exactBatchOverFaiss: 3, // semvec exact batch QPS >= 3x FAISS ...
  exactBatchOverUsearch: 2, // ... and >= 2x usearch
  exactSingleOverBestPeer: 1.3, // exact single-query latency 1.3x lower than the best peer's
  recall: 0.95, // at recall@10 >= this, semvec IVF single-query QPS ...
  ivfOverFaissIvf: 1.5, // ... >= 1.5x FAISS IVF's ...
  ivfOverBestHnsw: 1, // ... and >= the best HNSW peer's
  hnswBuildOverIvfBuild: 10, // semvec IVF build <= 1/10 of each HNSW build
} as const;

interface Params {
  n: number;
  dim: number;
  queries: number;
  single: number;
  reps: number;
  difficulties: Difficulty[];
  approximate: boolean;
  kmeans: boolean;
  kmeansK: number;
  kmeansN: number;
  out: string;
  md: string;
  svgDir: string;
  quick: boolean;
}

function parseParams(): Params {
  const { values } = parseArgs({
    options: {
      n: { type: 'string' },
      dim: { type: 'string', default: '384' },
      queries: { type: 'string', default: '1000' },
      single: { type: 'string', default: '100' },
      reps: { type: 'string', default: '3' },
      difficulty: { type: 'string', default: 'hard,easy' },
      'no-approximate': { type: 'boolean', default: false },
      'no-kmeans': { type: 'boolean', default: false },
      'kmeans-k': { type: 'string' },
      'kmeans-n': { type: 'string' },
      out: { type: 'string', default: 'bench/results/peers.json' },
      md: { type: 'string', default: 'bench/results/peers.md' },
      'svg-dir': { type: 'string', default: 'bench/results' },
      quick: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const quick = values.quick === true;
  const kmeansK = positiveInt(values['kmeans-k'] ?? (quick ? '200' : '1000'), 'kmeans-k');
  const kmeansN = positiveInt(values['kmeans-n'] ?? (quick ? '20000' : '100000'), 'kmeans-n');
  if (kmeansK > kmeansN) throw new Error(`--kmeans-k ${kmeansK} is larger than --kmeans-n ${kmeansN}`);
  return {
    n: positiveInt(values.n ?? (quick ? '20000' : '100000'), 'n'),
    dim: positiveInt(values.dim, 'dim'),
    queries: positiveInt(values.queries, 'queries'),
    single: positiveInt(values.single, 'single'),
    reps: positiveInt(values.reps, 'reps'),
    difficulties: parseDifficulties(values.difficulty),
    approximate: values['no-approximate'] !== true,
    kmeans: values['no-kmeans'] !== true,
    kmeansK,
    kmeansN,
    out: resolve(values.out),
    md: resolve(values.md),
    svgDir: resolve(values['svg-dir']),
    quick,
  };
}

// ----------------------------------------------------------------- report ---

/** What the run prints; the same text and tables go, as Markdown, to the --md file. */
class Report {
  readonly #md: string[] = [];

  /** A section title (level 2) or sub-title (level 3). */
  heading(text: string, level: 2 | 3 = 2): void {
    console.log(level === 2 ? `\n${text}` : `\n  ${text}`);
    this.#md.push(`${'#'.repeat(level)} ${text}`, '');
  }

  /** Lines of text (one paragraph in Markdown). */
  text(...lines: string[]): void {
    for (const line of lines) console.log(`  ${line}`);
    this.#md.push(lines.join('\n'), '');
  }

  /** name-value lines (a list in Markdown). */
  list(items: readonly (readonly [string, string])[]): void {
    const width = Math.max(9, ...items.map(([name]) => name.length));
    for (const [name, value] of items) console.log(`  ${name.padEnd(width)} ${value}`);
    this.#md.push(...items.map(([name, value]) => `- ${name}: ${value}`), '');
  }

  /** A table; the first `left` columns left-aligned, the others right-aligned. */
  table(headers: string[], rows: string[][], { indent = '  ', left = 1 } = {}): void {
    console.log(table(headers, rows, indent, left));
    this.#md.push(markdownTable(headers, rows, left), '');
  }

  /** Markdown only (an image, say). */
  markdown(text: string): void {
    this.#md.push(text, '');
  }

  toMarkdown(title: string): string {
    return `# ${title}\n\n${this.#md.join('\n').trimEnd()}\n`;
  }
}

// ------------------------------------------------------------------- data ---

/** One difficulty's vectors and queries, normalised, and their files for FAISS. */
interface Dataset {
  difficulty: Difficulty;
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

function makeDataset(p: Params, difficulty: Difficulty, rowCount: number, tmp: string, writeFiles: boolean): Dataset {
  const { dim } = p;
  progress(`${difficulty}: generating ${fmtInt(rowCount)} + ${fmtInt(p.queries)} rows`);
  const mixture = makeMixture(dim, SEEDS.mixture, DIFFICULTIES[difficulty]);
  const rows = sample(mixture, rowCount, SEEDS.data); // rows are i.i.d.: a prefix is a sample too
  const queries = sample(mixture, p.queries, SEEDS.queries);
  normalizeInPlace(rows, dim);
  normalizeInPlace(queries, dim);
  const qs = Array.from({ length: p.queries }, (_, i) => queries.subarray(i * dim, (i + 1) * dim));
  const set: Dataset = {
    difficulty,
    dim,
    n: p.n,
    rows,
    data: rows.subarray(0, p.n * dim),
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
function groundTruth(set: Dataset): ResultIds[] {
  const flat = new FlatIndex({ dim: set.dim, metric: 'ip' });
  flat.add(set.data);
  return flat.searchBatch(set.queries, K);
}

// ------------------------------------------------------------------ faiss ---

/** The FAISS subprocess (bench/peers_faiss.py), one JSON line per command. */
class Faiss {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #pending: ((line: string) => void)[] = [];
  readonly #idsPath: string;
  #queries = 0;

  constructor(script: string, tmp: string) {
    this.#idsPath = join(tmp, 'ids.i64');
    this.#child = spawn(PYTHON, [script], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child.stderr.on('data', (d: Buffer) => process.stderr.write(`  [faiss] ${d.toString()}`));
    createInterface({ input: this.#child.stdout }).on('line', (line) => this.#pending.shift()?.(line));
  }

  async call<T>(cmd: Record<string, unknown>): Promise<T> {
    const line = await new Promise<string>((ok) => {
      this.#pending.push(ok);
      this.#child.stdin.write(`${JSON.stringify(cmd)}\n`);
    });
    const reply = JSON.parse(line) as T & { error?: string };
    if (reply.error !== undefined) throw new Error(`faiss ${String(cmd.cmd)}: ${reply.error}`);
    return reply;
  }

  /** Loads the first n rows of the data set and its queries (for later builds and searches). */
  async load(set: Dataset): Promise<void> {
    const r = await this.call<{ nq: number }>({ cmd: 'load', data: set.rowsFile, queries: set.queriesFile, dim: set.dim, rows: set.n });
    this.#queries = r.nq;
  }

  /** Seconds per call of `count` single-query searches (after a warm-up). */
  async single(index: 'flat' | 'ivf', count: number, nprobe?: number): Promise<number[]> {
    return (await this.call<{ times: number[] }>({ cmd: 'single', index, count, nprobe, out: this.#idsPath })).times;
  }

  /** One search of all queries. */
  async batch(index: 'flat' | 'ivf', nprobe?: number): Promise<Timed<ResultIds[]>> {
    const r = await this.call<{ seconds: number }>({ cmd: 'batch', index, nprobe, out: this.#idsPath });
    return { seconds: r.seconds, value: readIds(this.#idsPath, this.#queries) };
  }

  async quit(): Promise<void> {
    await this.call({ cmd: 'quit' });
    this.#child.stdin.end();
  }
}

/** Whether /usr/bin/python3 can import faiss and numpy (no install, ever). */
function faissAvailable(): boolean {
  const r = spawnSync(PYTHON, ['-c', 'import faiss, numpy'], { encoding: 'utf8' });
  return r.status === 0;
}

function readIds(path: string, rows: number): ResultIds[] {
  const buf = readFileSync(path);
  const all = new BigInt64Array(buf.buffer, buf.byteOffset, buf.byteLength / 8);
  return Array.from({ length: rows }, (_, i) => ({ ids: Array.from(all.subarray(i * K, (i + 1) * K), Number) }));
}

function readF32(path: string): Float32Array {
  const buf = readFileSync(path);
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

// ---------------------------------------------------------------- helpers ---

/** A dependency's version from its package.json (usearch does not export that path). */
const packageVersion = (name: string): string =>
  (JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version: string }).version;

type Lib = 'semvec' | 'faiss' | 'usearch' | 'hnswlib';

/** Rotates the list by r (the interleaving order of repetition r). */
const rotate = <T>(xs: readonly T[], r: number): T[] => xs.map((_, i) => xs[(i + r) % xs.length]!);

const fromUsearch = (m: { keys: BigUint64Array }, rows: number): ResultIds[] =>
  Array.from({ length: rows }, (_, i) => ({ ids: Array.from(m.keys.subarray(i * K, (i + 1) * K), Number) }));

interface Timed<T> {
  seconds: number;
  value: T;
}

function timed<T>(fn: () => T): Timed<T> {
  const t0 = now();
  const value = fn();
  return { seconds: now() - t0, value };
}

/** Seconds per call of fn(i) for i < count, after a few warm-up calls. */
function timeSingles(count: number, fn: (i: number) => void): number[] {
  for (let i = 0; i < WARMUP_CALLS; i++) fn(i);
  return timeEach(count, fn);
}

/** Adds every row to hnswlib as number[]; the conversion time is also reported on its own. */
function addAsArrays(set: Dataset, add: (row: number[], i: number) => void): { seconds: number; conversionSeconds: number } {
  const { dim, n, data } = set;
  let conversionSeconds = 0;
  const t0 = now();
  for (let i = 0; i < n; i++) {
    const c0 = now();
    const row = Array.from(data.subarray(i * dim, (i + 1) * dim));
    conversionSeconds += now() - c0;
    add(row, i);
    if (i % 20000 === 19999) progress(`hnswlib: ${fmtInt(i + 1)} added, ${fmt(now() - t0, 1)} s`);
  }
  return { seconds: now() - t0, conversionSeconds };
}

interface Single {
  medianMs: number;
  p99Ms: number;
}

const singleOf = (secondsPerCall: readonly number[]): Single => ({
  medianMs: median(secondsPerCall) * 1e3,
  p99Ms: quantile(secondsPerCall, 0.99) * 1e3,
});

const medianSingle = (xs: readonly Single[]): Single => ({
  medianMs: median(xs.map((x) => x.medianMs)),
  p99Ms: median(xs.map((x) => x.p99Ms)),
});

/** "3.41x" (peer time / semvec time), or "-" for semvec's own row. */
const times = (peer: number, semvec: number, self: boolean): string => (self ? '-' : `${fmt(peer / semvec, 2)}x`);
const fmtRatio = (x: number | null): string => (x === null ? '-' : `${fmt(x, 2)}x`);
const fmtQps = (qps: number): string => (qps >= 100 ? fmtInt(qps) : fmt(qps, 1));
/** 1000000 -> "1M", 100000 -> "100k". */
const fmtSize = (n: number): string => (n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}M` : n >= 1e3 && n % 1e3 === 0 ? `${n / 1e3}k` : fmtInt(n));

// ------------------------------------------------------------------ exact ---

interface ExactRow {
  lib: Lib;
  call: { ingest: string; single: string; batch: string };
  ingestSeconds: number | null;
  conversionSeconds: number | null;
  single: Single;
  batchSeconds: number;
  batchQps: number;
  recallVsSemvec: number;
  semvecSingleSpeedup: number;
  semvecBatchSpeedup: number;
}

interface ExactResult {
  difficulty: Difficulty;
  n: number;
  rows: ExactRow[];
}

/** One library's exact search, as the benchmark drives it. */
interface ExactPeer {
  lib: Lib;
  call: ExactRow['call'];
  /** (Re)builds the exact index from the Float32Array; null: there is none (usearch). */
  ingest: (() => Promise<{ seconds: number; conversionSeconds: number | null }>) | null;
  /** Seconds per call of `count` single-query calls. */
  single(count: number): Promise<number[]>;
  /** One batch call over all queries. */
  batch(): Promise<Timed<ResultIds[]>>;
}

function semvecExact(set: Dataset): ExactPeer {
  let flat = new FlatIndex({ dim: set.dim, metric: 'ip' });
  return {
    lib: 'semvec',
    call: { ingest: 'FlatIndex.add(Float32Array)', single: 'search', batch: 'searchBatch' },
    ingest: async () => {
      flat = new FlatIndex({ dim: set.dim, metric: 'ip' });
      return { seconds: timed(() => flat.add(set.data)).seconds, conversionSeconds: null };
    },
    single: async (count) => timeSingles(count, (i) => flat.search(set.qs[i]!, K)),
    batch: async () => timed(() => flat.searchBatch(set.queries, K)),
  };
}

function faissExact(faiss: Faiss): ExactPeer {
  return {
    lib: 'faiss',
    call: { ingest: 'IndexFlatIP.add(ndarray)', single: 'search (1 row)', batch: 'search (all rows)' },
    ingest: async () => ({ seconds: (await faiss.call<{ seconds: number }>({ cmd: 'flat_build' })).seconds, conversionSeconds: null }),
    single: (count) => faiss.single('flat', count),
    batch: () => faiss.batch('flat'),
  };
}

function usearchExact(set: Dataset): ExactPeer {
  const search = (q: Float32Array) => usearch.exactSearch(set.data, q, set.dim, K, usearch.MetricKind.IP, 0);
  return {
    lib: 'usearch',
    call: { ingest: 'none (exactSearch scans the array)', single: 'exactSearch (1 query)', batch: 'exactSearch (all queries)' },
    ingest: null,
    single: async (count) => timeSingles(count, (i) => search(set.qs[i]!)),
    batch: async () => {
      const t = timed(() => search(set.queries));
      return { seconds: t.seconds, value: fromUsearch(t.value, set.qs.length) };
    },
  };
}

function hnswlibExact(set: Dataset): ExactPeer {
  let brute = new hnswlib.BruteforceSearch('ip', set.dim);
  return {
    lib: 'hnswlib',
    call: { ingest: 'BruteforceSearch.addPoint(number[]) loop', single: 'searchKnn', batch: 'loop of searchKnn (no batch call)' },
    ingest: async () => {
      brute = new hnswlib.BruteforceSearch('ip', set.dim);
      brute.initIndex(set.n);
      return addAsArrays(set, (row, i) => brute.addPoint(row, i));
    },
    single: async (count) => timeSingles(count, (i) => brute.searchKnn(set.qsArrays[i]!, K)),
    batch: async () => timed(() => set.qsArrays.map((q) => ({ ids: brute.searchKnn(q, K).neighbors }))),
  };
}

/** Ingest, then single and batch search, `reps` interleaved repetitions of each. */
async function runExact(p: Params, set: Dataset, faiss: Faiss | null): Promise<ExactResult> {
  const peers = [semvecExact(set), ...(faiss ? [faissExact(faiss)] : []), usearchExact(set), hnswlibExact(set)];
  const runs = peers.map((peer) => ({ peer, ingest: [] as number[], conversion: [] as number[], single: [] as Single[], batch: [] as number[], ids: [] as ResultIds[] }));
  const singleCount = Math.min(p.single, p.queries);
  for (let r = 0; r < p.reps; r++) {
    for (const run of rotate(runs, r)) {
      if (run.peer.ingest === null) continue;
      progress(`ingest rep ${r + 1}/${p.reps}: ${run.peer.lib}`);
      const t = await run.peer.ingest();
      run.ingest.push(t.seconds);
      if (t.conversionSeconds !== null) run.conversion.push(t.conversionSeconds);
    }
  }
  for (let r = 0; r < p.reps; r++) {
    for (const run of rotate(runs, r)) {
      progress(`exact rep ${r + 1}/${p.reps}: ${run.peer.lib}: ${singleCount} single queries, batch of ${fmtInt(p.queries)}`);
      run.single.push(singleOf(await run.peer.single(singleCount)));
      const b = await run.peer.batch();
      run.batch.push(b.seconds);
      if (r === 0) run.ids = b.value;
    }
  }
  const truth = runs[0]!.ids;
  const semvecSingle = medianSingle(runs[0]!.single);
  const semvecBatch = median(runs[0]!.batch);
  const rows = runs.map((run): ExactRow => {
    const s = medianSingle(run.single);
    const b = median(run.batch);
    return {
      lib: run.peer.lib,
      call: run.peer.call,
      ingestSeconds: run.ingest.length > 0 ? median(run.ingest) : null,
      conversionSeconds: run.conversion.length > 0 ? median(run.conversion) : null,
      single: s,
      batchSeconds: b,
      batchQps: p.queries / b,
      recallVsSemvec: run.peer.lib === 'semvec' ? 1 : recallAtK(run.ids, truth, K),
      semvecSingleSpeedup: s.medianMs / semvecSingle.medianMs,
      semvecBatchSpeedup: b / semvecBatch,
    };
  });
  return { difficulty: set.difficulty, n: set.n, rows };
}

function printExact(report: Report, exact: ExactResult, p: Params): void {
  const semvec = exact.rows[0]!;
  report.heading(`Exact search, ${exact.difficulty} data only, N = ${fmtInt(exact.n)} x ${p.dim} (median of ${p.reps} interleaved repetitions; semvec x = peer time / semvec time)`);
  report.table(
    ['library', 'single median', 'single p99', 'semvec x', 'batch QPS', 'semvec x', 'recall@10 vs semvec', 'batch call'],
    exact.rows.map((e) => [
      e.lib,
      fmtMs(e.single.medianMs),
      fmtMs(e.single.p99Ms),
      times(e.single.medianMs, semvec.single.medianMs, e.lib === 'semvec'),
      fmtInt(e.batchQps),
      times(e.batchSeconds, semvec.batchSeconds, e.lib === 'semvec'),
      fmt(e.recallVsSemvec, 4),
      e.call.batch,
    ]),
  );
  report.heading(`Ingest of ${fmtInt(exact.n)} vectors from one Float32Array into the exact index (median of ${p.reps})`);
  report.table(
    ['library', 'time', 'of which number[] conversion', 'semvec x', 'call'],
    exact.rows.map((e) => [
      e.lib,
      e.ingestSeconds === null ? '-' : fmtMs(e.ingestSeconds * 1e3),
      e.conversionSeconds === null ? '-' : fmtMs(e.conversionSeconds * 1e3),
      e.ingestSeconds === null ? '-' : times(e.ingestSeconds, semvec.ingestSeconds!, e.lib === 'semvec'),
      e.call.ingest,
    ]),
  );
}

// ------------------------------------------------------------ approximate ---

/** One built approximate index and its search-time setting to sweep. */
interface Sweep {
  /** Curve and table name, e.g. 'FAISS IVF'. */
  label: string;
  lib: Lib;
  method: string;
  setting: 'nprobe' | 'ef';
  values: readonly number[];
  buildSeconds: number;
  buildDetail: Record<string, number>;
  footprint: Footprint;
  batch(value: number): Promise<Timed<ResultIds[]>>;
  /** Seconds per call of `count` single-query calls. */
  single(value: number, count: number): Promise<number[]>;
}

interface ApproxRow {
  value: number; // nprobe or ef
  recall: number;
  batchQps: number;
  singleMedianMs: number;
  singleQps: number;
}

interface ApproxLib {
  label: string;
  lib: Lib;
  method: string;
  setting: 'nprobe' | 'ef';
  buildSeconds: number;
  buildDetail: Record<string, number>;
  footprint: Footprint;
  rows: ApproxRow[];
}

/** Size and persistence of a built index, measured once after the build. */
interface Footprint {
  /** The index's own memory counter, or its file size where it has none. */
  memoryBytes: number;
  memorySource: 'memoryUsage()' | 'file size';
  fileBytes: number;
  saveSeconds: number;
  loadSeconds: number;
}

// Indexes hold native memory the JavaScript heap does not see, so a dropped
// 1M-vector index can linger until a collection; the benchmark collects
// explicitly after dropping one (eight such copies would not fit in 24 GiB).
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;

/** Times save(file) and load(file) of an in-process index (the loaded copy is dropped). */
function footprintOf(file: string, memoryBytes: number | null, save: () => void, load: () => void): Footprint {
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

/** The fastest setting of one index reaching a recall level. */
type Pick = (ApproxRow & { setting: string }) | null;

interface LevelRow {
  level: number;
  /** Per label: the highest batch QPS among the settings reaching the level. */
  batch: Record<string, Pick>;
  /** Per label: the lowest single-query median among the settings reaching the level. */
  single: Record<string, Pick>;
}

interface ApproxRun {
  difficulty: Difficulty;
  n: number;
  nlist: number;
  libs: ApproxLib[];
  levels: LevelRow[];
}

/** nprobe 1, 2, 4, ... below nlist, then nlist itself (exact: recall 1). */
function nprobeSweep(nlist: number): number[] {
  const out: number[] = [];
  for (let nprobe = 1; nprobe < nlist; nprobe *= 2) out.push(nprobe);
  return [...out, nlist];
}

function semvecIvf(config: SemvecIvfConfig, set: Dataset, nlist: number, tmp: string): Sweep {
  progress(`${set.difficulty}: ${config.label} build (nlist ${nlist})`);
  const ivf = new IVFIndex({ ...config.options, dim: set.dim, metric: 'ip', nlist });
  const train = timed(() => ivf.train(set.data));
  const add = timed(() => ivf.add(set.data));
  const training = { ...IVF_TRAINING_DEFAULTS, ...config.options.training };
  const extra = [
    Object.keys(config.options).length > 0 ? `options ${JSON.stringify(config.options)}` : '',
    config.search ? `search ${JSON.stringify(config.search)}` : '',
  ].filter((s) => s !== '');
  const search = (nprobe: number): IVFSearchOptions => ({ ...config.search, nprobe });
  const file = join(tmp, 'semvec-ivf.svx');
  const footprint = footprintOf(file, ivf.memoryUsage(), () => ivf.save(file), () => IVFIndex.load(file));
  return {
    label: config.label,
    lib: 'semvec',
    method: `IVFIndex nlist ${nlist} (${training.iterations} iterations, <= ${training.maxPointsPerCentroid} points/centroid)${extra.length > 0 ? `, ${extra.join(', ')}` : ''}`,
    setting: 'nprobe',
    values: nprobeSweep(nlist),
    buildSeconds: train.seconds + add.seconds,
    buildDetail: { trainSeconds: train.seconds, addSeconds: add.seconds },
    footprint,
    batch: async (nprobe) => timed(() => ivf.searchBatch(set.queries, K, search(nprobe))),
    single: async (nprobe, count) => timeSingles(count, (i) => ivf.search(set.qs[i]!, K, search(nprobe))),
  };
}

async function faissIvf(faiss: Faiss, set: Dataset, nlist: number, tmp: string): Promise<Sweep> {
  progress(`${set.difficulty}: FAISS IVFFlat build (nlist ${nlist})`);
  const { iterations, maxPointsPerCentroid } = IVF_TRAINING_DEFAULTS;
  const b = await faiss.call<{ trainSeconds: number; addSeconds: number }>({ cmd: 'ivf_build', nlist, niter: iterations, maxPointsPerCentroid });
  const file = join(tmp, 'faiss-ivf.index');
  const io = await faiss.call<{ saveSeconds: number; loadSeconds: number; fileBytes: number }>({ cmd: 'ivf_io', path: file });
  rmSync(file, { force: true });
  const footprint: Footprint = { memoryBytes: io.fileBytes, memorySource: 'file size', ...io };
  return {
    label: 'FAISS IVF',
    lib: 'faiss',
    method: `IndexIVFFlat nlist ${nlist} (niter ${iterations}, max_points_per_centroid ${maxPointsPerCentroid})`,
    setting: 'nprobe',
    values: nprobeSweep(nlist),
    buildSeconds: b.trainSeconds + b.addSeconds,
    buildDetail: b,
    footprint,
    batch: (nprobe) => faiss.batch('ivf', nprobe),
    single: (nprobe, count) => faiss.single('ivf', count, nprobe),
  };
}

function usearchHnsw(set: Dataset, tmp: string): Sweep {
  progress(`${set.difficulty}: usearch HNSW build (M ${HNSW_M}, efConstruction ${HNSW_EF_CONSTRUCTION}, threads auto)`);
  const config = (ef: number) => ({
    dimensions: set.dim,
    metric: usearch.MetricKind.IP,
    quantization: usearch.ScalarKind.F32,
    connectivity: HNSW_M,
    expansion_add: HNSW_EF_CONSTRUCTION,
    expansion_search: ef,
    multi: false,
  });
  const keys = new BigUint64Array(set.n);
  for (let i = 0; i < set.n; i++) keys[i] = BigInt(i);
  const built = new usearch.Index(config(EFS[0]));
  const build = timed(() => built.add(keys, set.data, 0));
  const file = join(tmp, `hnsw-${set.difficulty}.usearch`);
  const footprint = footprintOf(file, null, () => built.save(file), () => new usearch.Index(config(EFS[0])).load(file));
  built.save(file);
  // One index per ef, all views of one memory-mapped file (no copies: at 1M
  // eight loaded copies would not fit in memory beside the other indexes).
  const byEf = new Map<number, InstanceType<typeof usearch.Index>>(
    EFS.map((ef) => {
      const u = new usearch.Index(config(ef));
      u.view(file);
      return [ef, u] as const;
    }),
  );
  return {
    label: 'usearch HNSW',
    lib: 'usearch',
    method: `Index HNSW connectivity ${HNSW_M}, expansion_add ${HNSW_EF_CONSTRUCTION}, f32`,
    setting: 'ef',
    values: EFS,
    buildSeconds: build.seconds,
    buildDetail: { addSeconds: build.seconds },
    footprint,
    batch: async (ef) => {
      const t = timed(() => byEf.get(ef)!.search(set.queries, K, 0));
      return { seconds: t.seconds, value: fromUsearch(t.value, set.qs.length) };
    },
    single: async (ef, count) => {
      const u = byEf.get(ef)!;
      return timeSingles(count, (i) => u.search(set.qs[i]!, K, 0));
    },
  };
}

function hnswlibHnsw(set: Dataset, tmp: string): Sweep {
  progress(`${set.difficulty}: hnswlib HNSW build (M ${HNSW_M}, efConstruction ${HNSW_EF_CONSTRUCTION}, single-threaded addPoint loop)`);
  const hnsw = new hnswlib.HierarchicalNSW('ip', set.dim);
  hnsw.initIndex({ maxElements: set.n, m: HNSW_M, efConstruction: HNSW_EF_CONSTRUCTION, randomSeed: 100 });
  const build = addAsArrays(set, (row, i) => hnsw.addPoint(row, i));
  const file = join(tmp, 'hnswlib.bin');
  const footprint = footprintOf(file, null, () => hnsw.writeIndexSync(file), () => new hnswlib.HierarchicalNSW('ip', set.dim).readIndexSync(file));
  return {
    label: 'hnswlib HNSW',
    lib: 'hnswlib',
    method: `HierarchicalNSW M ${HNSW_M}, efConstruction ${HNSW_EF_CONSTRUCTION}`,
    setting: 'ef',
    values: EFS,
    buildSeconds: build.seconds,
    buildDetail: { addSeconds: build.seconds, conversionSeconds: build.conversionSeconds },
    footprint,
    batch: async (ef) => {
      hnsw.setEf(ef);
      return timed(() => set.qsArrays.map((q) => ({ ids: hnsw.searchKnn(q, K).neighbors })));
    },
    single: async (ef, count) => {
      hnsw.setEf(ef);
      return timeSingles(count, (i) => hnsw.searchKnn(set.qsArrays[i]!, K));
    },
  };
}

/** Recall on repetition 0, batch QPS as the median of `reps` interleaved repetitions, then single queries. */
async function measureSweeps(p: Params, set: Dataset, sweeps: readonly Sweep[], truth: ResultIds[]): Promise<ApproxLib[]> {
  const runs = sweeps.map((sweep) => ({ sweep, batch: sweep.values.map(() => [] as number[]), recall: sweep.values.map(() => 0) }));
  for (let r = 0; r < p.reps; r++) {
    for (const run of rotate(runs, r)) {
      progress(`${set.difficulty}: approximate rep ${r + 1}/${p.reps}: ${run.sweep.label} sweep`);
      for (const [j, value] of run.sweep.values.entries()) {
        const b = await run.sweep.batch(value);
        run.batch[j]!.push(b.seconds);
        if (r === 0) run.recall[j] = recallAtK(b.value, truth, K);
      }
    }
  }
  const singleCount = Math.min(p.single, p.queries);
  progress(`${set.difficulty}: approximate: single-query latency (${singleCount} per setting)`);
  const out: ApproxLib[] = [];
  for (const { sweep, batch, recall } of runs) {
    const rows: ApproxRow[] = [];
    for (const [j, value] of sweep.values.entries()) {
      const singleMedianMs = median(await sweep.single(value, singleCount)) * 1e3;
      rows.push({ value, recall: recall[j]!, batchQps: p.queries / median(batch[j]!), singleMedianMs, singleQps: 1e3 / singleMedianMs });
    }
    const { label, lib, method, setting, buildSeconds, buildDetail, footprint } = sweep;
    out.push({ label, lib, method, setting, buildSeconds, buildDetail, footprint, rows });
  }
  return out;
}

/** The fastest setting reaching the recall level: highest batch QPS, or lowest single-query median. */
function fastest(a: ApproxLib, level: number, by: 'batch' | 'single'): Pick {
  const ok = a.rows.filter((row) => row.recall >= level);
  if (ok.length === 0) return null;
  const best = ok.reduce((x, y) => ((by === 'batch' ? y.batchQps > x.batchQps : y.singleMedianMs < x.singleMedianMs) ? y : x));
  return { ...best, setting: `${a.setting} ${best.value}` };
}

async function runApproximate(p: Params, set: Dataset, faiss: Faiss | null, tmp: string): Promise<ApproxRun> {
  const nlist = suggestNlist(set.n);
  progress(`${set.difficulty}: ground truth`);
  const truth = groundTruth(set);
  if (faiss) await faiss.load(set);
  const sweeps: Sweep[] = [
    ...SEMVEC_IVF.map((config) => semvecIvf(config, set, nlist, tmp)),
    ...(faiss ? [await faissIvf(faiss, set, nlist, tmp)] : []),
    usearchHnsw(set, tmp),
    hnswlibHnsw(set, tmp),
  ];
  const libs = await measureSweeps(p, set, sweeps, truth);
  const levels = RECALL_LEVELS.map((level) => ({
    level,
    batch: Object.fromEntries(libs.map((a) => [a.label, fastest(a, level, 'batch')])),
    single: Object.fromEntries(libs.map((a) => [a.label, fastest(a, level, 'single')])),
  }));
  return { difficulty: set.difficulty, n: set.n, nlist, libs, levels };
}

function printApproximate(report: Report, run: ApproxRun, p: Params, svgFile: string): void {
  const where = `${run.difficulty} data, N = ${fmtInt(run.n)}, nlist ${fmtInt(run.nlist)}`;
  const ref = run.libs[0]!; // the first semvec IVF configuration
  report.heading(`Approximate search, ${where}: builds (one each), memory, save and load`);
  report.table(
    ['index', 'build', `x ${ref.label}`, 'memory', 'file', 'save', 'load', 'method'],
    run.libs.map((a) => [
      a.label,
      fmtMs(a.buildSeconds * 1e3),
      times(a.buildSeconds, ref.buildSeconds, a === ref),
      `${fmtBytes(a.footprint.memoryBytes)}${a.footprint.memorySource === 'file size' ? ' *' : ''}`,
      fmtBytes(a.footprint.fileBytes),
      fmtMs(a.footprint.saveSeconds * 1e3),
      fmtMs(a.footprint.loadSeconds * 1e3),
      a.method,
    ]),
  );
  report.text('memory: memoryUsage() where the library has one; * = the file size instead (no memory counter). save/load: one file each, timed once.');
  for (const a of run.libs) {
    report.heading(`${a.label} (${run.difficulty}): ${a.method}`, 3);
    report.table(
      [a.setting, 'recall@10', 'batch QPS', 'single median', 'single QPS'],
      a.rows.map((row) => [String(row.value), fmt(row.recall, 4), fmtInt(row.batchQps), fmtMs(row.singleMedianMs), fmtQps(row.singleQps)]),
      { indent: '    ' },
    );
  }
  // semvec's advantage: each semvec configuration against each peer.
  const semvecs = run.libs.filter((a) => a.lib === 'semvec');
  const peers = run.libs.filter((a) => a.lib !== 'semvec');
  const pairs = semvecs.flatMap((s) => peers.map((peer) => [s, peer] as const));
  const levelTable = (by: 'batch' | 'single', title: string, cell: (x: NonNullable<Pick>) => string, ratio: (s: NonNullable<Pick>, peer: NonNullable<Pick>) => number) => {
    report.heading(`Fastest setting reaching each recall@10 level, ${run.difficulty} data (${title})`);
    report.table(
      ['recall >=', ...run.libs.map((a) => a.label), ...pairs.map(([s, peer]) => `${s.label} x ${peer.label}`)],
      run.levels.map((lv) => [
        fmt(lv.level, 2),
        ...run.libs.map((a) => {
          const x = lv[by][a.label];
          return x ? `${cell(x)} (${x.setting})` : 'not reached';
        }),
        ...pairs.map(([s, peer]) => {
          const sx = lv[by][s.label];
          const px = lv[by][peer.label];
          return fmtRatio(sx && px ? ratio(sx, px) : null);
        }),
      ]),
    );
  };
  levelTable('batch', 'batch QPS; x = semvec QPS / peer QPS', (x) => fmtInt(x.batchQps), (s, peer) => s.batchQps / peer.batchQps);
  levelTable('single', 'single-query median; x = peer latency / semvec latency', (x) => fmtMs(x.singleMedianMs), (s, peer) => peer.singleMedianMs / s.singleMedianMs);
  report.markdown(`![recall@10 against single-query QPS, ${run.difficulty} data](${relative(dirname(p.md), svgFile)})`);
}

/** recall@10 against single-query QPS, one curve per index (as ann-benchmarks plots). */
function renderApproxSvg(run: ApproxRun, p: Params, machine: Machine, exact: ExactResult | null): string {
  const flat = exact?.difficulty === run.difficulty ? exact.rows[0] : undefined;
  return renderRecallQpsSvg({
    title: `semvec vs FAISS, usearch, hnswlib: recall@${K} against single-query QPS (${run.difficulty}, N = ${fmtSize(run.n)})`,
    subtitle: `dim ${p.dim}, inner product, ${fmtInt(p.queries)} queries; ${machine.cpu}, ${machine.logicalCores} cores, ${machine.simd}; ${machine.date.slice(0, 10)}`,
    k: K,
    series: run.libs.map((a) => ({
      name: a.label,
      points: a.rows.map((row) => ({ recall: row.recall, qps: row.singleQps, label: String(row.value) })),
      dashed: a.setting === 'ef',
    })),
    baselines: flat ? [{ name: 'semvec FlatIndex (exact)', qps: 1e3 / flat.single.medianMs }] : [],
    notes: [
      `IVF: nlist ${fmtInt(run.nlist)}; labels: nprobe`,
      `HNSW: M ${HNSW_M}, efConstruction ${HNSW_EF_CONSTRUCTION};`,
      'labels: ef',
      '',
      run.difficulty === 'hard' ? 'hard: overlapping isotropic' : 'easy: separated, nearly flat',
      run.difficulty === 'hard' ? 'clusters + 10% noise' : 'clusters + 1% noise',
    ],
  });
}

/** Exact search QPS per library: single query (1 / median latency) and batch. */
function renderExactSvg(exact: ExactResult, p: Params, machine: Machine): string {
  return renderBarSvg({
    title: `Exact search: queries per second (${exact.difficulty}, N = ${fmtSize(exact.n)} x ${p.dim}, k = ${K})`,
    subtitle: `inner product; ${machine.cpu}, ${machine.logicalCores} cores, ${machine.simd}; ${machine.date.slice(0, 10)}`,
    groups: exact.rows.map((e) => e.lib),
    series: [
      { name: 'single query (1 / median)', values: exact.rows.map((e) => 1e3 / e.single.medianMs) },
      { name: `batch of ${fmtInt(p.queries)}`, values: exact.rows.map((e) => e.batchQps) },
    ],
    yLabel: 'queries per second (log scale)',
    log: true,
    notes: ['usearch: exactSearch, no index', 'hnswlib: batch = a loop of', 'searchKnn (no batch call)'],
  });
}

// ---------------------------------------------------------------- k-means ---

interface KMeansRow {
  lib: 'semvec' | 'faiss' | 'sklearn';
  call: string;
  seconds: number;
  iterations: number;
  trainingPoints: number;
  /** Sum over the rows of the squared L2 distance to the nearest returned centroid, computed here. */
  inertia: number;
  /** The library's own final objective (FAISS's is that of the last assignment, before the last update). */
  ownInertia: number;
}

interface KMeansResult {
  difficulty: Difficulty;
  n: number;
  k: number;
  rows: KMeansRow[];
}

/** The same inertia for every library: nearest centroid by an exact FlatIndex, distances summed in float64. */
function inertiaOf(points: Float32Array, centroids: Float32Array, dim: number): number {
  const index = new FlatIndex({ dim, metric: 'l2' });
  index.add(centroids);
  let sum = 0;
  index.searchBatch(points, 1).forEach((r, i) => {
    const c = r.ids[0]! * dim;
    for (let j = 0; j < dim; j++) sum += (points[i * dim + j]! - centroids[c + j]!) ** 2;
  });
  return sum;
}

async function runKMeans(p: Params, set: Dataset, faiss: Faiss | null, withSklearn: boolean, tmp: string): Promise<KMeansResult> {
  const { dim } = set;
  const k = p.kmeansK;
  const points = set.rows.subarray(0, p.kmeansN * dim);
  const rows: KMeansRow[] = [];
  progress(`k-means: semvec (k ${k}, ${fmtInt(p.kmeansN)} rows)`);
  const s = timed(() => kmeans(points, { k, dim, ...KMEANS }));
  rows.push({
    lib: 'semvec',
    call: `kmeans({ k: ${k}, iterations: ${KMEANS.iterations}, maxPointsPerCentroid: ${KMEANS.maxPointsPerCentroid}, init: '${KMEANS.init}' })`,
    seconds: s.seconds,
    iterations: s.value.iterations,
    trainingPoints: s.value.trainingPoints,
    inertia: inertiaOf(points, s.value.centroids, dim),
    ownInertia: s.value.inertia,
  });
  const calls = {
    faiss: `faiss.Kmeans(d, ${k}, niter=${KMEANS.iterations}, max_points_per_centroid=${KMEANS.maxPointsPerCentroid}).train`,
    sklearn: `KMeans(${k}, init='random', n_init=1, max_iter=${KMEANS.iterations}, tol=0, algorithm='lloyd').fit`,
  } as const;
  const python: (keyof typeof calls)[] = faiss === null ? [] : withSklearn ? ['faiss', 'sklearn'] : ['faiss'];
  for (const lib of python) {
    progress(`k-means: ${lib}`);
    const out = join(tmp, `centroids-${lib}.f32`);
    const r = await faiss!.call<{ seconds: number; iterations: number; trainingPoints: number; ownInertia: number }>({
      cmd: 'kmeans',
      lib,
      data: set.rowsFile,
      dim,
      rows: p.kmeansN,
      k,
      niter: KMEANS.iterations,
      maxPointsPerCentroid: KMEANS.maxPointsPerCentroid,
      seed: KMEANS.seed,
      out,
    });
    rows.push({ lib, call: calls[lib], ...r, inertia: inertiaOf(points, readF32(out), dim) });
  }
  return { difficulty: set.difficulty, n: p.kmeansN, k, rows };
}

function printKMeans(report: Report, km: KMeansResult, p: Params): void {
  const semvec = km.rows[0]!;
  report.heading(`k-means, ${km.difficulty} data: k = ${fmtInt(km.k)} on ${fmtInt(km.n)} x ${p.dim} (one run each; semvec x = peer time / semvec time)`);
  report.table(
    ['library', 'time', 'semvec x', 'iterations', 'training points', 'inertia', 'inertia / semvec', 'call'],
    km.rows.map((r) => [
      r.lib,
      fmtMs(r.seconds * 1e3),
      times(r.seconds, semvec.seconds, r.lib === 'semvec'),
      String(r.iterations),
      fmtInt(r.trainingPoints),
      fmt(r.inertia, 1),
      fmt(r.inertia / semvec.inertia, 4),
      r.call,
    ]),
  );
  report.text(
    `Settings: faiss.Kmeans defaults for all (${KMEANS.iterations} iterations, seed ${KMEANS.seed}, <= ${KMEANS.maxPointsPerCentroid} training points per centroid), random init.`,
    'Inertia: sum over all rows of the squared L2 distance to the nearest returned centroid, computed here the same way for every library.',
  );
}

// ---------------------------------------------------------------- targets ---

interface TargetResult {
  name: string;
  measured: string;
  pass: boolean | null; // null: not measured in this run
}

/** A target met when ratio >= min (null ratio: not measured). */
function ratioTarget(name: string, ratio: number | null, min: number, measured: string): TargetResult {
  return { name, measured, pass: ratio === null ? null : ratio >= min };
}

function exactTargets(exact: ExactResult): TargetResult[] {
  const semvec = exact.rows[0]!;
  const batchOver = (lib: Lib, min: number): TargetResult => {
    const peer = exact.rows.find((e) => e.lib === lib);
    const ratio = peer ? semvec.batchQps / peer.batchQps : null;
    const measured = peer ? `semvec ${fmtInt(semvec.batchQps)} QPS, ${lib} ${fmtInt(peer.batchQps)} QPS: ${fmtRatio(ratio)}` : `${lib} not run`;
    return ratioTarget(`exact batch QPS >= ${min}x ${lib}`, ratio, min, measured);
  };
  const peers = exact.rows.filter((e) => e.lib !== 'semvec');
  const best = peers.reduce((a, b) => (b.single.medianMs < a.single.medianMs ? b : a));
  const ratio = best.single.medianMs / semvec.single.medianMs;
  return [
    batchOver('faiss', TARGETS.exactBatchOverFaiss),
    batchOver('usearch', TARGETS.exactBatchOverUsearch),
    ratioTarget(
      `exact single-query latency >= ${TARGETS.exactSingleOverBestPeer}x lower than the best peer's`,
      ratio,
      TARGETS.exactSingleOverBestPeer,
      `semvec ${fmtMs(semvec.single.medianMs)}, best peer ${best.lib} ${fmtMs(best.single.medianMs)}: ${fmtRatio(ratio)}`,
    ),
  ];
}

/**
 * semvec's single-query QPS at recall@10 >= TARGETS.recall (its fastest
 * setting reaching it) against the fastest of the peers; a peer that never
 * reaches the level counts as beaten, semvec not reaching it as a miss.
 */
function qpsAtRecallTarget(name: string, semvec: ApproxLib, peers: readonly ApproxLib[], min: number): TargetResult {
  const level = TARGETS.recall;
  if (peers.length === 0) return { name, measured: 'peer not run', pass: null };
  const mine = fastest(semvec, level, 'single');
  if (mine === null) {
    const top = Math.max(...semvec.rows.map((r) => r.recall));
    return { name, measured: `${semvec.label} does not reach recall ${level} (best ${fmt(top, 4)})`, pass: false };
  }
  const at = (label: string, x: NonNullable<Pick>): string => `${label} ${fmtQps(x.singleQps)} QPS (${x.setting}, recall ${fmt(x.recall, 3)})`;
  const reached = peers.flatMap((peer) => {
    const pick = fastest(peer, level, 'single');
    return pick ? [{ peer, pick }] : [];
  });
  if (reached.length === 0) {
    return { name, measured: `${at(semvec.label, mine)}; ${peers.map((x) => x.label).join(', ')}: recall ${level} not reached`, pass: true };
  }
  const best = reached.reduce((a, b) => (b.pick.singleQps > a.pick.singleQps ? b : a));
  const ratio = mine.singleQps / best.pick.singleQps;
  return ratioTarget(name, ratio, min, `${at(semvec.label, mine)}, ${at(best.peer.label, best.pick)}: ${fmtRatio(ratio)}`);
}

/** Targets on the hard data at N, for each semvec IVF configuration. */
function approximateTargets(run: ApproxRun | undefined): TargetResult[] {
  if (run === undefined) {
    return [{ name: 'approximate targets (hard data)', measured: 'not measured: run with --difficulty hard and without --no-approximate', pass: null }];
  }
  const where = `(hard, N = ${fmtInt(run.n)})`;
  const faissIvf = run.libs.filter((a) => a.lib === 'faiss');
  const hnsws = run.libs.filter((a) => a.setting === 'ef');
  return run.libs
    .filter((a) => a.lib === 'semvec')
    .flatMap((s) => {
      const prefix = `at recall@10 >= ${TARGETS.recall} ${where}: ${s.label} single-query QPS`;
      return [
        qpsAtRecallTarget(`${prefix} >= ${TARGETS.ivfOverFaissIvf}x FAISS IVF`, s, faissIvf, TARGETS.ivfOverFaissIvf),
        qpsAtRecallTarget(`${prefix} >= the best HNSW peer`, s, hnsws, TARGETS.ivfOverBestHnsw),
        ...hnsws.map((h) => {
          const ratio = h.buildSeconds / s.buildSeconds;
          return ratioTarget(
            `${s.label} build <= 1/${TARGETS.hnswBuildOverIvfBuild} of ${h.label} build ${where}`,
            ratio,
            TARGETS.hnswBuildOverIvfBuild,
            `${fmtMs(s.buildSeconds * 1e3)} vs ${fmtMs(h.buildSeconds * 1e3)}: 1/${fmt(ratio, 1)}`,
          );
        }),
      ];
    });
}

function printTargets(report: Report, targets: readonly TargetResult[]): void {
  report.heading('Targets (judged on the measured numbers)');
  report.table(
    ['result', 'target', 'measured'],
    targets.map((t) => [t.pass === null ? 'n/a' : verdict(t.pass), t.name, t.measured]),
    { left: 3 },
  );
}

// ------------------------------------------------------------------- main ---

interface Output {
  benchmark: string;
  date: string;
  /** CPU model, logical cores, semvec's SIMD level. */
  machineLine: string;
  machine: Machine;
  peers: Record<string, string>;
  params: Params & Record<string, unknown>;
  exact: ExactResult;
  approximate: ApproxRun[];
  kmeans: KMeansResult | null;
  targets: TargetResult[];
  files: { json: string; markdown: string; svg: string[] };
  notes: string[];
}

async function main(): Promise<void> {
  const p = parseParams();
  const { n, dim } = p;
  const machine = machineInfo();
  const machineLine = `${machine.cpu}, ${machine.logicalCores} logical cores, SIMD ${machine.simd}`;
  const report = new Report();
  const title = 'semvec against other libraries (bench/peers.ts)';
  console.log(`${title}${p.quick ? ' (quick)' : ''}`);
  report.list(machineLines(machine));
  report.list([
    ['params', `N = ${fmtInt(n)}, dim ${dim}, ${fmtInt(p.queries)} queries, k = ${K}, inner product on normalised vectors; ${p.reps} repetition${p.reps === 1 ? '' : 's'}, ${p.single} single queries`],
    ['data', `${p.difficulties.join(', ')} (exact search${p.kmeans ? ' and k-means' : ''}: hard only)`],
    ...(p.kmeans ? [['k-means', `k = ${fmtInt(p.kmeansK)} on ${fmtInt(p.kmeansN)} rows`] as const] : []),
  ]);

  const notes: string[] = [];
  const hasFaiss = faissAvailable();
  if (!hasFaiss) {
    console.log(`\n  FAISS is not available to ${PYTHON} (import faiss, numpy failed); running without it.`);
    console.log(`  To include it, run once:  ${SETUP_COMMAND}\n`);
    notes.push('FAISS not installed: run bench/setup-peers.sh');
  }
  const tmp = mkdtempSync(join(os.tmpdir(), 'semvec-peers-'));
  const faiss = hasFaiss ? new Faiss(join(dirname(new URL(import.meta.url).pathname), 'peers_faiss.py'), tmp) : null;
  const peers: Record<string, string> = { usearch: packageVersion('usearch'), 'hnswlib-node': packageVersion('hnswlib-node') };
  try {
    let withSklearn = false;
    if (faiss) {
      const info = await faiss.call<{ faiss: string; compileOptions: string; ompThreads: number; numpy: string; sklearn: string | null }>({ cmd: 'info' });
      peers.faiss = `${info.faiss} (${info.compileOptions.trim()}, ${info.ompThreads} OpenMP threads, numpy ${info.numpy})`;
      withSklearn = info.sklearn !== null;
      if (withSklearn) peers['scikit-learn'] = info.sklearn!;
      else if (p.kmeans) notes.push('scikit-learn not installed: k-means without it (bench/setup-peers.sh installs it)');
    }
    report.list(Object.entries(peers));

    // The hard data: exact search, k-means (which may use more rows) and its approximate run.
    const hard = makeDataset(p, 'hard', Math.max(n, p.kmeans ? p.kmeansN : 0), tmp, faiss !== null);
    if (faiss) await faiss.load(hard);
    const exact = await runExact(p, hard, faiss);
    printExact(report, exact, p);
    // The exact indexes are done with: free their memory for the approximate ones.
    if (faiss) await faiss.call({ cmd: 'drop', index: 'flat' });
    collectGarbage();

    const approximate: ApproxRun[] = [];
    const svgFile = (name: string): string => join(p.svgDir, `peers-${name}.svg`);
    if (p.approximate) {
      for (const difficulty of p.difficulties) {
        const set = difficulty === 'hard' ? hard : makeDataset(p, difficulty, n, tmp, faiss !== null);
        const run = await runApproximate(p, set, faiss, tmp);
        printApproximate(report, run, p, svgFile(difficulty));
        approximate.push(run);
      }
    }

    const km = p.kmeans ? await runKMeans(p, hard, faiss, withSklearn, tmp) : null;
    if (km) printKMeans(report, km, p);

    const targets = [...exactTargets(exact), ...approximateTargets(approximate.find((r) => r.difficulty === 'hard'))];
    printTargets(report, targets);

    // Files.
    mkdirSync(p.svgDir, { recursive: true });
    const svgs: string[] = [];
    for (const run of approximate) {
      svgs.push(svgFile(run.difficulty));
      writeFileSync(svgFile(run.difficulty), renderApproxSvg(run, p, machine, exact));
    }
    svgs.push(svgFile('exact'));
    writeFileSync(svgFile('exact'), renderExactSvg(exact, p, machine));
    report.markdown(`![exact-search QPS per library](${relative(dirname(p.md), svgFile('exact'))})`);
    const output: Output = {
      benchmark: title,
      date: machine.date,
      machineLine,
      machine,
      peers,
      params: {
        ...p,
        k: K,
        seeds: SEEDS,
        data: Object.fromEntries(p.difficulties.map((d) => [d, DIFFICULTIES[d]])),
        metric: 'ip (normalised vectors)',
        semvecIvf: SEMVEC_IVF,
        hnsw: { m: HNSW_M, efConstruction: HNSW_EF_CONSTRUCTION, efs: EFS },
        kmeansSettings: KMEANS,
        recallLevels: RECALL_LEVELS,
        targets: TARGETS,
      },
      exact,
      approximate,
      kmeans: km,
      targets,
      files: { json: p.out, markdown: p.md, svg: svgs },
      notes: [
        ...notes,
        `Exact search and ingest${p.kmeans ? ' and k-means' : ''} run on the hard data only.`,
        'FAISS is Debian python3-faiss: a generic build (compile options as reported), not AVX-512 specialised.',
        'hnswlib-node takes number[]: ingest includes the Float32Array -> number[] conversion (shown separately); queries are converted outside the timings; it has no batch call, its batch is a single-threaded loop.',
        'usearch exactSearch has no index: each call scans the given Float32Array, so it has no ingest step.',
        'k-means inertia is computed by this script for every library from its returned centroids (nearest centroid, squared L2, float64 sum); ownInertia is what each library reports (FAISS: before its last centroid update).',
      ],
    };
    mkdirSync(dirname(p.out), { recursive: true });
    writeFileSync(p.out, `${JSON.stringify(output, null, 2)}\n`);
    report.heading('Notes');
    report.text(...output.notes.map((note) => `- ${note}`));
    mkdirSync(dirname(p.md), { recursive: true });
    writeFileSync(p.md, report.toMarkdown(title));
    console.log(`\nJSON: ${p.out}\nMarkdown: ${p.md}\nSVG: ${svgs.join(', ')}`);
  } finally {
    if (faiss !== null) await faiss.quit().catch(() => undefined);
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
