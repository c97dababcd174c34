/**
 * bench/peers.ts: semvec against the libraries users would pick instead.
 *
 * Run with `npm run bench:peers` (or `npx tsx bench/peers.ts --quick`).
 * One-off setup for the FAISS side: `sh bench/setup-peers.sh` (Debian's
 * python3-faiss, python3-numpy, python3-sklearn). The benchmark never
 * installs anything: without FAISS it prints that command and runs the
 * other libraries only.
 *
 * Peers, all in this process except FAISS:
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
 *   semvec's IVF defaults) for approximate. OpenMP threads: its default.
 *
 * Data: the `hard` mixture of bench/ivf.ts (3,000 gaussian clusters of
 * unequal weight and radius, 10% isotropic noise; seeded), N x dim, and
 * `queries` queries from the same mixture with another seed; all rows
 * normalised, metric inner product everywhere (semvec 'ip', FAISS
 * METRIC_INNER_PRODUCT, usearch 'ip', hnswlib 'ip'), k = 10.
 *
 * Method:
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
 * - Approximate: semvec IVFIndex (nlist = suggestNlist(N), IVF defaults) and
 *   FAISS IVFFlat swept over nprobe; usearch and hnswlib HNSW (M = 16,
 *   efConstruction = 128 for both) swept over ef (usearch: one build, saved
 *   once and loaded into an Index per expansion_search, since it has no ef
 *   setter). Per setting: recall@10 against the exact ground truth, batch QPS
 *   (median of `reps` interleaved repetitions) and single-query median
 *   latency (`single` calls, one repetition). Build time: one build each.
 *   For each recall level 0.90/0.95/0.99: the fastest setting (batch QPS)
 *   reaching it, and semvec's QPS as a multiple of each peer's.
 * - Ratios: "semvec x" = peer time / semvec time (> 1: semvec is faster).
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

import usearch from 'usearch';

import { FlatIndex, IVF_TRAINING_DEFAULTS, IVFIndex, normalizeInPlace, recallAtK, suggestNlist } from '../src/index.js';
import type { ResultIds, SearchResult } from '../src/index.js';
import {
  fmt,
  fmtInt,
  fmtMs,
  machineInfo,
  makeMixture,
  median,
  now,
  positiveInt,
  printMachine,
  progress,
  quantile,
  sample,
  table,
  timeEach,
  type Machine,
  type MixtureSpec,
} from './common.js';

const require = createRequire(import.meta.url);
const hnswlib = require('hnswlib-node') as typeof import('hnswlib-node');

// ---------------------------------------------------------------- options ---

const K = 10;
const SEEDS = { mixture: 1, data: 2, queries: 3 } as const;
/** bench/ivf.ts's `hard` mixture. */
const MIXTURE: MixtureSpec = { clusters: 3000, zipf: 0.8, radius: [0.4, 1.4], intrinsicDim: 0, isotropicShare: 1, noiseFraction: 0.1 };
const NPROBES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512] as const;
const EFS = [10, 20, 40, 80, 160, 320, 640, 1280] as const;
const HNSW_M = 16;
const HNSW_EF_CONSTRUCTION = 128;
const RECALL_LEVELS = [0.9, 0.95, 0.99] as const;
const PYTHON = '/usr/bin/python3';
const SETUP_COMMAND = 'sh bench/setup-peers.sh   # apt-get install python3-faiss python3-numpy python3-sklearn';

interface Params {
  n: number;
  dim: number;
  queries: number;
  single: number;
  reps: number;
  approximate: boolean;
  out: string;
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
      'no-approximate': { type: 'boolean', default: false },
      out: { type: 'string', default: 'bench/results/peers.json' },
      quick: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const quick = values.quick === true;
  return {
    n: positiveInt(values.n ?? (quick ? '20000' : '100000'), 'n'),
    dim: positiveInt(values.dim, 'dim'),
    queries: positiveInt(values.queries, 'queries'),
    single: positiveInt(values.single, 'single'),
    reps: positiveInt(values.reps, 'reps'),
    approximate: values['no-approximate'] !== true,
    out: resolve(values.out),
    quick,
  };
}

// ------------------------------------------------------------------ faiss ---

/** The FAISS subprocess (bench/peers_faiss.py), one JSON line per command. */
class Faiss {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #pending: ((line: string) => void)[] = [];

