/**
 * bench/ivf/measure.ts: what bench:ivf measures on one data set at one N.
 * The exact FlatIndex (ground truth, single-query and batch speed, measured
 * before and after the IVF runs, the faster kept), then one IVFIndex per
 * encoding: train and add, list sizes, and per nprobe recall@10, vectors
 * scanned, single-query latency and batch QPS, with speed-ups over the flat
 * index of the same run.
 */
import { FlatIndex, IVFIndex, recallAtK, suggestNlist } from '../../src/index.js';
import type { IVFEncoding, Metric, SearchResult } from '../../src/index.js';
import type { Difficulty } from '../lib/data.js';
import { fmtInt, progress } from '../lib/format.js';
import { bestOf, latencyOf, median, now, timeEachWarm, timed, type Latency } from '../lib/timing.js';

export const K = 10;
// Powers of two, with half steps where recall crosses 0.9-0.99 on the hard data.
export const NPROBES = [1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 128] as const;
export const RECALL_LEVELS = [0.9, 0.95, 0.99] as const;
export const FLAT_SINGLE_QUERIES = 30;
export const IVF_SINGLE_QUERIES = 300;
export const WARMUP_CALLS = 5;
export const BATCH_REPS = 3;
export const ENCODINGS: readonly IVFEncoding[] = ['f32', 'sq8', 'rq4', 'rq1'];

