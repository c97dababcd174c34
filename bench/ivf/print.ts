/** bench/ivf/print.ts: bench:ivf's tables (per run, summary) and its recall-vs-QPS chart. */
import { IVF_ENCODINGS } from '../../src/index.js';
import { DIFFICULTY_NOTES } from '../lib/data.js';
import { fmt, fmtBytes, fmtInt, fmtMs, fmtQps, fmtSize, table } from '../lib/format.js';
import type { Machine } from '../lib/machine.js';
import { renderRecallQpsSvg } from '../lib/report.js';
import { median } from '../lib/timing.js';
import { BATCH_REPS, runLabel, type AtRecall, type Params, type RunResult } from './measure.js';
import { difficultyCheck } from './targets.js';

function fmtAtRecall(a: AtRecall): string {
  if (!a.reached) return `not reached (best recall ${fmt(a.bestRecall, 3)})`;
  return (
    `nprobe ${a.nprobe} (recall ${fmt(a.recall, 3)}): ${fmtQps(a.singleQps)} QPS single (${fmt(a.singleSpeedup, 1)}x flat), ` +
    `${fmtQps(a.batchQps)} QPS batch (${fmt(a.batchSpeedup, 1)}x flat)`
  );
}

/** The run's title line, the flat index, the IVF build, memory and lists. */
function printBuild(r: RunResult, p: Params): void {
  const f = r.flat;
  const t = r.ivf.train;
  const ends = t.iterationEndSeconds;
  const perIteration = ends.slice(1).map((e, i) => e - ends[i]!);
  const nlistNote = p.nlist === null ? ' = suggestNlist(N)' : '';
  console.log(
    `\n${runLabel(r.difficulty, r.n, r.encoding)}  (dim ${p.dim}, ${p.metric}, k ${p.k}; data ${fmtBytes(r.n * p.dim * 4)}; nlist ${fmtInt(r.nlist)}${nlistNote}` +
      `${r.rerank === null ? '' : `; rerank ${r.rerank}`})`,
  );
  console.log(`  flat   add ${fmt(f.addSeconds, 2)} s; ground truth (searchBatch, ${fmtInt(p.queries)} queries) ${fmt(f.groundTruthSeconds, 2)} s`);
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
  console.log(`  memory ivf ${fmtBytes(r.ivf.memoryBytes)}, flat ${fmtBytes(f.memoryBytes)}; process rss ${fmtBytes(r.rssBytes)}`);
  console.log(`  lists  min ${fmtInt(l.min)}, median ${fmtInt(l.median)}, max ${fmtInt(l.max)}, mean ${fmt(l.mean, 1)}; ${fmtInt(l.empty)} empty`);
}

/** One row per nprobe, then the flat index. */
function printSweep(r: RunResult, p: Params): void {
  /** Vectors read per query, as GB/s at a single-query median latency. */
  const gbps = (bytes: number, medianMs: number): number => bytes / (medianMs * 1e-3) / 1e9;
  // A probe reads the codes' bits per component (f32: 32); centroids are floats.
  const listBytes = (p.dim * (IVF_ENCODINGS.find((e) => e.name === r.encoding)?.bitsPerDim ?? 32)) / 8;
  const f = r.flat;
  const rows = r.ivf.rows.map((row) => [
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
  ]);
  const flatRow = [
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
  ];
  console.log('');
  console.log(
    table(['nprobe', 'recall@10', 'scanned/query', 'scan GB/s', 'median', 'p99', 'single QPS', 'vs flat', 'batch QPS', 'vs flat'], [...rows, flatRow]),
  );
  console.log(
    `  (single: ${r.ivf.rows[0]?.single.samples ?? 0} search() calls per nprobe, flat ${f.single.samples}; batch: ${fmtInt(p.queries)} queries, best of ${BATCH_REPS};`,
  );
  console.log(
    `   scan GB/s: (scanned * dim * ${r.encoding === 'f32' ? '4 bytes' : `${IVF_ENCODINGS.find((e) => e.name === r.encoding)?.bitsPerDim ?? 32} bits (${r.encoding} codes)`} + nlist centroids * dim * 4 bytes) / single-query median)`,
  );
}

export function printRun(r: RunResult, p: Params): void {
  printBuild(r, p);
  printSweep(r, p);
  console.log('');
  for (const a of r.atRecall) console.log(`  recall >= ${fmt(a.level, 2)}   ${fmtAtRecall(a)}`);
  const check = difficultyCheck(r);
  if (check !== null) console.log(check);
}

export function printSummary(runs: readonly RunResult[]): void {
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

/** The recall-vs-QPS chart of every run, drawn by the chart `semvec bench` uses. */
export function renderSvg(runs: readonly RunResult[], p: Params, machine: Machine): string {
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
    notes: [...DIFFICULTY_NOTES.hard, ...DIFFICULTY_NOTES.easy, '', 'labels: nprobe'],
  });
}