  constructor(script: string) {
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

// ---------------------------------------------------------------- helpers ---

/** A dependency's version from its package.json (usearch does not export that path). */
const packageVersion = (name: string): string =>
  (JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version: string }).version;

type Lib = 'semvec' | 'faiss' | 'usearch' | 'hnswlib';

/** Rotates the list by r (the interleaving order of repetition r). */
const rotate = <T>(xs: readonly T[], r: number): T[] => xs.map((_, i) => xs[(i + r) % xs.length]!);

const fromUsearch = (m: { keys: BigUint64Array }, rows: number): ResultIds[] =>
  Array.from({ length: rows }, (_, i) => ({ ids: Array.from(m.keys.subarray(i * K, (i + 1) * K), Number) }));

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

// ---------------------------------------------------------------- results ---

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

interface ApproxRow {
  setting: string; // nprobe or ef
  value: number;
  recall: number;
  batchQps: number;
  singleMedianMs: number;
}

interface ApproxLib {
  lib: Lib;
  method: string;
  buildSeconds: number;
  buildDetail: Record<string, number>;
  rows: ApproxRow[];
}

interface LevelRow {
  level: number;
  /** Highest batch QPS among the settings reaching the level. */
  best: Partial<Record<Lib, { setting: string; batchQps: number; recall: number } | null>>;
  /** semvec batch QPS / peer batch QPS. */
  semvecOver: Partial<Record<Lib, number | null>>;
  /** Lowest single-query median among the settings reaching the level. */
  bestSingle: Partial<Record<Lib, { setting: string; singleMedianMs: number; recall: number } | null>>;
  /** peer single median / semvec single median. */
  semvecOverSingle: Partial<Record<Lib, number | null>>;
}

interface Output {
  benchmark: string;
  machine: Machine;
  peers: Record<string, string>;
  params: Params & { k: number; mixture: MixtureSpec; metric: 'ip (normalised vectors)'; nlist: number; hnsw: { m: number; efConstruction: number } };
  exact: ExactRow[];
  approximate: ApproxLib[];
  recallLevels: LevelRow[];
  notes: string[];
}

// ------------------------------------------------------------------- main ---

async function main(): Promise<void> {
  const p = parseParams();
  const { n, dim, reps } = p;
  const nq = p.queries;
  const machine = machineInfo();
  const notes: string[] = [];

  console.log(`semvec against other libraries${p.quick ? ' (quick)' : ''}: N = ${fmtInt(n)}, dim ${dim}, ${fmtInt(nq)} queries, k = ${K}, inner product on normalised vectors`);
  printMachine(machine);

  const hasFaiss = faissAvailable();
  if (!hasFaiss) {
    console.log(`\n  FAISS is not available to ${PYTHON} (import faiss, numpy failed); running without it.`);
    console.log(`  To include it, run once:  ${SETUP_COMMAND}\n`);
    notes.push('FAISS not installed: run bench/setup-peers.sh');
  }
  const libs: Lib[] = hasFaiss ? ['semvec', 'faiss', 'usearch', 'hnswlib'] : ['semvec', 'usearch', 'hnswlib'];

  // Data.
  progress(`data: ${fmtInt(n)} + ${fmtInt(nq)} rows`);
  const mixture = makeMixture(dim, SEEDS.mixture, MIXTURE);
  const data = sample(mixture, n, SEEDS.data);
  const queries = sample(mixture, nq, SEEDS.queries);
  normalizeInPlace(data, dim);
  normalizeInPlace(queries, dim);
  const qs: Float32Array[] = Array.from({ length: nq }, (_, i) => queries.subarray(i * dim, (i + 1) * dim));
  const qsArrays: number[][] = qs.map((q) => Array.from(q)); // hnswlib's input, converted outside the timings
  const singleCount = Math.min(p.single, nq);

  const tmp = mkdtempSync(join(os.tmpdir(), 'semvec-peers-'));
  const idsPath = join(tmp, 'ids.i64');
  let faiss: Faiss | null = null;
  const peers: Record<string, string> = {
    usearch: packageVersion('usearch'),
    'hnswlib-node': packageVersion('hnswlib-node'),
  };
  try {
    if (hasFaiss) {
      writeFileSync(join(tmp, 'data.f32'), data);
      writeFileSync(join(tmp, 'queries.f32'), queries);
      faiss = new Faiss(join(dirname(new URL(import.meta.url).pathname), 'peers_faiss.py'));
      const info = await faiss.call<{ faiss: string; compileOptions: string; ompThreads: number; numpy: string }>({ cmd: 'info' });
      peers.faiss = `${info.faiss} (${info.compileOptions.trim()}, ${info.ompThreads} OpenMP threads, numpy ${info.numpy})`;
      await faiss.call({ cmd: 'load', data: join(tmp, 'data.f32'), queries: join(tmp, 'queries.f32'), dim });
    }

    // ---------------------------------------------------- ingest (exact) ---
    const ingest: Record<Lib, number[]> = { semvec: [], faiss: [], usearch: [], hnswlib: [] };
    const conversion: number[] = [];
    let flat = new FlatIndex({ dim, metric: 'ip' });
    let brute = new hnswlib.BruteforceSearch('ip', dim);
    for (let r = 0; r < reps; r++) {
      for (const lib of rotate(libs, r)) {
        progress(`ingest rep ${r + 1}/${reps}: ${lib}`);
        if (lib === 'semvec') {
          flat = new FlatIndex({ dim, metric: 'ip' });
          const t0 = now();
          flat.add(data);
          ingest.semvec.push(now() - t0);
        } else if (lib === 'faiss') {
          ingest.faiss.push((await faiss!.call<{ seconds: number }>({ cmd: 'flat_build' })).seconds);
        } else if (lib === 'hnswlib') {
          brute = new hnswlib.BruteforceSearch('ip', dim);
          brute.initIndex(n);
          let convert = 0;
          const t0 = now();
          for (let i = 0; i < n; i++) {
            const c0 = now();
            const row = Array.from(data.subarray(i * dim, (i + 1) * dim));
            convert += now() - c0;
            brute.addPoint(row, i);
          }
          ingest.hnswlib.push(now() - t0);
          conversion.push(convert);
        }
        // usearch exactSearch has no index: nothing to ingest.
      }
    }

    // ------------------------------------------------------- exact single ---
    const single: Record<Lib, Single[]> = { semvec: [], faiss: [], usearch: [], hnswlib: [] };
    const batch: Record<Lib, number[]> = { semvec: [], faiss: [], usearch: [], hnswlib: [] };
    const exactIds: Partial<Record<Lib, ResultIds[]>> = {};
    let truth: SearchResult[] = [];
    for (let r = 0; r < reps; r++) {
      for (const lib of rotate(libs, r)) {
        progress(`exact rep ${r + 1}/${reps}: ${lib}: ${singleCount} single queries, batch of ${fmtInt(nq)}`);
        if (lib === 'semvec') {
          for (let i = 0; i < 3; i++) flat.search(qs[i]!, K);
          single.semvec.push(singleOf(timeEach(singleCount, (i) => flat.search(qs[i]!, K))));
          const t0 = now();
          const res = flat.searchBatch(queries, K);
          batch.semvec.push(now() - t0);
          if (r === 0) truth = res;
        } else if (lib === 'faiss') {
          const s = await faiss!.call<{ times: number[] }>({ cmd: 'single', index: 'flat', count: singleCount, out: idsPath });
          single.faiss.push(singleOf(s.times));
          batch.faiss.push((await faiss!.call<{ seconds: number }>({ cmd: 'batch', index: 'flat', out: idsPath })).seconds);
          if (r === 0) exactIds.faiss = readIds(idsPath, nq);
        } else if (lib === 'usearch') {
          for (let i = 0; i < 3; i++) usearch.exactSearch(data, qs[i]!, dim, K, usearch.MetricKind.IP, 0);
          single.usearch.push(singleOf(timeEach(singleCount, (i) => usearch.exactSearch(data, qs[i]!, dim, K, usearch.MetricKind.IP, 0))));
          const t0 = now();
          const res = usearch.exactSearch(data, queries, dim, K, usearch.MetricKind.IP, 0);
          batch.usearch.push(now() - t0);
          if (r === 0) exactIds.usearch = fromUsearch(res, nq);
        } else {
          for (let i = 0; i < 3; i++) brute.searchKnn(qsArrays[i]!, K);
          single.hnswlib.push(singleOf(timeEach(singleCount, (i) => brute.searchKnn(qsArrays[i]!, K))));
          const out: ResultIds[] = [];
          const t0 = now();
          for (let i = 0; i < nq; i++) out.push({ ids: brute.searchKnn(qsArrays[i]!, K).neighbors });
          batch.hnswlib.push(now() - t0);
          if (r === 0) exactIds.hnswlib = out;
        }
      }
    }
    const semvecSingle = medianSingle(single.semvec);
    const semvecBatch = median(batch.semvec);
    const calls: Record<Lib, ExactRow['call']> = {
      semvec: { ingest: 'FlatIndex.add(Float32Array)', single: 'search', batch: 'searchBatch' },
      faiss: { ingest: 'IndexFlatIP.add(ndarray)', single: 'search (1 row)', batch: 'search (all rows)' },
      usearch: { ingest: 'none (exactSearch scans the array)', single: 'exactSearch (1 query)', batch: 'exactSearch (all queries)' },
      hnswlib: { ingest: 'BruteforceSearch.addPoint(number[]) loop', single: 'searchKnn', batch: 'loop of searchKnn (no batch call)' },
    };
    const exact: ExactRow[] = libs.map((lib) => {
      const s = medianSingle(single[lib]);
      const b = median(batch[lib]);
      return {
        lib,
        call: calls[lib],
        ingestSeconds: ingest[lib].length > 0 ? median(ingest[lib]) : null,
        conversionSeconds: lib === 'hnswlib' ? median(conversion) : null,
        single: s,
        batchSeconds: b,
        batchQps: nq / b,
        recallVsSemvec: lib === 'semvec' ? 1 : recallAtK(exactIds[lib]!, truth, K),
        semvecSingleSpeedup: s.medianMs / semvecSingle.medianMs,
        semvecBatchSpeedup: b / semvecBatch,
      };
    });

    // -------------------------------------------------------- approximate ---
    const nlist = suggestNlist(n);
    const approximate: ApproxLib[] = [];
    if (p.approximate) {
      // Builds (one each).
      progress(`semvec IVF build (nlist ${nlist})`);
      const ivf = new IVFIndex({ dim, metric: 'ip', nlist });
      let t0 = now();
      ivf.train(data);
      const ivfTrain = now() - t0;
      t0 = now();
      ivf.add(data);
      const ivfAdd = now() - t0;
      const semvecApprox: ApproxLib = {
        lib: 'semvec',
        method: `IVFIndex nlist ${nlist} (${IVF_TRAINING_DEFAULTS.iterations} iterations, <= ${IVF_TRAINING_DEFAULTS.maxPointsPerCentroid} points/centroid)`,
        buildSeconds: ivfTrain + ivfAdd,
        buildDetail: { trainSeconds: ivfTrain, addSeconds: ivfAdd },
        rows: [],
      };
      let faissApprox: ApproxLib | null = null;
      if (faiss !== null) {
        progress(`faiss IVFFlat build (nlist ${nlist})`);
        const b = await faiss.call<{ trainSeconds: number; addSeconds: number }>({
          cmd: 'ivf_build',
          nlist,
          niter: IVF_TRAINING_DEFAULTS.iterations,
          maxPointsPerCentroid: IVF_TRAINING_DEFAULTS.maxPointsPerCentroid,
        });
        faissApprox = {
          lib: 'faiss',
          method: `IndexIVFFlat nlist ${nlist} (niter ${IVF_TRAINING_DEFAULTS.iterations}, max_points_per_centroid ${IVF_TRAINING_DEFAULTS.maxPointsPerCentroid})`,
          buildSeconds: b.trainSeconds + b.addSeconds,
          buildDetail: b,
          rows: [],
        };
      }
      progress(`usearch HNSW build (M ${HNSW_M}, efConstruction ${HNSW_EF_CONSTRUCTION}, threads auto)`);
      const keys = new BigUint64Array(n);
      for (let i = 0; i < n; i++) keys[i] = BigInt(i);
      const usearchConfig = (ef: number) => ({
        dimensions: dim,
        metric: usearch.MetricKind.IP,
        quantization: usearch.ScalarKind.F32,
        connectivity: HNSW_M,
        expansion_add: HNSW_EF_CONSTRUCTION,
        expansion_search: ef,
        multi: false,
      });
      const uBuild = new usearch.Index(usearchConfig(EFS[0]));
      t0 = now();
      uBuild.add(keys, data, 0);
      const usearchBuild = now() - t0;
      const usearchFile = join(tmp, 'hnsw.usearch');
      uBuild.save(usearchFile);
      const uByEf = new Map<number, InstanceType<typeof usearch.Index>>();
      for (const ef of EFS) {
        const u = new usearch.Index(usearchConfig(ef));
        u.load(usearchFile);
        uByEf.set(ef, u);
      }
      progress(`hnswlib HNSW build (M ${HNSW_M}, efConstruction ${HNSW_EF_CONSTRUCTION}, single-threaded addPoint loop)`);
      const hnsw = new hnswlib.HierarchicalNSW('ip', dim);
      hnsw.initIndex({ maxElements: n, m: HNSW_M, efConstruction: HNSW_EF_CONSTRUCTION, randomSeed: 100 });
      let hConvert = 0;
      t0 = now();
      for (let i = 0; i < n; i++) {
        const c0 = now();
        const row = Array.from(data.subarray(i * dim, (i + 1) * dim));
        hConvert += now() - c0;
        hnsw.addPoint(row, i);
        if (i % 20000 === 19999) progress(`hnswlib: ${fmtInt(i + 1)} added, ${fmt(now() - t0, 1)} s`);
      }
      const hnswBuild = now() - t0;
      const approxUsearch: ApproxLib = {
        lib: 'usearch',
        method: `Index HNSW connectivity ${HNSW_M}, expansion_add ${HNSW_EF_CONSTRUCTION}, f32`,
        buildSeconds: usearchBuild,
        buildDetail: { addSeconds: usearchBuild },
        rows: [],
      };
      const approxHnswlib: ApproxLib = {
        lib: 'hnswlib',
        method: `HierarchicalNSW M ${HNSW_M}, efConstruction ${HNSW_EF_CONSTRUCTION}`,
        buildSeconds: hnswBuild,
        buildDetail: { addSeconds: hnswBuild, conversionSeconds: hConvert },
        rows: [],
      };

      // Sweeps: recall on rep 0, batch QPS median over reps (interleaved), then single queries.
      const sweepBatch: Record<Lib, Map<number, number[]>> = { semvec: new Map(), faiss: new Map(), usearch: new Map(), hnswlib: new Map() };
      const sweepRecall: Record<Lib, Map<number, number>> = { semvec: new Map(), faiss: new Map(), usearch: new Map(), hnswlib: new Map() };
      const push = (lib: Lib, v: number, s: number): void => {
        const m = sweepBatch[lib];
        m.set(v, [...(m.get(v) ?? []), s]);
      };
      const nprobes = NPROBES.filter((x) => x <= nlist);
      for (let r = 0; r < reps; r++) {
        for (const lib of rotate(libs, r)) {
          progress(`approximate rep ${r + 1}/${reps}: ${lib} sweep`);
          if (lib === 'semvec') {
            for (const nprobe of nprobes) {
              const t = now();
              const res = ivf.searchBatch(queries, K, { nprobe });
              push(lib, nprobe, now() - t);
              if (r === 0) sweepRecall.semvec.set(nprobe, recallAtK(res, truth, K));
            }
          } else if (lib === 'faiss') {
            for (const nprobe of nprobes) {
              const s = await faiss!.call<{ seconds: number }>({ cmd: 'batch', index: 'ivf', nprobe, out: idsPath });
              push(lib, nprobe, s.seconds);
              if (r === 0) sweepRecall.faiss.set(nprobe, recallAtK(readIds(idsPath, nq), truth, K));
            }
          } else if (lib === 'usearch') {
            for (const ef of EFS) {
              const u = uByEf.get(ef)!;
              const t = now();
              const res = u.search(queries, K, 0);
              push(lib, ef, now() - t);
              if (r === 0) sweepRecall.usearch.set(ef, recallAtK(fromUsearch(res, nq), truth, K));
            }
          } else {
            for (const ef of EFS) {
              hnsw.setEf(ef);
              const out: ResultIds[] = [];
              const t = now();
              for (let i = 0; i < nq; i++) out.push({ ids: hnsw.searchKnn(qsArrays[i]!, K).neighbors });
              push(lib, ef, now() - t);
              if (r === 0) sweepRecall.hnswlib.set(ef, recallAtK(out, truth, K));
            }
          }
        }
      }
      progress(`approximate: single-query latency (${singleCount} per setting)`);
      const singleMs = async (lib: Lib, v: number): Promise<number> => {
        if (lib === 'semvec') {
          for (let i = 0; i < 3; i++) ivf.search(qs[i]!, K, { nprobe: v });
          return median(timeEach(singleCount, (i) => ivf.search(qs[i]!, K, { nprobe: v }))) * 1e3;
        }
        if (lib === 'faiss') {
          const s = await faiss!.call<{ times: number[] }>({ cmd: 'single', index: 'ivf', nprobe: v, count: singleCount, out: idsPath });
          return median(s.times) * 1e3;
        }
        if (lib === 'usearch') {
          const u = uByEf.get(v)!;
          for (let i = 0; i < 3; i++) u.search(qs[i]!, K, 0);
          return median(timeEach(singleCount, (i) => u.search(qs[i]!, K, 0))) * 1e3;
        }
        hnsw.setEf(v);
        for (let i = 0; i < 3; i++) hnsw.searchKnn(qsArrays[i]!, K);
        return median(timeEach(singleCount, (i) => hnsw.searchKnn(qsArrays[i]!, K))) * 1e3;
      };
      const all: ApproxLib[] = [semvecApprox, ...(faissApprox ? [faissApprox] : []), approxUsearch, approxHnswlib];
      for (const a of all) {
        const setting = a.lib === 'semvec' || a.lib === 'faiss' ? 'nprobe' : 'ef';
        for (const [v, secs] of sweepBatch[a.lib]) {
          a.rows.push({ setting, value: v, recall: sweepRecall[a.lib].get(v)!, batchQps: nq / median(secs), singleMedianMs: await singleMs(a.lib, v) });
        }
        approximate.push(a);
      }
    }

    // Fastest setting per recall level.
    const recallLevels: LevelRow[] = RECALL_LEVELS.map((level) => {
      const best: LevelRow['best'] = {};
      for (const a of approximate) {
        const ok = a.rows.filter((row) => row.recall >= level).sort((x, y) => y.batchQps - x.batchQps)[0];
        best[a.lib] = ok ? { setting: `${ok.setting} ${ok.value}`, batchQps: ok.batchQps, recall: ok.recall } : null;
      }
      const bestSingle: LevelRow['bestSingle'] = {};
      for (const a of approximate) {
        const ok = a.rows.filter((row) => row.recall >= level).sort((x, y) => x.singleMedianMs - y.singleMedianMs)[0];
        bestSingle[a.lib] = ok ? { setting: `${ok.setting} ${ok.value}`, singleMedianMs: ok.singleMedianMs, recall: ok.recall } : null;
      }
      const semvecQps = best.semvec?.batchQps;
      const semvecMs = bestSingle.semvec?.singleMedianMs;
      const semvecOver: LevelRow['semvecOver'] = {};
      const semvecOverSingle: LevelRow['semvecOverSingle'] = {};
      for (const a of approximate) {
        if (a.lib === 'semvec') continue;
        const peer = best[a.lib];
        semvecOver[a.lib] = semvecQps !== undefined && peer ? semvecQps / peer.batchQps : null;
        const peerSingle = bestSingle[a.lib];
        semvecOverSingle[a.lib] = semvecMs !== undefined && peerSingle ? peerSingle.singleMedianMs / semvecMs : null;
      }
      return { level, best, semvecOver, bestSingle, semvecOverSingle };
    });

    // ------------------------------------------------------------ print ---
    console.log(`\nExact search, N = ${fmtInt(n)} x ${dim} (median of ${reps} interleaved repetitions; semvec x = peer time / semvec time)`);
    console.log(
      table(
        ['library', 'single median', 'single p99', 'semvec x', 'batch QPS', 'semvec x', 'recall@10 vs semvec', 'batch call'],
        exact.map((e) => [
          e.lib,
          fmtMs(e.single.medianMs),
          fmtMs(e.single.p99Ms),
          times(e.single.medianMs, semvecSingle.medianMs, e.lib === 'semvec'),
          fmtInt(e.batchQps),
          times(e.batchSeconds, semvecBatch, e.lib === 'semvec'),
          fmt(e.recallVsSemvec, 4),
          e.call.batch,
        ]),
      ),
    );
    const semvecIngest = exact[0]!.ingestSeconds!;
    console.log(`\nIngest of ${fmtInt(n)} vectors from one Float32Array into the exact index (median of ${reps})`);
    console.log(
      table(
        ['library', 'time', 'of which number[] conversion', 'semvec x', 'call'],
        exact.map((e) => [
          e.lib,
          e.ingestSeconds === null ? '-' : fmtMs(e.ingestSeconds * 1e3),
          e.conversionSeconds === null ? '-' : fmtMs(e.conversionSeconds * 1e3),
          e.ingestSeconds === null ? '-' : times(e.ingestSeconds, semvecIngest, e.lib === 'semvec'),
          e.call.ingest,
        ]),
      ),
    );
    if (approximate.length > 0) {
      console.log(`\nApproximate search, N = ${fmtInt(n)}: builds (one each)`);
      const semvecBuild = approximate[0]!.buildSeconds;
      console.log(
        table(
          ['library', 'build', 'semvec x', 'index'],
          approximate.map((a) => [a.lib, fmtMs(a.buildSeconds * 1e3), times(a.buildSeconds, semvecBuild, a.lib === 'semvec'), a.method]),
        ),
      );
      for (const a of approximate) {
        console.log(`\n  ${a.lib}: ${a.method}`);
        console.log(
          table(
            [a.rows[0]?.setting ?? 'setting', 'recall@10', 'batch QPS', 'single median'],
            a.rows.map((row) => [String(row.value), fmt(row.recall, 4), fmtInt(row.batchQps), fmtMs(row.singleMedianMs)]),
            '    ',
          ),
        );
      }
      const peersApprox = approximate.filter((a) => a.lib !== 'semvec').map((a) => a.lib);
      // One table per measure: the fastest setting of each library reaching
      // each recall level, and semvec's advantage over each peer.
      const recallTable = (title: string, cell: (lv: (typeof recallLevels)[number], lib: Lib) => string, ratio: (lv: (typeof recallLevels)[number], lib: Lib) => number | null | undefined) => {
        console.log(`\nFastest setting reaching each recall@10 level (${title})`);
        console.log(
          table(
            ['recall >=', ...approximate.map((a) => a.lib), ...peersApprox.map((l) => `semvec x ${l}`)],
            recallLevels.map((lv) => [
              fmt(lv.level, 2),
              ...approximate.map((a) => cell(lv, a.lib)),
              ...peersApprox.map((l) => {
                const x = ratio(lv, l);
                return x === null || x === undefined ? '-' : `${fmt(x, 2)}x`;
              }),
            ]),
          ),
        );
      };
      recallTable(
        'batch QPS; semvec x = semvec QPS / peer QPS',
        (lv, lib) => {
          const b = lv.best[lib];
          return b ? `${fmtInt(b.batchQps)} (${b.setting})` : 'not reached';
        },
        (lv, lib) => lv.semvecOver[lib],
      );
      recallTable(
        'single-query median; semvec x = peer latency / semvec latency',
        (lv, lib) => {
          const b = lv.bestSingle[lib];
          return b ? `${fmtMs(b.singleMedianMs)} (${b.setting})` : 'not reached';
        },
        (lv, lib) => lv.semvecOverSingle[lib],
      );
    }

    const output: Output = {
      benchmark: 'semvec against other libraries (bench/peers.ts)',
      machine,
      peers,
      params: { ...p, k: K, mixture: MIXTURE, metric: 'ip (normalised vectors)', nlist, hnsw: { m: HNSW_M, efConstruction: HNSW_EF_CONSTRUCTION } },
      exact,
      approximate,
      recallLevels,
      notes: [
        ...notes,
        'FAISS is Debian python3-faiss: a generic build (compile options as reported), not AVX-512 specialised.',
        'hnswlib-node takes number[]: ingest includes the Float32Array -> number[] conversion (shown separately); queries are converted outside the timings; it has no batch call, its batch is a single-threaded loop.',
        'usearch exactSearch has no index: each call scans the given Float32Array, so it has no ingest step.',
      ],
    };
    mkdirSync(dirname(p.out), { recursive: true });
    writeFileSync(p.out, `${JSON.stringify(output, null, 2)}\n`);
    console.log(`\nJSON: ${p.out}`);
  } finally {
    if (faiss !== null) await faiss.quit().catch(() => undefined);
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
