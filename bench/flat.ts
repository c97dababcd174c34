/**
 * bench/flat.ts: how fast is semvec's exact FlatIndex?
 *
 * Run with `npm run bench:flat` (or `npx tsx bench/flat.ts --quick`).
 *
 * Method. Everything is measured in one run on one machine:
 * - Machine limits, measured with the addon's own probes: streaming-read
 *   bandwidth (probeReadGbps, ~1 GiB buffer, best of 3) and peak FMA
 *   throughput (probeFmaGflops, ~0.5 s), with 1 thread and with all hardware
 *   threads. They are probed before and after the index runs and the best
 *   of the two is used (on a shared VM they drift by tens of percent).
 * - Data: a seeded clustered gaussian mixture in `dim` dimensions (256 centres
 *   of unequal weight and spread, plus 5% isotropic background noise), one
 *   Float32Array (mulberry32 + polar Box-Muller); queries come from the same
 *   mixture with another seed. The
 *   largest N is generated once and smaller N use its first rows (the rows
 *   are i.i.d., so a prefix is a sample of the same distribution).
 * - Per N: time of FlatIndex.add, memory; single-query latency of search()
 *   with benchmark.js (cycling through the queries; minTime is lowered so each
 *   sample is one call, so stats.sample is a per-call distribution and its
 *   p99 is a real tail, not a p99 of averages); searchAsync and search timed
 *   directly over the same 50 queries; searchBatch over all queries (best of
 *   3, QPS and GFLOP/s = 2*N*dim*nq/time).
 * - Baseline: a plain TypeScript loop (inner product with every row, top-k by
 *   insertion), timed with process.hrtime over a handful of queries after a
 *   JIT warm-up; its batch QPS is the same loop run query after query. Its
 *   top-k is also compared with semvec's as a sanity check.
 * - Targets: single-query median <= 1.3x the memory bound N*dim*4 bytes /
 *   all-threads read bandwidth; batch GFLOP/s >= 50% of all-threads FMA peak.
 *   PASS/MISS is computed from the measured numbers.
 *
 * For metric 'cosine' the data and queries are normalised once up front, so
 * the baseline's inner product ranks exactly like cosine; for 'l2' the
 * baseline uses squared distance. GFLOP/s always counts 2 flops per element.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import Benchmark from 'benchmark';

import { FlatIndex, hardwareThreads, METRICS, normalizeInPlace } from '../src/index.js';
import type { Metric } from '../src/index.js';
import { native } from '../src/native.js';
import {
  fmt,
  fmtBytes,
  fmtInt,
  fmtMs,
  latencyOf,
  machineInfo,
  makeMixture,
  now,
  positiveInt,
  printMachine,
  progress,
  sample,
  table,
  timeEach,
  verdict,
  type Latency,
  type MixtureSpec,
} from './common.js';

// ---------------------------------------------------------------- options ---

const K = 10;
const CLUSTERS = 256;
const NOISE_FRACTION = 0.05;
const SEEDS = { mixture: 1, data: 2, queries: 3 } as const;
/** 256 isotropic clusters of radius 0.15-0.75, Zipf-like weights (exponent 0.7), 5% noise. */
const MIXTURE: MixtureSpec = {
  clusters: CLUSTERS,
  zipf: 0.7,
  radius: [0.15, 0.75],
  intrinsicDim: 0,
  isotropicShare: 1,
  noiseFraction: NOISE_FRACTION,
};
const SINGLE_TARGET = 1.3; // single-query median / memory bound, at most
const BATCH_TARGET = 0.5; // batch GFLOP/s / FMA peak, at least
const ASYNC_CALLS = 50;

interface Params {
  sizes: number[];
  dim: number;
  queries: number;
  metric: Metric;
  out: string;
  quick: boolean;
  k: number;
  benchMaxTime: number; // seconds, benchmark.js maxTime
  batchReps: number;
  probeBytes: number;
  probeRepeats: number;
  fmaSeconds: number;
}

