/**
 * bench/peers/approximate.ts: approximate search against the peers, per
 * difficulty. Each index in turn is built (one build: build time, memory,
 * save and load), swept over its setting (nprobe or ef): recall@10 against
 * the exact ground truth (ties at the 10th score counted; by id beside it),
 * batch QPS (median of `reps` repetitions, the settings' order rotated
 * between them) and single-query latency, searched with allow-lists where it
 * can, and freed before the next is built, so memory holds one index at a
 * time. Then, per recall level, the fastest setting of each index and
 * semvec's speed as a multiple of each peer's.
 */
import { dirname, relative } from 'node:path';

import { FlatIndex, recallAtK, suggestNlist } from '../../src/index.js';
import type { ResultIds } from '../../src/index.js';
import { fmt, fmtBytes, fmtInt, fmtMs, fmtQps, fmtRatio, fmtSize, progress } from '../lib/format.js';
import { collectGarbage, type Machine } from '../lib/machine.js';
import { renderRecallQpsSvg, type Report } from '../lib/report.js';
import { innerProductScore, recallWithTies } from '../lib/recall.js';
import { median, rotate, timed } from '../lib/timing.js';
import { dataNotes, groundTruth, type ApproxBuild, type ApproxIndex, type DataName, type Dataset, type Footprint, type PeerDriver, type SettingValue } from './driver.js';
import { times, type ExactResult } from './exact.js';
import { HNSW_EF_CONSTRUCTION, HNSW_M, K, RECALL_LEVELS, type Lib, type Params } from './settings.js';

interface ApproxRow {
  value: SettingValue; // nprobe or ef (with more, a string: '256 nprobe 64')
  /** recall@10 with ties at the 10th score counted (bench/lib/recall.ts); the levels and targets use it. */
  recall: number;
  /** recall@10 by id, for reference. */
  recallIds: number;
  batchQps: number;
  singleMedianMs: number;
  singleQps: number;
}

export interface ApproxLib {
  label: string;
  lib: Lib;
  method: string;
  setting: 'nprobe' | 'ef';
  buildSeconds: number;
  buildDetail: Record<string, number>;
  footprint: Footprint;
  rows: ApproxRow[];
}

/** The fastest setting of one index reaching a recall level. */
export type Pick = (ApproxRow & { setting: string }) | null;

interface LevelRow {
  level: number;
  /** Per label: the highest batch QPS among the settings reaching the level. */
  batch: Record<string, Pick>;
  /** Per label: the lowest single-query median among the settings reaching the level. */
  single: Record<string, Pick>;
}

/** A filtered search (an allow-list of every 1/selectivity-th id) against the exact filtered search. */
export interface FilteredRow {
  label: string;
  selectivity: number;
  value: number; // ef
  recall: number;
  batchQps: number;
  exactBatchQps: number;
}

export interface ApproxRun {
  difficulty: DataName;
  n: number;
  nlist: number;
  libs: ApproxLib[];
  levels: LevelRow[];
  filtered: FilteredRow[];
}

/** Selectivities of the filtered comparison, and the settings each filtering index is measured at. */
export const FILTER_SELECTIVITIES = [0.01, 0.1] as const;
const FILTER_EFS = [64, 128] as const;

/** The exact filtered search each allow-list is measured against: its allow-list, top k and batch QPS. */
interface FilterBaseline {
  selectivity: number;
  allowIds: Float64Array;
  truth: ResultIds[];
  exactBatchQps: number;
}

/** Allow-lists of every 1/selectivity-th id, each searched exactly by FlatIndex (batch, median of 3). */
function filterBaselines(set: Dataset): FilterBaseline[] {
  const flat = new FlatIndex({ dim: set.dim, metric: 'ip' });
  flat.add(set.data);
  const out = FILTER_SELECTIVITIES.map((selectivity) => {
    const every = Math.round(1 / selectivity);
    const allowIds = Float64Array.from({ length: Math.ceil(set.n / every) }, (_, i) => i * every);
    progress(`${set.difficulty}: exact filtered search at ${selectivity * 100}%`);
    const runs = [0, 1, 2].map(() => timed(() => flat.searchBatch(set.queries, K, { allowIds })));
    return { selectivity, allowIds, truth: runs[0]!.value, exactBatchQps: set.queries.length / set.dim / median(runs.map((r) => r.seconds)) };
  });
  flat.close();
  return out;
}

