/**
 * bench/peers/exact.ts: exact search against the peers. Ingest, then single
 * and batch search, `reps` interleaved repetitions of each (order rotated per
 * repetition), medians reported; each peer's top 10 checked against semvec's.
 */
import type { ResultIds } from '../../src/index.js';
import { recallAtK } from '../../src/index.js';
import type { DataName } from './driver.js';
import { fmt, fmtInt, fmtMs, fmtSize, progress } from '../lib/format.js';
import type { Machine } from '../lib/machine.js';
import { renderBarSvg, type Report } from '../lib/report.js';
import { median, quantile, rotate } from '../lib/timing.js';
import type { Dataset, ExactIndex, PeerDriver } from './driver.js';
import { K, type Lib, type Params } from './settings.js';

interface Single {
  medianMs: number;
  p99Ms: number;
}

export interface ExactRow {
  lib: Lib;
  call: ExactIndex['call'];
  ingestSeconds: number | null;
  conversionSeconds: number | null;
  single: Single;
  batchSeconds: number;
  batchQps: number;
  recallVsSemvec: number;
  semvecSingleSpeedup: number;
  semvecBatchSpeedup: number;
}

export interface ExactResult {
  difficulty: DataName;
  n: number;
  rows: ExactRow[];
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
export const times = (peer: number, semvec: number, self: boolean): string => (self ? '-' : `${fmt(peer / semvec, 2)}x`);

interface ExactRun {
  index: ExactIndex;
  ingest: number[];
  conversion: number[];
  single: Single[];
  batch: number[];
  ids: ResultIds[];
}

/** Ingest, `reps` interleaved repetitions. */
async function ingestAll(p: Params, runs: readonly ExactRun[]): Promise<void> {
  for (let r = 0; r < p.reps; r++) {
    for (const run of rotate(runs, r)) {
      if (run.index.ingest === null) continue;
      progress(`ingest rep ${r + 1}/${p.reps}: ${run.index.lib}`);
      const t = await run.index.ingest();
      run.ingest.push(t.seconds);
      if (t.conversionSeconds !== null) run.conversion.push(t.conversionSeconds);
    }
  }
}

/** Single queries then one batch, `reps` interleaved repetitions; the first repetition's ids kept. */
async function searchAll(p: Params, runs: readonly ExactRun[]): Promise<void> {
  const singleCount = Math.min(p.single, p.queries);
  for (let r = 0; r < p.reps; r++) {
    for (const run of rotate(runs, r)) {
      progress(`exact rep ${r + 1}/${p.reps}: ${run.index.lib}: ${singleCount} single queries, batch of ${fmtInt(p.queries)}`);
      run.single.push(singleOf(await run.index.single(singleCount)));
      const b = await run.index.batch();
      run.batch.push(b.seconds);
      if (r === 0) run.ids = b.value;
    }
  }
}

/** Every driver's exact index on the set (semvec's first: its results are the reference). */
export async function runExact(p: Params, set: Dataset, drivers: readonly PeerDriver[]): Promise<ExactResult> {
  const runs: ExactRun[] = drivers.map((d) => ({ index: d.exact(set), ingest: [], conversion: [], single: [], batch: [], ids: [] }));
  await ingestAll(p, runs);
  await searchAll(p, runs);
  const truth = runs[0]!.ids;
  const semvecSingle = medianSingle(runs[0]!.single);
  const semvecBatch = median(runs[0]!.batch);
  const rows = runs.map((run): ExactRow => {
    const s = medianSingle(run.single);
    const b = median(run.batch);
    return {
      lib: run.index.lib,
      call: run.index.call,
      ingestSeconds: run.ingest.length > 0 ? median(run.ingest) : null,
      conversionSeconds: run.conversion.length > 0 ? median(run.conversion) : null,
      single: s,
      batchSeconds: b,
      batchQps: p.queries / b,
      recallVsSemvec: run.index.lib === 'semvec' ? 1 : recallAtK(run.ids, truth, K),
      semvecSingleSpeedup: s.medianMs / semvecSingle.medianMs,
      semvecBatchSpeedup: b / semvecBatch,
    };
  });
  return { difficulty: set.difficulty, n: set.n, rows };
}

export function printExact(report: Report, exact: ExactResult, p: Params): void {
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

/** Exact search QPS per library: single query (1 / median latency) and batch. */
export function renderExactSvg(exact: ExactResult, p: Params, machine: Machine): string {
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
