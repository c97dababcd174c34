/**
 * bench/peers.ts (npm run bench:peers): semvec against the libraries users
 * would pick instead: FAISS (Debian's python3-faiss, in a subprocess),
 * usearch and hnswlib-node, one driver each under bench/peers/. Exact
 * search and ingest, approximate search (recall against speed, memory, save
 * and load) and k-means, every ratio measured in this run. FAISS is set up
 * once with `sh bench/setup-peers.sh`; without it the others run alone.
 * Method, options and seeds: bench/README.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';

import { BenchError, option, parseCommand, runMain } from './lib/args.js';
import { DIFFICULTIES, SEEDS } from './lib/data.js';
import { REALTEXT_CACHE } from './lib/realtext.js';
import { fmtInt } from './lib/format.js';
import { collectGarbage, machineInfo, machineLines, type Machine } from './lib/machine.js';
import { Report, writeJson, writeText } from './lib/report.js';
import { printApproximate, renderApproxSvg, runApproximate, type ApproxRun } from './peers/approximate.js';
import { DATA_NAMES, makeDataset, type Dataset, type PeerDriver } from './peers/driver.js';
import { printExact, renderExactSvg, runExact, type ExactResult } from './peers/exact.js';
import { PYTHON, SETUP_COMMAND, faissAvailable, startFaiss, type FaissDriver } from './peers/faiss.js';
import { hnswlibDriver } from './peers/hnswlib.js';
import { printKMeans, runKMeans, type KMeansResult } from './peers/kmeans.js';
import { SEMVEC_IVF, semvecDriver } from './peers/semvec.js';
import { APPROX_INDEXES, EFS, HNSW_EF_CONSTRUCTION, HNSW_M, K, KMEANS, RECALL_LEVELS, TARGETS, type ApproxIndexName, type Params } from './peers/settings.js';
import { approximateTargets, exactTargets, graphTargets, printTargets, type TargetResult } from './peers/targets.js';
import { usearchDriver } from './peers/usearch.js';

const TITLE = 'semvec against other libraries (bench/peers.ts)';

const COMMAND = {
  script: 'bench/peers.ts',
  npm: 'bench:peers',
  summary: 'semvec against FAISS, usearch and hnswlib-node: exact search, ingest, approximate search and k-means',
  options: {
    n: option.int('vectors indexed by every library', { full: '100000', quick: '20000' }),
    dim: option.int('dimensions', '384'),
    queries: option.int('queries, from the same mixture with another seed', '1000'),
    single: option.int('single-query calls per library and setting', '100'),
    reps: option.int('interleaved repetitions', '3'),
    difficulty: option.choices('data sets of the approximate comparison (realtext: text-like vectors, built once by bench/lib/realtext.py)', DATA_NAMES, 'hard,easy,realtext'),
    indexes: option.choices('approximate indexes to build and sweep (semvec IVF, the reference of the build ratios, always runs)', APPROX_INDEXES, APPROX_INDEXES.join(',')),
    'no-approximate': option.flag('skip the approximate comparison'),
    'no-kmeans': option.flag('skip the k-means comparison'),
    'kmeans-k': option.int('k of the k-means comparison', { full: '1000', quick: '200' }),
    'kmeans-n': option.int('rows of the k-means comparison', { full: '100000', quick: '20000' }),
    out: option.path('JSON results', 'bench/results/peers.json'),
    md: option.path('Markdown report', 'bench/results/peers.md'),
    'svg-dir': option.path('directory of the SVG charts', 'bench/results', { arg: 'DIR' }),
  },
  notes: [`FAISS and scikit-learn, once: ${SETUP_COMMAND}`],
};

function parseParams(): Params {
  const v = parseCommand(COMMAND);
  if (v['kmeans-k'] > v['kmeans-n']) throw new BenchError(`--kmeans-k ${v['kmeans-k']} is larger than --kmeans-n ${v['kmeans-n']}`);
  return {
    n: v.n,
    dim: v.dim,
    queries: v.queries,
    single: v.single,
    reps: v.reps,
    difficulties: v.difficulty,
    indexes: [...new Set<ApproxIndexName>(['semvec IVF', ...v.indexes])],
    approximate: !v['no-approximate'],
    kmeans: !v['no-kmeans'],
    kmeansK: v['kmeans-k'],
    kmeansN: v['kmeans-n'],
    out: v.out,
    md: v.md,
    svgDir: v['svg-dir'],
    quick: v.quick,
  };
}

interface Results {
  exact: ExactResult;
  approximate: ApproxRun[];
  kmeans: KMeansResult | null;
  targets: TargetResult[];
}

const svgFile = (p: Params, name: string): string => join(p.svgDir, `peers-${name}.svg`);

/** Exact search and k-means on the hard data, approximate search per difficulty (one data set in memory at a time), then the targets. */
async function runAll(p: Params, report: Report, drivers: readonly PeerDriver[], tmp: string): Promise<Results> {
  const writeFiles = drivers.some((d) => d.runs === 'subprocess');
  const difficulties = p.approximate ? p.difficulties : [];
  let hard: Dataset | null = makeDataset(p, 'hard', Math.max(p.n, p.kmeans ? p.kmeansN : 0), tmp, writeFiles);
  for (const d of drivers) await d.prepare?.(hard);
  const exact = await runExact(p, hard, drivers);
  printExact(report, exact, p);
  // The exact indexes are done with: free their memory for the approximate ones.
  for (const d of drivers) await d.dropExact?.();
  const kmeans = p.kmeans ? await runKMeans(p, hard, drivers) : null;
  if (kmeans) printKMeans(report, kmeans, p);
  if (!difficulties.includes('hard')) hard = null;
  collectGarbage();
  const approximate: ApproxRun[] = [];
  for (const difficulty of difficulties) {
    const set = difficulty === 'hard' && hard !== null ? hard : makeDataset(p, difficulty, p.n, tmp, writeFiles);
    if (difficulty === 'hard') hard = null; // the runs below hold only their own data set
    const run = await runApproximate(p, set, drivers, tmp);
    printApproximate(report, run, p, svgFile(p, difficulty));
    approximate.push(run);
    collectGarbage();
  }
  const targets = [...exactTargets(exact), ...approximateTargets(approximate.find((r) => r.difficulty === 'hard')), ...approximate.flatMap(graphTargets)];
  printTargets(report, targets);
  return { exact, approximate, kmeans, targets };
}

