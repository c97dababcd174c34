/**
 * bench/flat/measure.ts: what bench:flat measures at one N. FlatIndex.add,
 * single-query latency (benchmark.js, then search against searchAsync by
 * hrtime), the TypeScript loop baseline with a top-k sanity check, and
 * searchBatch; then each figure against the machine's limits.
 */
import Benchmark from 'benchmark';

import { FlatIndex } from '../../src/index.js';
import type { Metric } from '../../src/index.js';
import { fmtInt, progress } from '../lib/format.js';
import type { Limits, ProbeSettings } from '../lib/machine.js';
import { bestOf, latencyOf, sum, timeEach, timeEachAsync, timed, type Latency } from '../lib/timing.js';

export const K = 10;
export const SINGLE_TARGET = 1.3; // single-query median / memory bound, at most
export const BATCH_TARGET = 0.5; // batch GFLOP/s / FMA peak, at least
export const ASYNC_CALLS = 50;

export interface Params extends ProbeSettings {
  sizes: number[];
  dim: number;
  queries: number;
  metric: Metric;
  out: string;
  quick: boolean;
  k: number;
  benchMaxTime: number; // seconds, benchmark.js maxTime
  batchReps: number;
}

/** A single-query median against the memory bound. */
interface SingleJudgement {
  boundMs: number;
  medianOverBound: number;
  target: number;
  pass: boolean;
}

/** Batch throughput against the FMA peak. */
interface BatchJudgement {
  fractionOfFmaPeak: number;
  target: number;
  pass: boolean;
}

interface SingleLatencies {
  search: Latency;
  searchSyncHrtime: Latency;
  searchAsync: Latency;
}

export interface SizeResult {
  n: number;
  generateSeconds: number;
  add: { seconds: number; vectorsPerSecond: number };
  memory: { indexBytes: number; bytesPerVector: number; rssBytes: number };
  single: SingleLatencies & { baseline: Latency; semvecOverBaseline: number; asyncOverSync: number } & SingleJudgement;
  batch: {
    queries: number;
    reps: number;
    bestSeconds: number;
    qps: number;
    gflops: number;
    baselineQueries: number;
    baselineQps: number;
    semvecOverBaselineQps: number;
  } & BatchJudgement;
  topKOverlapWithBaseline: number;
}

// --------------------------------------------------------------- baseline ---

interface TopK {
  ids: Int32Array;
  scores: Float64Array; // higher is better; -(squared distance) for l2
}

/** The pure-TypeScript baseline: score every row, keep the best k by insertion. */
function tsSearch(data: Float32Array, n: number, dim: number, q: Float32Array, k: number, l2: boolean): TopK {
  const ids = new Int32Array(k).fill(-1);
  const scores = new Float64Array(k).fill(-Infinity);
  for (let i = 0, base = 0; i < n; i++, base += dim) {
    let s = 0;
    if (l2) {
      for (let j = 0; j < dim; j++) {
        const d = data[base + j]! - q[j]!;
        s -= d * d;
      }
    } else {
      for (let j = 0; j < dim; j++) s += data[base + j]! * q[j]!;
    }
    if (s > scores[k - 1]!) {
      let p = k - 1;
      while (p > 0 && scores[p - 1]! < s) {
        scores[p] = scores[p - 1]!;
        ids[p] = ids[p - 1]!;
        p--;
      }
      scores[p] = s;
      ids[p] = i;
    }
  }
  return { ids, scores };
}

/** The baseline over a handful of full queries, after a JIT warm-up on a slice. */
function measureBaseline(p: Params, data: Float32Array, qs: readonly Float32Array[], n: number) {
  const { dim, k } = p;
  const nq = qs.length;
  const l2 = p.metric === 'l2';
  const queries = Math.min(nq, Math.max(5, Math.min(50, Math.round(5e6 / n))));
  progress(`N=${fmtInt(n)}: TypeScript baseline (${queries} queries)`);
  const warmRows = Math.min(n, 20_000);
  for (let i = 0; i < 5; i++) tsSearch(data, warmRows, dim, qs[i % nq]!, k, l2);
  const results: TopK[] = [];
  const times = timeEach(queries, (i) => {
    results.push(tsSearch(data, n, dim, qs[i]!, k, l2));
  });
  return { latency: latencyOf(times, 1, 'hrtime'), queries, totalSeconds: sum(times), results };
}

/**
 * semvec's top-k against the baseline's, as a share of ids in common (float
 * rounding may swap near-ties at the boundary, so this is an overlap, not an
 * assertion).
 */
function topKOverlap(index: FlatIndex, baseline: readonly TopK[], qs: readonly Float32Array[], k: number): number {
  let overlap = 0;
  baseline.forEach((b, i) => {
    const got = new Set(Array.from(index.search(qs[i]!, k).ids));
    for (const id of b.ids) if (got.has(id)) overlap++;
  });
  return overlap / (baseline.length * k);
}

// ----------------------------------------------------------------- semvec ---

/** benchmark.js run of `fn`; each sample is (nearly always) one call. */
function benchmarkLatency(name: string, fn: () => void, maxTime: number): Latency {
  const bench = new Benchmark(name, fn, { maxTime, minTime: 1e-4, minSamples: 10, initCount: 1 });
  bench.run();
  if (bench.error) throw bench.error;
  const sample: number[] = (bench.stats.sample as unknown[]).filter((x): x is number => typeof x === 'number');
  return latencyOf(sample, bench.count, 'benchmark.js');
}

