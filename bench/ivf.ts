/**
 * bench/ivf.ts: exact vs approximate. How much faster than the exact
 * FlatIndex is IVFIndex, and what recall does it keep?
 *
 * Run with `npm run bench:ivf` (or `npx tsx bench/ivf.ts --quick`).
 *
 * Method. Everything is measured in one run on one machine:
 * - Data: a seeded gaussian mixture in `dim` dimensions (bench/common.ts),
 *   one Float32Array per difficulty (mulberry32 + polar Box-Muller); queries
 *   come from the same mixture with another seed. The largest N is
 *   generated once per difficulty and smaller N use its first rows (the rows
 *   are i.i.d., so a prefix is a sample of the same distribution).
 *   - `hard`: 3,000 isotropic clusters with Zipf-like weights (exponent 0.8),
 *     radii 0.4-1.4 (centres are ~1.41 apart, so clusters overlap), plus 10%
 *     isotropic background noise. Tuned so that at N = 1M with nlist =
 *     suggestNlist(N), nprobe = 1 finds under 60% of the true top 10.
 *   - `easy`: 1,000 clusters (Zipf 0.7), radii 0.05-0.5, each nearly flat
 *     (98% of its variance along 2 random directions), 1% noise: neighbours
 *     stay in one IVF cell, so nprobe = 1 already finds most of them.
 * - Exact: ground truth = FlatIndex.searchBatch of all queries, k = 10; that
 *   call is also the first of the flat index's 3 batch timings (best kept).
 *   Flat single-query latency: median and p99 of search() over 30 queries.
 *   Both are measured before and again after the IVF runs and the faster is
 *   kept (as bench/flat.ts does with its machine probes): on a shared machine
 *   the load drifts, and this way the speed-ups err low, not high.
 * - IVF, once per encoding (`f32`: float lists; `sq8`: 8-bit codes scanned,
 *   the best `rerank` candidates re-scored from the floats): train(x) on the
 *   whole prefix with the IVF defaults (k-means with k = nlist on a seeded
 *   sample of nlist * 64 points, 10 iterations, random init; onProgress only
 *   records when each iteration ends), then add(x); both timed;
 *   memoryUsage() of both indexes; list sizes.
 * - Per nprobe (1, 2, ..., 128, at most nlist): recall@10 (recallAtK) of
 *   searchBatch against the ground truth; single-query latency of search()
 *   over 300 queries (median and p99, process.hrtime around each call, after
 *   a short warm-up); single QPS = 1 / median; batch QPS = queries / best of
 *   3 searchBatch calls; speed-ups over the flat index measured above. The
 *   vectors scanned per query are computed from the centroids and list sizes
 *   (the probed lists are the nprobe nearest centroids).
 * - The fastest nprobe reaching recall@10 >= 0.90, 0.95 and 0.99.
 * - Targets (PASS/MISS from the measured numbers): at N = 1M, hard: recall@10
 *   >= 0.95 at >= 20x the flat index's single-query QPS; train + add < 60 s;
 *   nprobe = 1 recall@10 < 0.6 (a check that the data is hard).
 *
 * For metric 'cosine' the data and queries are normalised once up front.
 * Results go to a JSON file and a recall-vs-QPS SVG chart.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import {
  DEFAULT_RERANK,
  FlatIndex,
  IVF_TRAINING_DEFAULTS,
  IVFIndex,
  METRICS,
  normalizeInPlace,
  recallAtK,
  suggestNlist,
} from '../src/index.js';
import { renderRecallQpsSvg } from '../src/cli/chart.js';
import type { IVFEncoding, Metric, SearchResult } from '../src/index.js';
import {
  DIFFICULTIES,
  fmt,
  fmtBytes,
  fmtInt,
  fmtMs,
  latencyOf,
  machineInfo,
  makeMixture,
  median,
  parseDifficulties,
  now,
  positiveInt,
  printMachine,
  progress,
  sample,
  table,
  timeEach,
  verdict,
  type Latency,
  type Difficulty,
  type Machine,
} from './common.js';

// ---------------------------------------------------------------- options ---

const K = 10;
// Powers of two, with half steps where recall crosses 0.9-0.99 on the hard data.
const NPROBES = [1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 128] as const;
const RECALL_LEVELS = [0.9, 0.95, 0.99] as const;
const SEEDS = { mixture: 1, data: 2, queries: 3 } as const;
const FLAT_SINGLE_QUERIES = 30;
const IVF_SINGLE_QUERIES = 300;
const WARMUP_CALLS = 5;
const BATCH_REPS = 3;

const ENCODINGS: readonly IVFEncoding[] = ['f32', 'sq8'];

/** Targets, judged on the run with N = TARGETS.n and difficulty TARGETS.difficulty. */
const TARGETS = {
  n: 1_000_000,
  difficulty: 'hard' as Difficulty,
  recall: 0.95, // recall@10 at least ...
  speedup: 20, // ... at this many times the flat index's single-query QPS
  buildSeconds: 60, // train + add, under
  nprobe1RecallBelow: 0.6, // the data must be hard: nprobe 1 finds less than this
} as const;