/** An index with an allow-list search, at each baseline's selectivity and each of FILTER_EFS. */
function measureFiltered(index: ApproxIndex<SettingValue>, set: Dataset, baselines: readonly FilterBaseline[]): FilteredRow[] {
  const filtered = index.filtered;
  if (filtered === undefined) return [];
  progress(`${set.difficulty}: ${index.label}: filtered search`);
  return baselines.flatMap(({ selectivity, allowIds, truth, exactBatchQps }) =>
    FILTER_EFS.map((value) => {
      const runs = [0, 1, 2].map(() => filtered(allowIds, value));
      const batchQps = set.queries.length / set.dim / median(runs.map((r) => r.seconds));
      const recall = recallWithTies(runs[0]!.value, truth, K, innerProductScore(set.data, set.queries, set.dim));
      return { label: index.label, selectivity, value, recall, batchQps, exactBatchQps };
    }),
  );
}

/** One index's sweep: recall on repetition 0, batch QPS as the median of `reps` repetitions (the settings' order rotated), then single queries. */
async function measureSweep(p: Params, set: Dataset, index: ApproxIndex<SettingValue>, truth: ResultIds[]): Promise<ApproxLib> {
  const batch = index.values.map(() => [] as number[]);
  const recall = index.values.map(() => 0);
  const recallIds = index.values.map(() => 0);
  const score = innerProductScore(set.data, set.queries, set.dim);
  const order = index.values.map((_, j) => j);
  for (let r = 0; r < p.reps; r++) {
    progress(`${set.difficulty}: ${index.label}: rep ${r + 1}/${p.reps}`);
    for (const j of rotate(order, r)) {
      const b = await index.batch(index.values[j]!);
      batch[j]!.push(b.seconds);
      if (r === 0) {
        recall[j] = recallWithTies(b.value, truth, K, score);
        recallIds[j] = recallAtK(b.value, truth, K);
      }
    }
  }
  const singleCount = Math.min(p.single, p.queries);
  progress(`${set.difficulty}: ${index.label}: single-query latency (${singleCount} per setting)`);
  const rows: ApproxRow[] = [];
  for (const [j, value] of index.values.entries()) {
    const singleMedianMs = median(await index.single(value, singleCount)) * 1e3;
    rows.push({ value, recall: recall[j]!, recallIds: recallIds[j]!, batchQps: p.queries / median(batch[j]!), singleMedianMs, singleQps: 1e3 / singleMedianMs });
  }
  const { label, lib, method, setting, buildSeconds, buildDetail, footprint } = index;
  return { label, lib, method, setting, buildSeconds, buildDetail, footprint, rows };
}

/** The fastest setting reaching the recall level: highest batch QPS, or lowest single-query median. */
export function fastest(a: ApproxLib, level: number, by: 'batch' | 'single'): Pick {
  const ok = a.rows.filter((row) => row.recall >= level);
  if (ok.length === 0) return null;
  const best = ok.reduce((x, y) => ((by === 'batch' ? y.batchQps > x.batchQps : y.singleMedianMs < x.singleMedianMs) ? y : x));
  return { ...best, setting: `${a.setting} ${best.value}` };
}

/** One index: built, swept, searched with allow-lists, then freed. */
async function buildMeasureFree(p: Params, set: Dataset, build: ApproxBuild, truth: ResultIds[], baselines: readonly FilterBaseline[]): Promise<{ lib: ApproxLib; filtered: FilteredRow[] }> {
  const index = await build.build();
  const lib = await measureSweep(p, set, index, truth);
  const filtered = measureFiltered(index, set, baselines);
  await index.free?.();
  return { lib, filtered };
}