/** search() by benchmark.js after a warm-up, then searchAsync against search over the same queries. */
async function measureSingle(p: Params, index: FlatIndex, qs: readonly Float32Array[], n: number): Promise<SingleLatencies> {
  const { k } = p;
  const nq = qs.length;
  progress(`N=${fmtInt(n)}: single-query latency (benchmark.js, maxTime ${p.benchMaxTime} s)`);
  for (let i = 0; i < 3; i++) index.search(qs[i % nq]!, k); // thread pool, page faults
  let qi = 0;
  const search = benchmarkLatency(
    `search N=${n}`,
    () => {
      index.search(qs[qi]!, k);
      qi = qi + 1 === nq ? 0 : qi + 1;
    },
    p.benchMaxTime,
  );
  progress(`N=${fmtInt(n)}: searchAsync vs search (${ASYNC_CALLS} calls each)`);
  const calls = Math.min(ASYNC_CALLS, nq);
  await index.searchAsync(qs[0]!, k);
  const asyncTimes = await timeEachAsync(calls, (i) => index.searchAsync(qs[i]!, k));
  const syncTimes = timeEach(calls, (i) => index.search(qs[i]!, k));
  return { search, searchSyncHrtime: latencyOf(syncTimes, 1, 'hrtime'), searchAsync: latencyOf(asyncTimes, 1, 'hrtime') };
}

/** The best of `batchReps` searchBatch calls over all queries, in seconds. */
function measureBatch(p: Params, index: FlatIndex, queries: Float32Array, n: number): number {
  const nq = queries.length / p.dim;
  progress(`N=${fmtInt(n)}: searchBatch (${nq} queries, best of ${p.batchReps})`);
  const { first, bestSeconds } = bestOf(p.batchReps, () => index.searchBatch(queries, p.k));
  if (first.length !== nq) throw new Error(`searchBatch returned ${first.length} results for ${nq} queries`);
  return bestSeconds;
}

/** Everything at one N, on the first n rows (fractions of the limits are filled in by {@link applyLimits}). */
export async function benchSize(
  p: Params,
  allData: Float32Array,
  queries: Float32Array,
  qs: readonly Float32Array[],
  n: number,
  generateSeconds: number,
): Promise<SizeResult> {
  const { dim } = p;
  const data = allData.subarray(0, n * dim);
  const nq = qs.length;
  progress(`N=${fmtInt(n)}: add`);
  const index = new FlatIndex({ dim, metric: p.metric });
  const addSeconds = timed(() => index.add(data)).seconds;
  const memory = { indexBytes: index.memoryUsage(), bytesPerVector: index.memoryUsage() / n, rssBytes: process.memoryUsage().rss };
  const single = await measureSingle(p, index, qs, n);
  const baseline = measureBaseline(p, data, qs, n);
  const topKOverlapWithBaseline = topKOverlap(index, baseline.results, qs, p.k);
  const best = measureBatch(p, index, queries, n);
  const qps = nq / best;
  const gflops = (2 * n * dim * nq) / best / 1e9;
  const baselineQps = baseline.queries / baseline.totalSeconds;
  return {
    n,
    generateSeconds,
    add: { seconds: addSeconds, vectorsPerSecond: n / addSeconds },
    memory,
    single: {
      ...single,
      baseline: baseline.latency,
      semvecOverBaseline: single.search.medianMs / baseline.latency.medianMs,
      asyncOverSync: single.searchAsync.medianMs / single.searchSyncHrtime.medianMs,
      ...judgeSingle(n, dim, single.search.medianMs, Infinity),
    },
    batch: {
      queries: nq,
      reps: p.batchReps,
      bestSeconds: best,
      qps,
      gflops,
      baselineQueries: baseline.queries,
      baselineQps,
      semvecOverBaselineQps: qps / baselineQps,
      ...judgeBatch(gflops, Infinity),
    },
    topKOverlapWithBaseline,
  };
}

// ---------------------------------------------------------------- targets ---

/** The single-query median against the memory bound N*dim*4 B / bandwidth. */
function judgeSingle(n: number, dim: number, medianMs: number, readGbps: number): SingleJudgement {
  const boundMs = ((n * dim * 4) / (readGbps * 1e9)) * 1e3;
  const medianOverBound = medianMs / boundMs;
  return { boundMs, medianOverBound, target: SINGLE_TARGET, pass: medianOverBound <= SINGLE_TARGET };
}

/** Batch GFLOP/s against the FMA peak. */
function judgeBatch(gflops: number, peakGflops: number): BatchJudgement {
  const fractionOfFmaPeak = gflops / peakGflops;
  return { fractionOfFmaPeak, target: BATCH_TARGET, pass: fractionOfFmaPeak >= BATCH_TARGET };
}

/** Fills in the fractions of the machine's limits, once the limits are final. */
export function applyLimits(r: SizeResult, dim: number, limits: Limits): void {
  Object.assign(r.single, judgeSingle(r.n, dim, r.single.search.medianMs, limits.readAllGbps));
  Object.assign(r.batch, judgeBatch(r.batch.gflops, limits.fmaAllGflops));
}