export interface Params {
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

export interface NprobeRow {
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
export type AtRecall =
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

interface FlatResult {
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
}

interface IvfBuild {
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
}

export interface RunResult {
  difficulty: Difficulty;
  n: number;
  encoding: IVFEncoding;
  /** Candidates re-scored exactly per query (encoded lists), else null. */
  rerank: number | null;
  nlist: number;
  flat: FlatResult;
  ivf: IvfBuild & { rows: NprobeRow[] };
  atRecall: AtRecall[];
  rssBytes: number;
}

/** One data set's rows, queries and query views. */
export interface RunData {
  difficulty: Difficulty;
  data: Float32Array;
  queries: Float32Array;
  qs: readonly Float32Array[];
}

export function runLabel(difficulty: Difficulty, n: number, encoding?: IVFEncoding): string {
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

// -------------------------------------------------------------------- ivf ---

/** One IVF index built and swept over nprobe; speed-ups are filled in later. */
interface IvfMeasured {
  encoding: IVFEncoding;
  ivf: IvfBuild;
  measured: Omit<NprobeRow, 'singleSpeedup' | 'batch'>[];
  batchSeconds: number[];
}

/** train() and add() timed, with the list sizes. */
function buildIvf(p: Params, label: string, encoding: IVFEncoding, data: Float32Array, nlist: number): { ivf: IVFIndex; build: IvfBuild } {
  const { dim } = p;
  const n = data.length / dim;
  progress(`${label}: ivf ${encoding} train (nlist ${fmtInt(nlist)})`);
  const ivf = new IVFIndex({ dim, metric: p.metric, nlist, encoding, rerank: encoding === 'f32' ? undefined : p.rerank });
  const iterationEnds: number[] = [];
  let t0 = now();
  const trained = ivf.train(data, { onProgress: () => void iterationEnds.push(now() - t0) });
  const trainSeconds = now() - t0;
  progress(`${label}: ivf ${encoding} add`);
  t0 = now();
  ivf.add(data);
  const addSeconds = now() - t0;
  const sizes = [...ivf.listSizes()].sort((a, b) => a - b);
  const { iterations, trainingPoints } = trained;
  return {
    ivf,
    build: {
      train: {
        seconds: trainSeconds,
        trainingPoints,
        iterations,
        iterationEndSeconds: iterationEnds,
        gflops: (2 * trainingPoints * nlist * dim * iterations) / trainSeconds / 1e9,
      },
      add: { seconds: addSeconds, vectorsPerSecond: n / addSeconds, gflops: (2 * n * nlist * dim) / addSeconds / 1e9 },
      buildSeconds: trainSeconds + addSeconds,
      memoryBytes: ivf.memoryUsage(),
      lists: { min: sizes[0]!, median: median(sizes), max: sizes[sizes.length - 1]!, mean: n / nlist, empty: sizes.filter((x) => x === 0).length },
    },
  };
}

/**
 * Vectors scanned per query at each nprobe: the lists of the nprobe nearest
 * centroids, as the index picks them (same metric).
 */
function scannedCounter(p: Params, ivf: IVFIndex, queries: Float32Array, nlist: number): (nprobe: number) => number {
  const sizes = ivf.listSizes();
  const nq = queries.length / p.dim;
  const coarse = new FlatIndex({ dim: p.dim, metric: p.metric });
  coarse.add(ivf.centroids());
  const probed = coarse.searchBatch(queries, Math.min(nlist, NPROBES[NPROBES.length - 1]!));
  return (nprobe) => {
    let total = 0;
    for (const r of probed) for (let j = 0; j < Math.min(nprobe, r.ids.length); j++) total += sizes[r.ids[j]!]!;
    return total / nq;
  };
}

function benchIvf(p: Params, label: string, encoding: IVFEncoding, set: RunData, truth: SearchResult[], nlist: number): IvfMeasured {
  const { k } = p;
  const { data, queries, qs } = set;
  const n = data.length / p.dim;
  const nq = qs.length;
  const { ivf, build } = buildIvf(p, label, encoding, data, nlist);
  const scannedAt = scannedCounter(p, ivf, queries, nlist);
  // Per nprobe: recall and batch (best of 3), then single-query latency (cycling through the queries).
  const measured: IvfMeasured['measured'] = [];
  const batchSeconds: number[] = [];
  for (const nprobe of NPROBES) {
    if (nprobe > nlist) break;
    progress(`${label}: ivf ${encoding} nprobe ${nprobe}: searchBatch x ${BATCH_REPS}, ${IVF_SINGLE_QUERIES} single queries`);
    const batch = bestOf(BATCH_REPS, () => ivf.searchBatch(queries, k, { nprobe }));
    const recall = recallAtK(batch.first, truth, k);
    const times = timeEachWarm(WARMUP_CALLS, IVF_SINGLE_QUERIES, (i) => ivf.search(qs[i % nq]!, k, { nprobe }));
    const single = latencyOf(times, 1, 'hrtime');
    const scanned = scannedAt(nprobe);
    measured.push({ nprobe, recall, scannedPerQuery: scanned, scannedFraction: scanned / n, single, singleQps: 1e3 / single.medianMs });
    batchSeconds.push(batch.bestSeconds);
  }
  build.memoryBytes = ivf.memoryUsage(); // after the searches, with whatever they allocated
  return { encoding, ivf: build, measured, batchSeconds };
}

// ------------------------------------------------------------------- flat ---

/** Single-query latency of the flat index over the first FLAT_SINGLE_QUERIES queries, after 3 warm-up calls. */
function flatSingleLatency(flat: FlatIndex, qs: readonly Float32Array[], k: number, label: string, when: string): Latency {
  const calls = Math.min(FLAT_SINGLE_QUERIES, qs.length);
  progress(`${label}: flat single queries (${calls}, ${when})`);
  return latencyOf(
    timeEachWarm(3, calls, (i) => flat.search(qs[i]!, k)),
    1,
    'hrtime',
  );
}

/**
 * The flat index, then one IVF index per encoding, on the first n rows: one
 * result per encoding. The flat index is measured again after the IVF runs
 * and the faster of the two measurements kept (on a shared machine the load
 * drifts; speed-ups err low, not high).
 */
export function benchRun(p: Params, set: RunData, n: number): RunResult[] {
  const { dim, k } = p;
  const { difficulty, queries, qs } = set;
  const data = set.data.subarray(0, n * dim);
  const nq = qs.length;
  const nlist = p.nlist ?? suggestNlist(n);
  const label = `${difficulty} N=${fmtInt(n)}`;
  progress(`${label}: flat add + ground truth (searchBatch x ${BATCH_REPS})`);
  const flat = new FlatIndex({ dim, metric: p.metric });
  const addSeconds = timed(() => flat.add(data)).seconds;
  const gt = bestOf(BATCH_REPS, () => flat.searchBatch(queries, k)); // the first call is the ground truth
  const truth: SearchResult[] = gt.first;
  if (truth.length !== nq) throw new Error(`flat searchBatch returned ${truth.length} results for ${nq} queries`);
  const singleBefore = flatSingleLatency(flat, qs, k, label, 'before');
  const ivfs = p.encodings.map((encoding) => benchIvf(p, label, encoding, { ...set, data }, truth, nlist));
  const singleAfter = flatSingleLatency(flat, qs, k, label, 'after');
  progress(`${label}: flat searchBatch x ${BATCH_REPS} (after)`);
  const batchAfter = bestOf(BATCH_REPS, () => flat.searchBatch(queries, k));
  const single = singleAfter.medianMs < singleBefore.medianMs ? singleAfter : singleBefore;
  const bestSeconds = Math.min(gt.bestSeconds, batchAfter.bestSeconds);
  const flatResult: FlatResult = {
    addSeconds,
    memoryBytes: flat.memoryUsage(),
    groundTruthSeconds: gt.seconds[0]!,
    single,
    singleQps: 1e3 / single.medianMs,
    singleBefore,
    singleAfter,
    batch: { reps: BATCH_REPS, bestSeconds, qps: nq / bestSeconds, qpsBefore: nq / gt.bestSeconds, qpsAfter: nq / batchAfter.bestSeconds },
  };
  return ivfs.map((m) => runResult(p, difficulty, n, nlist, flatResult, m));
}

/** One encoding's result, with its speed-ups over the flat index. */
function runResult(p: Params, difficulty: Difficulty, n: number, nlist: number, flat: FlatResult, m: IvfMeasured): RunResult {
  const rows: NprobeRow[] = m.measured.map((row, i) => {
    const qps = p.queries / m.batchSeconds[i]!;
    return {
      ...row,
      singleSpeedup: flat.single.medianMs / row.single.medianMs,
      batch: { reps: BATCH_REPS, bestSeconds: m.batchSeconds[i]!, qps, speedup: qps / flat.batch.qps },
    };
  });
  return {
    difficulty,
    n,
    encoding: m.encoding,
    rerank: m.encoding === 'f32' ? null : p.rerank,
    nlist,
    flat,
    ivf: { ...m.ivf, rows },
    atRecall: atRecallLevels(rows),
    rssBytes: process.memoryUsage().rss,
  };
}