interface Params {
  sizes: number[];
  dim: number;
  queries: number;
  metric: Metric;
  nlist: number | null; // null: suggestNlist(N)
  difficulties: Difficulty[];
  encodings: IVFEncoding[];
  rerank: number;
  out: string;
  svg: string;
  quick: boolean;
  k: number;
}

function parseParams(): Params {
  const { values } = parseArgs({
    options: {
      n: { type: 'string' },
      dim: { type: 'string', default: '384' },
      queries: { type: 'string', default: '1000' },
      nlist: { type: 'string' },
      metric: { type: 'string', default: 'l2' },
      difficulty: { type: 'string', default: 'hard,easy' },
      encoding: { type: 'string', default: 'f32,sq8' },
      rerank: { type: 'string', default: String(DEFAULT_RERANK) },
      out: { type: 'string', default: 'bench/results/ivf.json' },
      svg: { type: 'string', default: 'bench/results/ivf.svg' },
      quick: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const quick = values.quick === true;
  const sizes = (values.n ?? (quick ? '50000' : '100000,1000000')).split(',').map((s) => positiveInt(s.trim(), 'n'));
  const metric = values.metric as Metric;
  if (!METRICS.includes(metric)) throw new Error(`--metric must be one of ${METRICS.join('|')}; received ${values.metric}`);
  const difficulties = parseDifficulties(values.difficulty);
  const encodings = values.encoding.split(',').map((s) => {
    const e = s.trim() as IVFEncoding;
    if (!ENCODINGS.includes(e)) throw new Error(`--encoding must be ${ENCODINGS.join('|')} or a list of them; received ${values.encoding}`);
    return e;
  });
  const nlist = values.nlist === undefined || values.nlist === 'auto' ? null : positiveInt(values.nlist, 'nlist');
  if (nlist !== null && nlist > Math.min(...sizes)) {
    throw new Error(`--nlist ${nlist} is larger than the smallest N (${Math.min(...sizes)}); training needs N >= nlist`);
  }
  return {
    sizes: [...new Set(sizes)].sort((a, b) => a - b),
    dim: positiveInt(values.dim, 'dim'),
    queries: positiveInt(values.queries, 'queries'),
    metric,
    nlist,
    difficulties,
    encodings: [...new Set(encodings)],
    rerank: positiveInt(values.rerank, 'rerank'),
    out: resolve(values.out),
    svg: resolve(values.svg),
    quick,
    k: K,
  };
}

// ---------------------------------------------------------------- results ---

interface NprobeRow {
  nprobe: number;
  recall: number;
  /** Mean vectors in the lists a query probes (from the centroids and list sizes). */
  scannedPerQuery: number;
  scannedFraction: number;
  single: Latency;
  singleQps: number;
  singleSpeedup: number; // over the flat index's single-query QPS
  batch: { reps: number; bestSeconds: number; qps: number; speedup: number };
}

/** The fastest nprobe with recall@10 >= level, if any. */
type AtRecall =
  | { level: number; reached: false; bestRecall: number }
  | {
      level: number;
      reached: true;
      nprobe: number;
      recall: number;
      singleQps: number;
      singleSpeedup: number;
      batchQps: number;
      batchSpeedup: number;
    };

interface RunResult {
  difficulty: Difficulty;
  n: number;
  encoding: IVFEncoding;
  /** Candidates re-scored exactly per query (sq8), else null. */
  rerank: number | null;
  nlist: number;
  flat: {
    addSeconds: number;
    memoryBytes: number;
    groundTruthSeconds: number;
    /** The faster (lower median) of singleBefore and singleAfter. */
    single: Latency;
    singleQps: number;
    singleBefore: Latency;
    singleAfter: Latency;
    /** The faster of the best of 3 before (the first is the ground truth) and the best of 3 after. */
    batch: { reps: number; bestSeconds: number; qps: number; qpsBefore: number; qpsAfter: number };
  };
  ivf: {
    train: {
      seconds: number;
      trainingPoints: number;
      iterations: number;
      /** Seconds from the train() call to the end of each iteration's assignment. */
      iterationEndSeconds: number[];
      /** 2 * points * nlist * dim per iteration's assignment, over the whole train time. */
      gflops: number;
    };
    add: { seconds: number; vectorsPerSecond: number; gflops: number };
    buildSeconds: number;
    memoryBytes: number;
    lists: { min: number; median: number; max: number; mean: number; empty: number };
    rows: NprobeRow[];
  };
  atRecall: AtRecall[];
  rssBytes: number;
}

interface TargetResult {
  name: string;
  run: string;
  measured: string;
  limit: string;
  value: number | null;
  pass: boolean | null; // null: not measured in this run
}

// ------------------------------------------------------------------ bench ---

function runLabel(difficulty: Difficulty, n: number, encoding?: IVFEncoding): string {
  return `${difficulty}, N = ${fmtInt(n)}${encoding === undefined ? '' : `, ${encoding}`}`;
}

/** The fastest nprobe reaching each recall level. */
function atRecallLevels(rows: readonly NprobeRow[]): AtRecall[] {
  return RECALL_LEVELS.map((level): AtRecall => {
    const ok = rows.filter((r) => r.recall >= level);
    if (ok.length === 0) return { level, reached: false, bestRecall: Math.max(...rows.map((r) => r.recall)) };
    const best = ok.reduce((a, b) => (b.singleQps > a.singleQps ? b : a));
    return {
      level,
      reached: true,
      nprobe: best.nprobe,
      recall: best.recall,
      singleQps: best.singleQps,
      singleSpeedup: best.singleSpeedup,
      batchQps: best.batch.qps,
      batchSpeedup: best.batch.speedup,
    };
  });
}

/** Best-of-reps wall time of fn; returns the first call's value too. */
function bestOf<T>(reps: number, fn: () => T): { first: T; bestSeconds: number; seconds: number[] } {
  const seconds: number[] = [];
  let first: T | undefined;
  for (let r = 0; r < reps; r++) {
    const t0 = now();
    const v = fn();
    seconds.push(now() - t0);
    if (r === 0) first = v;
  }
  return { first: first as T, bestSeconds: Math.min(...seconds), seconds };
}

/** One IVF index built and swept over nprobe; speed-ups are filled in later. */
interface IvfMeasured {
  encoding: IVFEncoding;
  ivf: Omit<RunResult['ivf'], 'rows'>;
  measured: Omit<NprobeRow, 'singleSpeedup' | 'batch'>[];
  batchSeconds: number[];
}

function benchIvf(
  p: Params,
  label: string,
  encoding: IVFEncoding,
  data: Float32Array,
  queries: Float32Array,
  qs: readonly Float32Array[],
  truth: SearchResult[],
  nlist: number,
): IvfMeasured {
  const { dim, k } = p;
  const n = data.length / dim;
  const nq = qs.length;
  const rerank = encoding === 'sq8' ? p.rerank : undefined;

  progress(`${label}: ivf ${encoding} train (nlist ${fmtInt(nlist)})`);
  const ivf = new IVFIndex({ dim, metric: p.metric, nlist, encoding, rerank });
  const iterationEnds: number[] = [];
  let t0 = now();
  const trained = ivf.train(data, { onProgress: () => void iterationEnds.push(now() - t0) });
  const trainSeconds = now() - t0;
  progress(`${label}: ivf ${encoding} add`);
  t0 = now();
  ivf.add(data);
  const addSeconds = now() - t0;
  const sizes = ivf.listSizes();
  const sortedSizes = [...sizes].sort((a, b) => a - b);

  // Vectors scanned per query at each nprobe: the lists of the nprobe
  // nearest centroids, as the index picks them (same metric).
  const maxProbe = Math.min(nlist, NPROBES[NPROBES.length - 1]!);
  const coarse = new FlatIndex({ dim, metric: p.metric });
  coarse.add(ivf.centroids());
  const probed = coarse.searchBatch(queries, maxProbe);
  const scannedAt = (nprobe: number): number => {
    let total = 0;
    for (const r of probed) for (let j = 0; j < Math.min(nprobe, r.ids.length); j++) total += sizes[r.ids[j]!]!;
    return total / nq;
  };

  // Per nprobe: recall and batch (best of 3), then single-query latency.
  const measured: IvfMeasured['measured'] = [];
  const batchSeconds: number[] = [];
  const singleCalls = IVF_SINGLE_QUERIES; // cycling through the queries
  for (const nprobe of NPROBES) {
    if (nprobe > nlist) break;
    progress(`${label}: ivf ${encoding} nprobe ${nprobe}: searchBatch x ${BATCH_REPS}, ${singleCalls} single queries`);
    const batch = bestOf(BATCH_REPS, () => ivf.searchBatch(queries, k, { nprobe }));
    const recall = recallAtK(batch.first, truth, k);
    for (let i = 0; i < WARMUP_CALLS; i++) ivf.search(qs[i % nq]!, k, { nprobe });
    const single = latencyOf(
      timeEach(singleCalls, (i) => ivf.search(qs[i % nq]!, k, { nprobe })),
      1,
      'hrtime',
    );
    const scanned = scannedAt(nprobe);
    measured.push({ nprobe, recall, scannedPerQuery: scanned, scannedFraction: scanned / n, single, singleQps: 1e3 / single.medianMs });
    batchSeconds.push(batch.bestSeconds);
  }
  const iterations = trained.iterations;
  return {
    encoding,
    ivf: {
      train: {
        seconds: trainSeconds,
        trainingPoints: trained.trainingPoints,
        iterations,
        iterationEndSeconds: iterationEnds,
        gflops: (2 * trained.trainingPoints * nlist * dim * iterations) / trainSeconds / 1e9,
      },
      add: { seconds: addSeconds, vectorsPerSecond: n / addSeconds, gflops: (2 * n * nlist * dim) / addSeconds / 1e9 },
      buildSeconds: trainSeconds + addSeconds,
      memoryBytes: ivf.memoryUsage(),
      lists: {
        min: sortedSizes[0]!,
        median: median(sortedSizes),
        max: sortedSizes[sortedSizes.length - 1]!,
        mean: n / nlist,
        empty: sortedSizes.filter((x) => x === 0).length,
      },
    },
    measured,
    batchSeconds,
  };
}

/** The flat index, then one IVF index per encoding, on the first n rows: one result per encoding. */
function benchRun(p: Params, difficulty: Difficulty, allData: Float32Array, queries: Float32Array, n: number): RunResult[] {
  const { dim, k } = p;
  const data = allData.subarray(0, n * dim);
  const nq = queries.length / dim;
  const qs: Float32Array[] = Array.from({ length: nq }, (_, i) => queries.subarray(i * dim, (i + 1) * dim));
  const nlist = p.nlist ?? suggestNlist(n);
  const label = `${difficulty} N=${fmtInt(n)}`;

  // Exact: add, ground truth (= first batch timing), single queries.
  progress(`${label}: flat add + ground truth (searchBatch x ${BATCH_REPS})`);
  const flat = new FlatIndex({ dim, metric: p.metric });
  const t0 = now();
  flat.add(data);
  const flatAddSeconds = now() - t0;
  const gt = bestOf(BATCH_REPS, () => flat.searchBatch(queries, k));
  const truth: SearchResult[] = gt.first;
  if (truth.length !== nq) throw new Error(`flat searchBatch returned ${truth.length} results for ${nq} queries`);
  const flatCalls = Math.min(FLAT_SINGLE_QUERIES, nq);
  const flatSingleLatency = (when: string): Latency => {
    progress(`${label}: flat single queries (${flatCalls}, ${when})`);
    for (let i = 0; i < 3; i++) flat.search(qs[i % nq]!, k);
    return latencyOf(
      timeEach(flatCalls, (i) => flat.search(qs[i]!, k)),
      1,
      'hrtime',
    );
  };
  const flatSingleBefore = flatSingleLatency('before');

  const ivfs = p.encodings.map((encoding) => benchIvf(p, label, encoding, data, queries, qs, truth, nlist));

  // Exact again, after the IVF runs; the faster of the two measurements is
  // kept (on a shared machine the load drifts; speed-ups err low, not high).
  const flatSingleAfter = flatSingleLatency('after');
  progress(`${label}: flat searchBatch x ${BATCH_REPS} (after)`);
  const flatBatchAfter = bestOf(BATCH_REPS, () => flat.searchBatch(queries, k));
  const flatSingle = flatSingleAfter.medianMs < flatSingleBefore.medianMs ? flatSingleAfter : flatSingleBefore;
  const flatBatchSeconds = Math.min(gt.bestSeconds, flatBatchAfter.bestSeconds);
  const flatResult: RunResult['flat'] = {
    addSeconds: flatAddSeconds,
    memoryBytes: flat.memoryUsage(),
    groundTruthSeconds: gt.seconds[0]!,
    single: flatSingle,
    singleQps: 1e3 / flatSingle.medianMs,
    singleBefore: flatSingleBefore,
    singleAfter: flatSingleAfter,
    batch: {
      reps: BATCH_REPS,
      bestSeconds: flatBatchSeconds,
      qps: nq / flatBatchSeconds,
      qpsBefore: nq / gt.bestSeconds,
      qpsAfter: nq / flatBatchAfter.bestSeconds,
    },
  };
  return ivfs.map((m) => {
    const rows: NprobeRow[] = m.measured.map((row, i) => {
      const qps = nq / m.batchSeconds[i]!;
      return {
        ...row,
        singleSpeedup: flatSingle.medianMs / row.single.medianMs,
        batch: { reps: BATCH_REPS, bestSeconds: m.batchSeconds[i]!, qps, speedup: qps / flatResult.batch.qps },
      };
    });
    return {
      difficulty,
      n,
      encoding: m.encoding,
      rerank: m.encoding === 'sq8' ? p.rerank : null,
      nlist,
      flat: flatResult,
      ivf: { ...m.ivf, rows },
      atRecall: atRecallLevels(rows),
      rssBytes: process.memoryUsage().rss,
    };
  });
}

// ---------------------------------------------------------------- targets ---

function judgeTargets(runs: readonly RunResult[]): TargetResult[] {
  const targets = runs.filter((r) => r.n === TARGETS.n && r.difficulty === TARGETS.difficulty);
  const where = runLabel(TARGETS.difficulty, TARGETS.n);
  const out: TargetResult[] = [];
  const speed = `>= ${TARGETS.speedup}x flat single-query QPS`;
  const name = `recall@10 >= ${TARGETS.recall} at ${speed}`;
  if (targets.length === 0) out.push({ name, run: where, measured: 'not in this run', limit: speed, value: null, pass: null });
  for (const target of targets) {
    const run = runLabel(target.difficulty, target.n, target.encoding);
    const at = target.atRecall.find((a) => a.level === TARGETS.recall);
    if (at === undefined || !at.reached) {
      const best = at?.reached === false ? at.bestRecall : 0;
      out.push({ name, run, measured: `recall ${TARGETS.recall} not reached (best ${fmt(best, 3)})`, limit: speed, value: null, pass: false });
    } else {
      out.push({
        name,
        run,
        measured: `nprobe ${at.nprobe}: recall ${fmt(at.recall, 3)}, ${fmt(at.singleSpeedup, 1)}x`,
        limit: speed,
        value: at.singleSpeedup,
        pass: at.singleSpeedup >= TARGETS.speedup,
      });
    }
  }
  // Train + add: judged on every run at the target N.
  const atN = runs.filter((r) => r.n === TARGETS.n);
  if (atN.length === 0) {
    out.push({ name: `train + add < ${TARGETS.buildSeconds} s`, run: `N = ${fmtInt(TARGETS.n)}`, measured: 'not in this run', limit: `< ${TARGETS.buildSeconds} s`, value: null, pass: null });
  }
  for (const r of atN) {
    out.push({
      name: `train + add < ${TARGETS.buildSeconds} s`,
      run: runLabel(r.difficulty, r.n, r.encoding),
      measured: `${fmt(r.ivf.train.seconds, 1)} + ${fmt(r.ivf.add.seconds, 1)} = ${fmt(r.ivf.buildSeconds, 1)} s`,
      limit: `< ${TARGETS.buildSeconds} s`,
      value: r.ivf.buildSeconds,
      pass: r.ivf.buildSeconds < TARGETS.buildSeconds,
    });
  }
  // The data check, on the first encoding run (the coarse quantizer is the same).
  const np1 = targets[0]?.ivf.rows.find((row) => row.nprobe === 1);
  out.push({
    name: `nprobe 1 recall@10 < ${TARGETS.nprobe1RecallBelow} (data is hard)`,
    run: targets[0] ? runLabel(targets[0].difficulty, targets[0].n, targets[0].encoding) : where,
    measured: np1 ? fmt(np1.recall, 3) : 'not in this run',
    limit: `< ${TARGETS.nprobe1RecallBelow}`,
    value: np1?.recall ?? null,
    pass: np1 ? np1.recall < TARGETS.nprobe1RecallBelow : null,
  });
  return out;
}

// --------------------------------------------------------------- printing ---

function fmtQps(qps: number): string {
  return qps >= 100 ? fmtInt(qps) : fmt(qps, 1);
}

function fmtAtRecall(a: AtRecall): string {
  if (!a.reached) return `not reached (best recall ${fmt(a.bestRecall, 3)})`;
  return (
    `nprobe ${a.nprobe} (recall ${fmt(a.recall, 3)}): ${fmtQps(a.singleQps)} QPS single (${fmt(a.singleSpeedup, 1)}x flat), ` +
    `${fmtQps(a.batchQps)} QPS batch (${fmt(a.batchSpeedup, 1)}x flat)`
  );
}

function printRun(r: RunResult, p: Params): void {
  /** Vectors read per query, as GB/s at a single-query median latency. */
  const gbps = (bytes: number, medianMs: number): number => bytes / (medianMs * 1e-3) / 1e9;
  // A probe reads 4 bytes per component (f32) or 1 (sq8 codes); centroids are floats.
  const listBytes = r.encoding === 'sq8' ? p.dim : p.dim * 4;
  const f = r.flat;
  const t = r.ivf.train;
  const ends = t.iterationEndSeconds;
  const perIteration = ends.slice(1).map((e, i) => e - ends[i]!);
  const nlistNote = p.nlist === null ? ' = suggestNlist(N)' : '';
  console.log(
    `\n${runLabel(r.difficulty, r.n, r.encoding)}  (dim ${p.dim}, ${p.metric}, k ${p.k}; data ${fmtBytes(r.n * p.dim * 4)}; nlist ${fmtInt(r.nlist)}${nlistNote}` +
      `${r.rerank === null ? '' : `; rerank ${r.rerank}`})`,
  );
  console.log(
    `  flat   add ${fmt(f.addSeconds, 2)} s; ground truth (searchBatch, ${fmtInt(p.queries)} queries) ${fmt(f.groundTruthSeconds, 2)} s`,
  );
  console.log(
    `         single query median ${fmtMs(f.single.medianMs)}, p99 ${fmtMs(f.single.p99Ms)} (${f.single.samples} queries) = ` +
      `${fmtQps(f.singleQps)} QPS; batch ${fmtQps(f.batch.qps)} QPS (best of ${f.batch.reps})`,
  );
  console.log(
    `         (faster of two measurements: median ${fmtMs(f.singleBefore.medianMs)} before the IVF runs, ${fmtMs(f.singleAfter.medianMs)} after; ` +
      `batch ${fmtQps(f.batch.qpsBefore)} and ${fmtQps(f.batch.qpsAfter)} QPS)`,
  );
  console.log(
    `  ivf    train ${fmt(t.seconds, 2)} s  (k-means on ${fmtInt(t.trainingPoints)} points, ${t.iterations} iterations, ` +
      `${fmt(t.gflops, 0)} GFLOP/s; sampling + init + 1st iteration ${fmt(ends[0] ?? t.seconds, 2)} s, ` +
      `then ${perIteration.length > 0 ? fmt(median(perIteration), 2) : '-'} s per iteration)`,
  );
  console.log(
    `         add ${fmt(r.ivf.add.seconds, 2)} s  (${fmtInt(r.ivf.add.vectorsPerSecond)} vectors/s; assignment to ${fmtInt(r.nlist)} centroids at ${fmt(r.ivf.add.gflops, 0)} GFLOP/s)`,
  );
  console.log(`         train + add ${fmt(r.ivf.buildSeconds, 2)} s`);
  const l = r.ivf.lists;
  console.log(
    `  memory ivf ${fmtBytes(r.ivf.memoryBytes)}, flat ${fmtBytes(f.memoryBytes)}; process rss ${fmtBytes(r.rssBytes)}`,
  );
  console.log(
    `  lists  min ${fmtInt(l.min)}, median ${fmtInt(l.median)}, max ${fmtInt(l.max)}, mean ${fmt(l.mean, 1)}; ${fmtInt(l.empty)} empty`,
  );
  console.log('');
  console.log(
    table(
      ['nprobe', 'recall@10', 'scanned/query', 'scan GB/s', 'median', 'p99', 'single QPS', 'vs flat', 'batch QPS', 'vs flat'],
      [
        ...r.ivf.rows.map((row) => [
          String(row.nprobe),
          fmt(row.recall, 3),
          `${fmtInt(row.scannedPerQuery)} (${fmt(row.scannedFraction * 100, 2)}%)`,
          fmt(gbps(row.scannedPerQuery * listBytes + r.nlist * p.dim * 4, row.single.medianMs), 1),
          fmtMs(row.single.medianMs),
          fmtMs(row.single.p99Ms),
          fmtQps(row.singleQps),
          `${fmt(row.singleSpeedup, 1)}x`,
          fmtQps(row.batch.qps),
          `${fmt(row.batch.speedup, 1)}x`,
        ]),
        [
          'flat',
          '1.000',
          `${fmtInt(r.n)} (100%)`,
          fmt(gbps(r.n * p.dim * 4, f.single.medianMs), 1),
          fmtMs(f.single.medianMs),
          fmtMs(f.single.p99Ms),
          fmtQps(f.singleQps),
          '1.0x',
          fmtQps(f.batch.qps),
          '1.0x',
        ],
      ],
    ),
  );
  console.log(
    `  (single: ${r.ivf.rows[0]?.single.samples ?? 0} search() calls per nprobe, flat ${f.single.samples}; batch: ${fmtInt(p.queries)} queries, best of ${BATCH_REPS};`,
  );
  console.log(
    `   scan GB/s: (scanned * dim * ${r.encoding === 'sq8' ? '1 byte (sq8 codes)' : '4 bytes'} + nlist centroids * dim * 4 bytes) / single-query median)`,
  );
  console.log('');
  for (const a of r.atRecall) console.log(`  recall >= ${fmt(a.level, 2)}   ${fmtAtRecall(a)}`);
  if (r.difficulty === TARGETS.difficulty) {
    const np1 = r.ivf.rows.find((row) => row.nprobe === 1);
    if (np1) {
      const hard = np1.recall < TARGETS.nprobe1RecallBelow;
      const judged = r.n === TARGETS.n;
      console.log(
        `  difficulty check: nprobe 1 recall ${fmt(np1.recall, 3)} ${hard ? '<' : '>='} ${TARGETS.nprobe1RecallBelow}` +
          (judged ? (hard ? '  ok' : '  WARNING: the hard data is not hard enough') : `  (judged at N = ${fmtInt(TARGETS.n)} only)`),
      );
    }
  }
}

function printSummary(runs: readonly RunResult[]): void {
  const cell = (a: AtRecall | undefined): string =>
    a === undefined || !a.reached ? 'not reached' : `np ${a.nprobe}: ${fmtQps(a.singleQps)} (${fmt(a.singleSpeedup, a.singleSpeedup < 10 ? 1 : 0)}x)`;
  console.log('\nSummary (QPS single query; in brackets: speed-up over the exact FlatIndex in the same run)');
  console.log(
    table(
      ['run', 'nlist', 'train s', 'add s', 'sum s', 'flat QPS', 'recall np=1', 'recall >= 0.90', 'recall >= 0.95', 'recall >= 0.99'],
      runs.map((r) => [
        runLabel(r.difficulty, r.n, r.encoding),
        fmtInt(r.nlist),
        fmt(r.ivf.train.seconds, 1),
        fmt(r.ivf.add.seconds, 1),
        fmt(r.ivf.buildSeconds, 1),
        fmtQps(r.flat.singleQps),
        r.ivf.rows[0] ? fmt(r.ivf.rows[0].recall, 3) : '-',
        cell(r.atRecall.find((a) => a.level === 0.9)),
        cell(r.atRecall.find((a) => a.level === 0.95)),
        cell(r.atRecall.find((a) => a.level === 0.99)),
      ]),
    ),
  );
}

function printTargets(targets: readonly TargetResult[]): void {
  console.log('\nTargets (judged on the measured numbers)');
  const width = Math.max(...targets.map((t) => t.name.length));
  for (const t of targets) {
    const result = t.pass === null ? 'not measured' : verdict(t.pass);
    console.log(`  ${result.padEnd(4)}  ${t.name.padEnd(width)}  ${t.run}: ${t.measured}`);
  }
}

// -------------------------------------------------------------------- svg ---

/** 1000000 -> "1M", 100000 -> "100k". */
function fmtSize(n: number): string {
  return n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}M` : n >= 1e3 && n % 1e3 === 0 ? `${n / 1e3}k` : fmtInt(n);
}

/** The recall-vs-QPS chart of every run, drawn by the chart `semvec bench` uses. */
function renderSvg(runs: readonly RunResult[], p: Params, machine: Machine): string {
  const sizes = [...new Set(runs.map((r) => r.n))].sort((a, b) => a - b);
  return renderRecallQpsSvg({
    title: `semvec IVFIndex vs exact FlatIndex: recall@${p.k} against single-query QPS`,
    subtitle:
      `dim ${p.dim}, ${p.metric}, ${fmtInt(p.queries)} queries, nlist ${p.nlist === null ? 'suggestNlist(N)' : fmtInt(p.nlist)}; ` +
      `points labelled with nprobe; ${machine.cpu}, ${machine.logicalCores} cores, ${machine.simd}; ${machine.date.slice(0, 10)}`,
    k: p.k,
    series: runs.map((r) => ({
      name: `${r.difficulty}, N = ${fmtSize(r.n)}, ${r.encoding}`,
      points: r.ivf.rows.map((row) => ({ recall: row.recall, qps: row.singleQps, label: String(row.nprobe) })),
      dashed: r.difficulty === 'easy',
    })),
    baselines: sizes.map((n) => {
      const at = runs.filter((r) => r.n === n);
      return { name: `flat (exact), N = ${fmtSize(n)}`, qps: at.reduce((s, r) => s + r.flat.singleQps, 0) / at.length };
    }),
    notes: ['hard: overlapping isotropic', 'clusters + 10% noise', 'easy: separated, nearly flat', 'clusters + 1% noise', '', 'labels: nprobe'],
  });
}

// ------------------------------------------------------------------- main ---

function main(): void {
  const p = parseParams();
  const machine = machineInfo();
  const loadBefore = os.loadavg();

  console.log(`semvec IVFIndex vs FlatIndex benchmark${p.quick ? ' (quick)' : ''}`);
  printMachine(machine);
  console.log(`  load      ${loadBefore.map((x) => fmt(x, 2)).join(' ')} (1, 5, 15 min averages at start)`);
  console.log(
    `  params    N ${p.sizes.map(fmtInt).join(', ')}; dim ${p.dim}; metric ${p.metric}; k ${p.k}; ${fmtInt(p.queries)} queries; ` +
      `nlist ${p.nlist === null ? 'suggestNlist(N)' : fmtInt(p.nlist)}; nprobe ${NPROBES.join(', ')}; ` +
      `encodings ${p.encodings.join(', ')} (sq8 rerank ${p.rerank}); seeds ${JSON.stringify(SEEDS)}`,
  );
  console.log(`  training  IVF defaults ${JSON.stringify(IVF_TRAINING_DEFAULTS)}, default seed`);
  for (const d of p.difficulties) {
    const s = DIFFICULTIES[d];
    console.log(
      `  data      ${d}: ${fmtInt(s.clusters)} clusters, Zipf ${s.zipf}, radius ${s.radius[0]}-${s.radius[1]} (centres ~1.41 apart), ` +
        `${s.intrinsicDim === 0 ? 'isotropic' : `${fmt((1 - s.isotropicShare) * 100, 0)}% of variance along ${s.intrinsicDim} directions`}, ` +
        `${fmt(s.noiseFraction * 100, 0)}% noise`,
    );
  }

  const runs: RunResult[] = [];
  const generateSeconds: Record<string, number> = {};
  const maxN = Math.max(...p.sizes);
  for (const difficulty of p.difficulties) {
    progress(`${difficulty}: generating ${fmtInt(maxN)} x ${p.dim} vectors + ${fmtInt(p.queries)} queries`);
    const t0 = now();
    const mixture = makeMixture(p.dim, SEEDS.mixture, DIFFICULTIES[difficulty]);
    const data = sample(mixture, maxN, SEEDS.data);
    const queries = sample(mixture, p.queries, SEEDS.queries);
    if (p.metric === 'cosine') {
      normalizeInPlace(data, p.dim);
      normalizeInPlace(queries, p.dim);
    }
    generateSeconds[difficulty] = now() - t0;
    for (const n of p.sizes) {
      for (const r of benchRun(p, difficulty, data, queries, n)) {
        runs.push(r);
        printRun(r, p);
      }
    }
  }
  console.log(
    `\nData: ${p.difficulties.map((d) => `${d} ${fmtInt(maxN)} x ${p.dim} generated in ${fmt(generateSeconds[d] ?? 0, 1)} s`).join('; ')} (smaller N use its first rows)`,
  );
  printSummary(runs);
  const targets = judgeTargets(runs);
  printTargets(targets);
  const loadAfter = os.loadavg();
  console.log(`\n  load      ${loadAfter.map((x) => fmt(x, 2)).join(' ')} (1, 5, 15 min averages at the end)`);

  const json = {
    benchmark: 'semvec IVFIndex vs FlatIndex (bench/ivf.ts)',
    machine: { ...machine, loadAverageStart: loadBefore, loadAverageEnd: loadAfter },
    params: {
      ...p,
      nlist: p.nlist ?? 'suggestNlist(N)',
      nprobes: NPROBES.filter((x) => x <= (p.nlist ?? Infinity)),
      seeds: SEEDS,
      data: Object.fromEntries(p.difficulties.map((d) => [d, DIFFICULTIES[d]])),
      training: IVF_TRAINING_DEFAULTS,
      flatSingleQueries: FLAT_SINGLE_QUERIES,
      ivfSingleQueries: IVF_SINGLE_QUERIES,
      batchReps: BATCH_REPS,
      recallLevels: RECALL_LEVELS,
      targets: TARGETS,
    },
    generateSeconds,
    runs,
    targets,
  };
  mkdirSync(dirname(p.out), { recursive: true });
  writeFileSync(p.out, `${JSON.stringify(json, null, 2)}\n`);
  mkdirSync(dirname(p.svg), { recursive: true });
  writeFileSync(p.svg, renderSvg(runs, p, machine));
  console.log(`\nResults written to ${p.out}`);
  console.log(`Chart written to ${p.svg}`);
}

main();
