/**
 * `semvec bench`: exact (FlatIndex) against approximate (IVFIndex) search
 * on seeded synthetic clustered vectors, no model needed. Per nprobe:
 * recall@k against the exact results, single-query QPS and the speed-up
 * over exact search. A table, and optionally JSON and an SVG chart.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';

import type { SearchResult } from '../../vector-index.js';
import type { Metric } from '../../vector-index.js';
import type { IVFEncoding } from '../../ivf-index.js';
import { renderRecallQpsSvg } from '../chart.js';
import { CliError, fmt, fmtInt, fmtRate, fmtSeconds, painter, phase, table, usage, type Style } from '../output.js';
import { defaultClusters, makeMixture, sampleMixture } from '../synthetic.js';
import { type Command, Option } from 'commander';
import { nonEmpty, nonNegativeInt, positiveInt, positiveIntList, styleOf } from '../options.js';

export interface BenchCommandOptions {
  n: number;
  dim: number;
  /** Default suggestNlist(n). */
  nlist?: number;
  /** Default 1, 2, 4, ... up to nlist (at most 256). */
  nprobe?: number[];
  encoding: IVFEncoding;
  queries: number;
  metric: Metric;
  seed: number;
  k: number;
  /** Default n / 100 (2 to 1,000). */
  clusters?: number;
  out?: string;
  svg?: string;
  json: boolean;
}

export interface BenchRow {
  nprobe: number;
  recall: number;
  qps: number;
  medianMs: number;
  speedup: number;
}