/** The charts, the JSON results and the Markdown report. */
function writeOutputs(p: Params, report: Report, machine: Machine, peers: Record<string, string>, r: Results, notes: string[]): void {
  const svgs = [...r.approximate.map((run) => svgFile(p, run.difficulty)), svgFile(p, 'exact')];
  for (const run of r.approximate) writeText(svgFile(p, run.difficulty), renderApproxSvg(run, p, machine, r.exact));
  writeText(svgFile(p, 'exact'), renderExactSvg(r.exact, p, machine));
  report.markdown(`![exact-search QPS per library](${relative(dirname(p.md), svgFile(p, 'exact'))})`);
  const allNotes = [
    ...notes,
    `Exact search and ingest${p.kmeans ? ' and k-means' : ''} run on the hard data only.`,
    'FAISS is Debian python3-faiss: a generic build (compile options as reported), not AVX-512 specialised.',
    'hnswlib-node takes number[]: ingest includes the Float32Array -> number[] conversion (shown separately); queries are converted outside the timings; it has no batch call, its batch is a single-threaded loop.',
    'usearch exactSearch has no index: each call scans the given Float32Array, so it has no ingest step.',
    'Approximate recall@10 counts ties, as ann-benchmarks does: a returned id is a hit when its exact score reaches the 10th true score (bench/lib/recall.ts); recall by id is shown beside it. Duplicate vectors tie: at 1M real-text vectors 13% of the queries tie past the 10th place.',
    'k-means inertia is computed by this script for every library from its returned centroids (nearest centroid, squared L2, float64 sum); ownInertia is what each library reports (FAISS: before its last centroid update).',
  ];
  writeJson(p.out, {
    benchmark: TITLE,
    date: machine.date,
    machineLine: `${machine.cpu}, ${machine.logicalCores} logical cores, SIMD ${machine.simd}`,
    machine,
    peers,
    params: {
      ...p,
      k: K,
      seeds: SEEDS,
      data: Object.fromEntries(p.difficulties.map((d) => [d, d === 'realtext' ? `bench/lib/realtext.py (cache ${REALTEXT_CACHE})` : DIFFICULTIES[d]])),
      metric: 'ip (normalised vectors)',
      semvecIvf: SEMVEC_IVF,
      hnsw: { m: HNSW_M, efConstruction: HNSW_EF_CONSTRUCTION, efs: EFS },
      kmeansSettings: KMEANS,
      recallLevels: RECALL_LEVELS,
      targets: TARGETS,
    },
    ...r,
    files: { json: p.out, markdown: p.md, svg: svgs },
    notes: allNotes,
  });
  report.heading('Notes');
  report.text(...allNotes.map((note) => `- ${note}`));
  writeText(p.md, report.toMarkdown(TITLE));
  console.log(`\nJSON: ${p.out}\nMarkdown: ${p.md}\nSVG: ${svgs.join(', ')}`);
}