function parseParams(): Params {
  const { values } = parseArgs({
    options: {
      n: { type: 'string' },
      dim: { type: 'string', default: '384' },
      queries: { type: 'string', default: '1000' },
      metric: { type: 'string', default: 'ip' },
      out: { type: 'string', default: 'bench/results/flat.json' },
      quick: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const quick = values.quick === true;
  const sizes = (values.n ?? (quick ? '20000' : '100000,1000000')).split(',').map((s) => positiveInt(s.trim(), 'n'));
  const metric = values.metric as Metric;
  if (!METRICS.includes(metric)) throw new Error(`--metric must be one of ${METRICS.join('|')}; received ${values.metric}`);
  return {
    sizes,
    dim: positiveInt(values.dim, 'dim'),
    queries: positiveInt(values.queries, 'queries'),
    metric,
    out: resolve(values.out),
    quick,
    k: K,
    benchMaxTime: quick ? 1 : 3,
    batchReps: quick ? 2 : 3,
    probeBytes: quick ? 256 * 2 ** 20 : 2 ** 30,
    probeRepeats: quick ? 2 : 3,
    fmaSeconds: quick ? 0.2 : 0.5,
  };
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

// ----------------------------------------------------------------- timing ---

/** benchmark.js run of `fn`; each sample is (nearly always) one call. */
function benchmarkLatency(name: string, fn: () => void, maxTime: number): Latency {
  const bench = new Benchmark(name, fn, { maxTime, minTime: 1e-4, minSamples: 10, initCount: 1 });
  bench.run();
  if (bench.error) throw bench.error;
  const sample: number[] = (bench.stats.sample as unknown[]).filter((x): x is number => typeof x === 'number');
  return latencyOf(sample, bench.count, 'benchmark.js');
}

async function timeEachAsync(calls: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t0 = now();
    await fn(i);
    times.push(now() - t0);
  }
  return times;
}

// ---------------------------------------------------------------- results ---

interface Limits {
  read1Gbps: number;
  readAllGbps: number;
  fma1Gflops: number;
  fmaAllGflops: number;
  threadsAll: number;
}

/** Per field, the better of two probes. */
function bestOf(a: Limits, b: Limits): Limits {
  return {
    read1Gbps: Math.max(a.read1Gbps, b.read1Gbps),
    readAllGbps: Math.max(a.readAllGbps, b.readAllGbps),
    fma1Gflops: Math.max(a.fma1Gflops, b.fma1Gflops),
    fmaAllGflops: Math.max(a.fmaAllGflops, b.fmaAllGflops),
    threadsAll: a.threadsAll,
  };
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

interface SizeResult {
  n: number;
  generateSeconds: number;
  add: { seconds: number; vectorsPerSecond: number };
  memory: { indexBytes: number; bytesPerVector: number; rssBytes: number };
  single: {
    search: Latency;
    searchSyncHrtime: Latency;
    searchAsync: Latency;
    baseline: Latency;
    semvecOverBaseline: number;
    asyncOverSync: number;
  } & SingleJudgement;
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

// ------------------------------------------------------------------ bench ---

function measureLimits(p: Params, when: string): Limits {
  const addon = native();
  const all = hardwareThreads();
  progress(`probing read bandwidth (${fmtBytes(p.probeBytes)}, best of ${p.probeRepeats}) and FMA peak (${when})`);
  return {
    read1Gbps: addon.probeReadGbps(1, p.probeBytes, p.probeRepeats),
    readAllGbps: addon.probeReadGbps(all, p.probeBytes, p.probeRepeats),
    fma1Gflops: addon.probeFmaGflops(1, p.fmaSeconds),
    fmaAllGflops: addon.probeFmaGflops(all, p.fmaSeconds),
    threadsAll: all,
  };
}

async function benchSize(
  p: Params,
  allData: Float32Array,
  queries: Float32Array,
  n: number,
  generateSeconds: number,
): Promise<SizeResult> {
  const { dim, k } = p;
  const data = allData.subarray(0, n * dim);
  const nq = queries.length / dim;
  const qs: Float32Array[] = Array.from({ length: nq }, (_, i) => queries.subarray(i * dim, (i + 1) * dim));
  const l2 = p.metric === 'l2';

  // Add.
  progress(`N=${fmtInt(n)}: add`);
  const index = new FlatIndex({ dim, metric: p.metric });
  let t0 = now();
  index.add(data);
  const addSeconds = now() - t0;
  const memory = {
    indexBytes: index.memoryUsage(),
    bytesPerVector: index.memoryUsage() / n,
    rssBytes: process.memoryUsage().rss,
  };

  // Single query, semvec: warm up (thread pool, page faults), then benchmark.js.
  progress(`N=${fmtInt(n)}: single-query latency (benchmark.js, maxTime ${p.benchMaxTime} s)`);
  for (let i = 0; i < 3; i++) index.search(qs[i % nq]!, k);
  let qi = 0;
  const search = benchmarkLatency(
    `search N=${n}`,
    () => {
      index.search(qs[qi]!, k);
      qi = qi + 1 === nq ? 0 : qi + 1;
    },
    p.benchMaxTime,
  );

  // Async against sync, same queries, timed the same way.
  progress(`N=${fmtInt(n)}: searchAsync vs search (${ASYNC_CALLS} calls each)`);
  const calls = Math.min(ASYNC_CALLS, nq);
  await index.searchAsync(qs[0]!, k);
  const asyncTimes = await timeEachAsync(calls, (i) => index.searchAsync(qs[i]!, k));
  const syncTimes = timeEach(calls, (i) => index.search(qs[i]!, k));
  const searchAsync = latencyOf(asyncTimes, 1, 'hrtime');
  const searchSyncHrtime = latencyOf(syncTimes, 1, 'hrtime');

  // Baseline: JIT warm-up on a slice, then a handful of full queries.
  const baselineQueries = Math.min(nq, Math.max(5, Math.min(50, Math.round(5e6 / n))));
  progress(`N=${fmtInt(n)}: TypeScript baseline (${baselineQueries} queries)`);
  const warmRows = Math.min(n, 20_000);
  for (let i = 0; i < 5; i++) tsSearch(data, warmRows, dim, qs[i % nq]!, k, l2);
  const baselineResults: TopK[] = [];
  const baselineTimes = timeEach(baselineQueries, (i) => {
    baselineResults.push(tsSearch(data, n, dim, qs[i]!, k, l2));
  });
  const baseline = latencyOf(baselineTimes, 1, 'hrtime');
  const baselineTotal = baselineTimes.reduce((a, b) => a + b, 0);

  // Sanity check: semvec's top-k against the baseline's (float rounding may
  // swap near-ties at the boundary, so this is an overlap, not an assertion).
  let overlap = 0;
  baselineResults.forEach((b, i) => {
    const got = new Set(Array.from(index.search(qs[i]!, k).ids));
    for (const id of b.ids) if (got.has(id)) overlap++;
  });
  const topKOverlap = overlap / (baselineResults.length * k);

  // Batch.
  progress(`N=${fmtInt(n)}: searchBatch (${nq} queries, best of ${p.batchReps})`);
  let best = Infinity;
  for (let r = 0; r < p.batchReps; r++) {
    t0 = now();
    const results = index.searchBatch(queries, k);
    const dt = now() - t0;
    if (results.length !== nq) throw new Error(`searchBatch returned ${results.length} results for ${nq} queries`);
    best = Math.min(best, dt);
  }
  const qps = nq / best;
  const gflops = (2 * n * dim * nq) / best / 1e9;
  const baselineQps = baselineQueries / baselineTotal;

  return {
    n,
    generateSeconds,
    add: { seconds: addSeconds, vectorsPerSecond: n / addSeconds },
    memory,
    single: {
      search,
      searchSyncHrtime,
      searchAsync,
      baseline,
      semvecOverBaseline: search.medianMs / baseline.medianMs,
      asyncOverSync: searchAsync.medianMs / searchSyncHrtime.medianMs,
      ...judgeSingle(n, dim, search.medianMs, Infinity),
    },
    batch: {
      queries: nq,
      reps: p.batchReps,
      bestSeconds: best,
      qps,
      gflops,
      baselineQueries,
      baselineQps,
      semvecOverBaselineQps: qps / baselineQps,
      ...judgeBatch(gflops, Infinity),
    },
    topKOverlapWithBaseline: topKOverlap,
  };
}

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
function applyLimits(r: SizeResult, dim: number, limits: Limits): void {
  Object.assign(r.single, judgeSingle(r.n, dim, r.single.search.medianMs, limits.readAllGbps));
  Object.assign(r.batch, judgeBatch(r.batch.gflops, limits.fmaAllGflops));
}

function printSize(r: SizeResult, p: Params, limits: Limits): void {
  const s = r.single;
  const b = r.batch;
  const lat = (name: string, l: Latency): string[] => [
    name,
    fmtMs(l.medianMs),
    fmtMs(l.p99Ms),
    `${fmtInt(l.samples)} x ${l.callsPerSample} (${l.method})`,
  ];
  console.log(`\nN = ${fmtInt(r.n)}  (dim ${p.dim}, ${p.metric}, k ${p.k}; data ${fmtBytes(r.n * p.dim * 4)})`);
  console.log(`  add             ${fmt(r.add.seconds, 3)} s   ${fmtInt(r.add.vectorsPerSecond)} vectors/s`);
  console.log(
    `  memory          index ${fmtBytes(r.memory.indexBytes)} (${fmtInt(r.memory.bytesPerVector)} B/vector), process rss ${fmtBytes(r.memory.rssBytes)}`,
  );
  console.log(`  top-${p.k} overlap with TS baseline: ${fmt(r.topKOverlapWithBaseline * 100, 1)}% (${b.baselineQueries} queries)`);
  console.log('\n  Single query');
  console.log(
    table(
      ['', 'median', 'p99', 'samples x calls'],
      [
        lat('semvec search', s.search),
        lat('semvec search', s.searchSyncHrtime),
        lat('semvec searchAsync', s.searchAsync),
        lat('TS loop baseline', s.baseline),
      ],
      '    ',
    ),
  );
  console.log(`    semvec / baseline (median)    ${fmt(s.semvecOverBaseline, 4)}  (${fmt(1 / s.semvecOverBaseline, 1)}x faster)`);
  console.log(`    searchAsync / search (hrtime) ${fmt(s.asyncOverSync, 3)}`);
  console.log(
    `    memory bound                  ${fmtMs(s.boundMs)}  (${fmtBytes(r.n * p.dim * 4)} at ${fmt(limits.readAllGbps, 1)} GB/s)`,
  );
  console.log(`    median / bound                ${fmt(s.medianOverBound, 2)}x   target <= ${s.target}x   ${verdict(s.pass)}`);
  console.log(`\n  Batch (${fmtInt(b.queries)} queries, best of ${b.reps})`);
  console.log(
    `    semvec searchBatch            ${fmt(b.bestSeconds, 3)} s   ${fmtInt(b.qps)} QPS   ${fmt(b.gflops, 1)} GFLOP/s`,
  );
  console.log(`    TS loop baseline              ${fmt(b.baselineQps, 2)} QPS  (${b.baselineQueries} queries, one after another)`);
  console.log(`    semvec / baseline (QPS)       ${fmt(b.semvecOverBaselineQps, 0)}x`);
  console.log(
    `    GFLOP/s / FMA peak            ${fmt(b.fractionOfFmaPeak * 100, 1)}%  (peak ${fmt(limits.fmaAllGflops, 1)} GFLOP/s)   target >= ${b.target * 100}%   ${verdict(b.pass)}`,
  );
}

function printSummary(results: SizeResult[]): void {
  console.log('\nSummary');
  console.log(
    table(
      ['N', 'add vec/s', 'median', 'p99', 'bound', 'med/bound', 'TS median', 'speedup', 'batch QPS', 'GFLOP/s', '% FMA peak', 'TS QPS'],
      results.map((r) => [
        fmtInt(r.n),
        fmtInt(r.add.vectorsPerSecond),
        fmtMs(r.single.search.medianMs),
        fmtMs(r.single.search.p99Ms),
        fmtMs(r.single.boundMs),
        `${fmt(r.single.medianOverBound, 2)}x ${verdict(r.single.pass)}`,
        fmtMs(r.single.baseline.medianMs),
        `${fmt(1 / r.single.semvecOverBaseline, 1)}x`,
        fmtInt(r.batch.qps),
        fmt(r.batch.gflops, 1),
        `${fmt(r.batch.fractionOfFmaPeak * 100, 1)}% ${verdict(r.batch.pass)}`,
        fmt(r.batch.baselineQps, 2),
      ]),
    ),
  );
  console.log(`  targets: single-query median <= ${SINGLE_TARGET}x memory bound; batch >= ${BATCH_TARGET * 100}% of FMA peak`);
}

async function main(): Promise<void> {
  const p = parseParams();
  const machine = machineInfo();

  console.log(`semvec FlatIndex benchmark${p.quick ? ' (quick)' : ''}`);
  printMachine(machine);
  console.log(
    `  params    N ${p.sizes.map(fmtInt).join(', ')}; dim ${p.dim}; metric ${p.metric}; k ${p.k}; ${fmtInt(p.queries)} queries; ` +
      `${CLUSTERS} clusters + ${NOISE_FRACTION * 100}% noise; seeds ${JSON.stringify(SEEDS)}`,
  );

  const limitsBefore = measureLimits(p, 'before');

  const maxN = Math.max(...p.sizes);
  progress(`generating ${fmtInt(maxN)} x ${p.dim} vectors + ${fmtInt(p.queries)} queries`);
  const t0 = now();
  const mixture = makeMixture(p.dim, SEEDS.mixture, MIXTURE);
  const data = sample(mixture, maxN, SEEDS.data);
  const queries = sample(mixture, p.queries, SEEDS.queries);
  if (p.metric === 'cosine') {
    normalizeInPlace(data, p.dim);
    normalizeInPlace(queries, p.dim);
  }
  const generateSeconds = now() - t0;

  const results: SizeResult[] = [];
  for (const n of [...p.sizes].sort((a, b) => a - b)) {
    results.push(await benchSize(p, data, queries, n, generateSeconds));
  }
  const limitsAfter = measureLimits(p, 'after');
  const limits = bestOf(limitsBefore, limitsAfter);
  for (const r of results) applyLimits(r, p.dim, limits);

  const limitRow = (name: string, pick: (l: Limits) => number): string[] => [
    name,
    fmt(pick(limitsBefore), 1),
    fmt(pick(limitsAfter), 1),
    fmt(pick(limits), 1),
  ];
  console.log(`\nMachine limits (probed before and after the index runs; best used; all = ${limits.threadsAll} threads)`);
  console.log(
    table(
      ['', 'before', 'after', 'used'],
      [
        limitRow('streaming read, 1 thread (GB/s)', (l) => l.read1Gbps),
        limitRow('streaming read, all threads (GB/s)', (l) => l.readAllGbps),
        limitRow('FMA peak, 1 thread (GFLOP/s)', (l) => l.fma1Gflops),
        limitRow('FMA peak, all threads (GFLOP/s)', (l) => l.fmaAllGflops),
      ],
    ),
  );
  console.log(`\nData: ${fmtInt(maxN)} x ${p.dim} generated in ${fmt(generateSeconds, 1)} s (smaller N use its first rows)`);
  for (const r of results) printSize(r, p, limits);
  printSummary(results);

  const json = {
    benchmark: 'semvec FlatIndex (bench/flat.ts)',
    machine,
    limits,
    limitsBefore,
    limitsAfter,
    params: { ...p, clusters: CLUSTERS, noiseFraction: NOISE_FRACTION, seeds: SEEDS, asyncCalls: ASYNC_CALLS },
    results,
  };
  mkdirSync(dirname(p.out), { recursive: true });
  writeFileSync(p.out, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`\nResults written to ${p.out}`);
}

await main();