export interface BenchReport {
  benchmark: 'semvec bench';
  params: {
    n: number;
    dim: number;
    metric: Metric;
    k: number;
    queries: number;
    nlist: number;
    nprobes: number[];
    encoding: IVFEncoding;
    clusters: number;
    seed: number;
  };
  machine: { simd: string; threads: number; cpu: string; node: string };
  seconds: { generate: number; flatAdd: number; ivfTrain: number; ivfAdd: number };
  flat: { qps: number; medianMs: number };
  rows: BenchRow[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function defaultNprobes(nlist: number): number[] {
  const out: number[] = [];
  for (let p = 1; p <= Math.min(nlist, 256); p *= 2) out.push(p);
  return out;
}

function writeOut(path: string, text: string): string {
  const abs = resolve(path);
  try {
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, text);
  } catch (err) {
    throw new CliError(`cannot write ${path}: ${(err as Error).message}`);
  }
  return abs;
}

/** Per-query latencies (ms) and results of one search() call per query, after a short warm-up. */
function timeQueries(qs: readonly Float32Array[], search: (q: Float32Array) => SearchResult): { results: SearchResult[]; ms: number[]; seconds: number } {
  for (let i = 0; i < Math.min(20, qs.length); i++) search(qs[i]!); // warm-up
  const results: SearchResult[] = [];
  const ms: number[] = [];
  const t0 = performance.now();
  for (const q of qs) {
    const t = performance.now();
    results.push(search(q));
    ms.push(performance.now() - t);
  }
  return { results, ms, seconds: (performance.now() - t0) / 1000 };
}

function time<T>(fn: () => T): [T, number] {
  const t = performance.now();
  const v = fn();
  return [v, (performance.now() - t) / 1000];
}

/** The options checked against each other, with their defaults filled in. */
async function plan(o: BenchCommandOptions): Promise<{ nlist: number; nprobes: number[]; clusters: number }> {
  const { suggestNlist } = await import('../../index.js');
  const nlist = o.nlist ?? suggestNlist(o.n);
  if (nlist > o.n) throw usage(`--nlist ${nlist} is larger than --n ${o.n}: training needs at least nlist vectors`);
  const nprobes = o.nprobe ?? defaultNprobes(nlist);
  const bad = nprobes.find((p) => p > nlist);
  if (bad !== undefined) throw usage(`--nprobe ${bad} is larger than nlist (${nlist})`);
  return { nlist, nprobes, clusters: Math.min(o.clusters ?? defaultClusters(o.n), o.n) };
}

/** Generates the data, measures exact search and IVF at every nprobe. */
async function measure(o: BenchCommandOptions, style: Style): Promise<BenchReport> {
  const { FlatIndex, IVFIndex, recallAtK, normalizeInPlace, simdLevel, getThreads } = await import('../../index.js');
  const { n, dim, k, metric, queries: nq } = o;
  const { nlist, nprobes, clusters } = await plan(o);

  phase(style, `generating ${fmtInt(n)} x ${dim} vectors in ${fmtInt(clusters)} clusters and ${fmtInt(nq)} queries (seed ${o.seed})`);
  const [[data, queries], generateSeconds] = time(() => {
    const mixture = makeMixture(dim, clusters, o.seed);
    const x = sampleMixture(mixture, n, o.seed + 1);
    const q = sampleMixture(mixture, nq, o.seed + 2);
    if (metric === 'cosine') {
      normalizeInPlace(x, dim);
      normalizeInPlace(q, dim);
    }
    return [x, q] as const;
  });
  const qs = Array.from({ length: nq }, (_, i) => queries.subarray(i * dim, (i + 1) * dim));

  phase(style, 'exact search (FlatIndex): add, then one search() per query');
  const flat = new FlatIndex({ dim, metric });
  const [, flatAdd] = time(() => flat.add(data));
  const exact = timeQueries(qs, (q) => flat.search(q, k));
  const flatQps = nq / exact.seconds;

  phase(style, `IVF: train (nlist ${fmtInt(nlist)}, ${o.encoding}) and add`);
  const ivf = new IVFIndex({ dim, metric, nlist, encoding: o.encoding });
  const [, ivfTrain] = time(() => ivf.train(data, { seed: o.seed }));
  const [, ivfAdd] = time(() => ivf.add(data));

  const rows: BenchRow[] = [];
  for (const nprobe of nprobes) {
    phase(style, `IVF search, nprobe ${nprobe}`);
    const r = timeQueries(qs, (q) => ivf.search(q, k, { nprobe }));
    const qps = nq / r.seconds;
    rows.push({ nprobe, recall: recallAtK(r.results, exact.results, k), qps, medianMs: median(r.ms), speedup: qps / flatQps });
  }
  return {
    benchmark: 'semvec bench',
    params: { n, dim, metric, k, queries: nq, nlist, nprobes, encoding: o.encoding, clusters, seed: o.seed },
    machine: { simd: simdLevel(), threads: getThreads(), cpu: cpus()[0]?.model.trim() ?? 'unknown', node: process.version },
    seconds: { generate: generateSeconds, flatAdd, ivfTrain, ivfAdd },
    flat: { qps: flatQps, medianMs: median(exact.ms) },
    rows,
  };
}

/** Writes --out and --svg; returns a line per file written. */
function writeFiles(o: BenchCommandOptions, report: BenchReport): string[] {
  const { n, dim, metric, k, queries: nq, nlist, seed } = report.params;
  const written: string[] = [];
  if (o.out) written.push(`results: ${writeOut(o.out, `${JSON.stringify(report, null, 2)}\n`)}`);
  if (o.svg) {
    const svg = renderRecallQpsSvg({
      title: `semvec IVF vs exact search: recall@${k} against single-query QPS`,
      subtitle: `N = ${fmtInt(n)}, dim ${dim}, ${metric}, ${fmtInt(nq)} queries, nlist ${fmtInt(nlist)}; synthetic clustered data (seed ${seed}); ${report.machine.simd}, ${report.machine.threads} threads`,
      k,
      series: [{ name: `IVF ${o.encoding}, nlist ${fmtInt(nlist)}`, points: report.rows.map((r) => ({ recall: r.recall, qps: r.qps, label: String(r.nprobe) })) }],
      baselines: [{ name: 'exact (FlatIndex)', qps: report.flat.qps }],
      notes: ['labels: nprobe', 'up and right is better'],
    });
    written.push(`chart: ${writeOut(o.svg, svg)}`);
  }
  return written;
}

/** The report as text: a header, the table per nprobe, and the fastest nprobe reaching each recall. */
function formatReport(report: BenchReport, style: Style): string[] {
  const { n, dim, metric, k, queries: nq, nlist, clusters, encoding } = report.params;
  const { rows } = report;
  const p = painter(style);
  const out: string[] = [
    `${p.bold('semvec bench')}: N = ${fmtInt(n)} x ${dim} (${metric}), ${fmtInt(clusters)} clusters, ${fmtInt(nq)} queries, k = ${k}, nlist = ${fmtInt(nlist)} (${encoding}); ${report.machine.simd}, ${report.machine.threads} threads`,
    `build: exact add ${fmtSeconds(report.seconds.flatAdd)}; IVF train ${fmtSeconds(report.seconds.ivfTrain)} + add ${fmtSeconds(report.seconds.ivfAdd)}`,
    '',
    table(
      ['nprobe', `recall@${k}`, 'QPS', 'median ms', 'speed-up'],
      [
        ...rows.map((r) => [String(r.nprobe), fmt(r.recall, 3), fmtRate(r.qps), fmt(r.medianMs, 3), `${fmt(r.speedup, 1)}x`]),
        ['exact', '1.000', fmtRate(report.flat.qps), fmt(report.flat.medianMs, 3), '1.0x'],
      ],
      ['right', 'right', 'right', 'right', 'right'],
      p.bold,
    ),
  ];
  for (const level of [0.9, 0.95, 0.99]) {
    const ok = rows.filter((r) => r.recall >= level);
    const best = ok.length > 0 ? ok.reduce((a, b) => (b.qps > a.qps ? b : a)) : undefined;
    out.push(
      best
        ? `recall >= ${level.toFixed(2)}: nprobe ${best.nprobe}, ${fmtRate(best.qps)} QPS, ${fmt(best.speedup, 1)}x exact`
        : `recall >= ${level.toFixed(2)}: not reached (best ${fmt(Math.max(...rows.map((r) => r.recall)), 3)})`,
    );
  }
  return out;
}

export async function runBench(o: BenchCommandOptions, style: Style): Promise<void> {
  const report = await measure(o, style);
  const written = writeFiles(o, report);
  if (o.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const out = formatReport(report, style);
  if (written.length > 0) out.push('', ...written);
  process.stdout.write(`${out.join('\n')}\n`);
}

/** Registers `semvec bench`. */
export function register(program: Command): void {
  program
    .command('bench')
    .description('Benchmark exact (FlatIndex) against approximate (IVFIndex) search on synthetic clustered vectors: recall, QPS, speed-up per nprobe.')
    .option('--n <n>', 'vectors', positiveInt, 100_000)
    .option('--dim <dim>', 'dimensions', positiveInt, 384)
    .option('--nlist <n>', 'IVF lists (default: suggestNlist(n), about 4 * sqrt(n))', positiveInt)
    .option('--nprobe <list>', 'lists probed, comma-separated (default: 1,2,4,... up to nlist, at most 256)', positiveIntList)
    .addOption(new Option('--encoding <encoding>', "IVF list encoding: f32, or sq8 (8-bit codes, re-ranked)").choices(['f32', 'sq8']).default('f32'))
    .option('--queries <n>', 'queries (drawn from the same mixture, not copies of stored vectors)', positiveInt, 200)
    .addOption(new Option('--metric <metric>', 'distance').choices(['l2', 'ip', 'cosine']).default('l2'))
    .option('-k, --top-k <k>', 'k of recall@k', positiveInt, 10)
    .option('--clusters <c>', 'gaussian clusters in the data (default: n / 100, from 2 to 1,000)', positiveInt)
    .option('--seed <seed>', 'seed of the data, queries and k-means', nonNegativeInt, 1)
    .option('--out <file>', 'write the results as JSON', nonEmpty)
    .option('--svg <file>', 'write a recall-vs-QPS chart', nonEmpty)
    .option('--json', 'print JSON instead of a table')
    .addHelpText(
      'after',
      `
QPS: single-query search() calls, one after another (each uses every thread); speed-up: over exact search.

Example:
  $ semvec bench --n 1000000 --dim 384 --nprobe 1,4,16,64 --out ivf.json --svg ivf.svg`,
    )
    .action(async (opts: Record<string, unknown>, cmd: Command) => {
      await runBench(
        {
          n: opts.n as number,
          dim: opts.dim as number,
          nlist: opts.nlist as number | undefined,
          nprobe: opts.nprobe as number[] | undefined,
          encoding: opts.encoding as 'f32' | 'sq8',
          queries: opts.queries as number,
          metric: opts.metric as 'l2' | 'ip' | 'cosine',
          k: opts.topK as number,
          clusters: opts.clusters as number | undefined,
          seed: opts.seed as number,
          out: opts.out as string | undefined,
          svg: opts.svg as string | undefined,
          json: opts.json === true,
        },
        styleOf(cmd),
      );
    });
}