/** Ground truth and the exact filtered searches, then each index in turn: built, swept, searched with allow-lists and freed. */
export async function runApproximate(p: Params, set: Dataset, drivers: readonly PeerDriver[], tmp: string): Promise<ApproxRun> {
  const nlist = suggestNlist(set.n);
  progress(`${set.difficulty}: ground truth`);
  const truth = groundTruth(set);
  const baselines = filterBaselines(set);
  for (const d of drivers) await d.prepare?.(set);
  const libs: ApproxLib[] = [];
  const filtered: FilteredRow[] = [];
  for (const d of drivers) {
    for (const build of d.approximate(set, { nlist, tmp })) {
      if (!p.indexes.includes(build.label)) continue;
      const measured = await buildMeasureFree(p, set, build, truth, baselines);
      libs.push(measured.lib);
      filtered.push(...measured.filtered);
      collectGarbage(); // the index is out of scope here: what free() left goes now
    }
  }
  const levels = RECALL_LEVELS.map((level) => ({
    level,
    batch: Object.fromEntries(libs.map((a) => [a.label, fastest(a, level, 'batch')])),
    single: Object.fromEntries(libs.map((a) => [a.label, fastest(a, level, 'single')])),
  }));
  return { difficulty: set.difficulty, n: set.n, nlist, libs, levels, filtered };
}

// --------------------------------------------------------------- printing ---

/** Build, memory, save and load of every index, then each index's sweep. */
function printBuilds(report: Report, run: ApproxRun): void {
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
      [a.setting, 'recall@10', 'by id', 'batch QPS', 'single median', 'single QPS'],
      a.rows.map((row) => [String(row.value), fmt(row.recall, 4), fmt(row.recallIds, 4), fmtInt(row.batchQps), fmtMs(row.singleMedianMs), fmtQps(row.singleQps)]),
      { indent: '    ' },
    );
  }
}

type Picked = NonNullable<Pick>;

/** Per recall level, each index's fastest setting, and each semvec configuration against each peer. */
function printLevels(report: Report, run: ApproxRun, by: 'batch' | 'single', title: string, cell: (x: Picked) => string, ratio: (s: Picked, peer: Picked) => number): void {
  const semvecs = run.libs.filter((a) => a.lib === 'semvec');
  const peers = run.libs.filter((a) => a.lib !== 'semvec');
  const pairs = semvecs.flatMap((s) => peers.map((peer) => [s, peer] as const));
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
}

export function printApproximate(report: Report, run: ApproxRun, p: Params, svgFile: string): void {
  printBuilds(report, run);
  printLevels(report, run, 'batch', 'batch QPS; x = semvec QPS / peer QPS', (x) => fmtInt(x.batchQps), (s, peer) => s.batchQps / peer.batchQps);
  printLevels(
    report,
    run,
    'single',
    'single-query median; x = peer latency / semvec latency',
    (x) => fmtMs(x.singleMedianMs),
    (s, peer) => peer.singleMedianMs / s.singleMedianMs,
  );
  if (run.filtered.length > 0) {
    report.heading(`Filtered search, ${run.difficulty} data: allow-lists of every 100th and every 10th id (batch of all queries)`);
    report.table(
      ['index', 'selectivity', 'ef', 'recall@10', 'batch QPS', 'exact filtered QPS (FlatIndex)', 'x exact'],
      run.filtered.map((f) => [f.label, `${f.selectivity * 100}%`, String(f.value), fmt(f.recall, 4), fmtInt(f.batchQps), fmtInt(f.exactBatchQps), fmtRatio(f.batchQps / f.exactBatchQps)]),
    );
  }
  report.markdown(`![recall@10 against single-query QPS, ${run.difficulty} data](${relative(dirname(p.md), svgFile)})`);
}

/** recall@10 against single-query QPS, one curve per index (as ann-benchmarks plots). */
export function renderApproxSvg(run: ApproxRun, p: Params, machine: Machine, exact: ExactResult | null): string {
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
      ...dataNotes(run.difficulty),
    ],
  });
}