function printHeader(report: Report, p: Params, machine: Machine): void {
  console.log(`${TITLE}${p.quick ? ' (quick)' : ''}`);
  report.list(machineLines(machine));
  report.list([
    ['params', `N = ${fmtInt(p.n)}, dim ${p.dim}, ${fmtInt(p.queries)} queries, k = ${K}, inner product on normalised vectors; ${p.reps} repetition${p.reps === 1 ? '' : 's'}, ${p.single} single queries`],
    ['data', `${p.difficulties.join(', ')} (exact search${p.kmeans ? ' and k-means' : ''}: hard only)`],
    ...(p.kmeans ? [['k-means', `k = ${fmtInt(p.kmeansK)} on ${fmtInt(p.kmeansN)} rows`] as const] : []),
  ]);
}

async function main(): Promise<void> {
  const p = parseParams();
  const machine = machineInfo();
  const report = new Report();
  printHeader(report, p, machine);
  const notes: string[] = [];
  const skipped = APPROX_INDEXES.filter((name) => !p.indexes.includes(name));
  if (p.approximate && skipped.length > 0) notes.push(`approximate indexes not run (--indexes): ${skipped.join(', ')}`);
  const hasFaiss = faissAvailable();
  if (!hasFaiss) {
    console.log(`\n  FAISS is not available to ${PYTHON} (import faiss, numpy failed); running without it.`);
    console.log(`  To include it, run once:  ${SETUP_COMMAND}\n`);
    notes.push('FAISS not installed: run bench/setup-peers.sh');
  }
  const tmp = mkdtempSync(join(os.tmpdir(), 'semvec-peers-'));
  let faiss: FaissDriver | null = null;
  try {
    faiss = hasFaiss ? await startFaiss(tmp) : null;
    if (faiss && !faiss.withSklearn && p.kmeans) notes.push('scikit-learn not installed: k-means without it (bench/setup-peers.sh installs it)');
    const drivers: PeerDriver[] = [semvecDriver(), ...(faiss ? [faiss] : []), usearchDriver(), hnswlibDriver()];
    // The libraries in this process first, then the subprocess's.
    const listed = [...drivers.filter((d) => d.runs === 'in-process'), ...drivers.filter((d) => d.runs === 'subprocess')];
    const peers: Record<string, string> = Object.assign({}, ...listed.map((d) => d.versions()));
    report.list(Object.entries(peers));
    const results = await runAll(p, report, drivers, tmp);
    writeOutputs(p, report, machine, peers, results, notes);
  } finally {
    if (faiss !== null) await faiss.quit().catch(() => undefined);
    rmSync(tmp, { recursive: true, force: true });
  }
}

await runMain(COMMAND.script, main);
