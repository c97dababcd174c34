/**
 * bench/ivf.ts (npm run bench:ivf): exact against approximate. How much
 * faster than the exact FlatIndex is IVFIndex, with each list encoding, and
 * how much of the true top 10 does it keep? Both measured in this run, on the
 * `hard` and `easy` mixtures. Method, options and seeds: bench/README.md.
 */
import os from 'node:os';

import { DEFAULT_RERANK, IVF_TRAINING_DEFAULTS, METRICS } from '../src/index.js';
import { BenchError, option, parseCommand, runMain } from './lib/args.js';
import { DIFFICULTIES, DIFFICULTY_NAMES, SEEDS, draw, rowViews } from './lib/data.js';
import { fmt, fmtInt, progress } from './lib/format.js';
import { loadText, machineInfo, printMachine, type Machine } from './lib/machine.js';
import { writeJson, writeText } from './lib/report.js';
import { timed } from './lib/timing.js';
import {
  BATCH_REPS,
  ENCODINGS,
  FLAT_SINGLE_QUERIES,
  IVF_SINGLE_QUERIES,
  K,
  NPROBES,
  RECALL_LEVELS,
  benchRun,
  type Params,
  type RunResult,
} from './ivf/measure.js';
import { printRun, printSummary, renderSvg } from './ivf/print.js';
import { TARGETS, judgeTargets, printTargets } from './ivf/targets.js';

const COMMAND = {
  script: 'bench/ivf.ts',
  npm: 'bench:ivf',
  summary: 'how much faster than the exact FlatIndex is IVFIndex, and what recall does it keep?',
  options: {
    n: option.sizes('sizes N, comma-separated (smaller N use the first rows of the largest)', { full: '100000,1000000', quick: '50000' }),
    dim: option.int('dimensions', '384'),
    queries: option.int('queries, from the same mixture with another seed', '1000'),
    nlist: option.intOrAuto('IVF lists (default auto: suggestNlist(N))'),
    metric: option.choice('metric', METRICS, 'l2'),
    difficulty: option.choices('data sets', DIFFICULTY_NAMES, 'hard,easy'),
    encoding: option.choices('IVF list encodings', ENCODINGS, 'f32,sq8'),
    rerank: option.int('candidates re-scored from the floats per query (sq8, rq4, rq1)', String(DEFAULT_RERANK)),
    out: option.path('JSON results', 'bench/results/ivf.json'),
    svg: option.path('recall-vs-QPS chart', 'bench/results/ivf.svg'),
  },
};

function parseParams(): Params {
  const v = parseCommand(COMMAND);
  const smallest = v.n[0]!;
  if (v.nlist !== null && v.nlist > smallest) {
    throw new BenchError(`--nlist ${v.nlist} is larger than the smallest N (${smallest}); training needs N >= nlist`);
  }
  return {
    sizes: v.n,
    dim: v.dim,
    queries: v.queries,
    metric: v.metric,
    nlist: v.nlist,
    difficulties: v.difficulty,
    encodings: v.encoding,
    rerank: v.rerank,
    out: v.out,
    svg: v.svg,
    quick: v.quick,
    k: K,
  };
}

function printHeader(p: Params, machine: Machine, loadBefore: readonly number[]): void {
  console.log(`semvec IVFIndex vs FlatIndex benchmark${p.quick ? ' (quick)' : ''}`);
  printMachine(machine);
  console.log(`  load      ${loadText(loadBefore)} (1, 5, 15 min averages at start)`);
  console.log(
    `  params    N ${p.sizes.map(fmtInt).join(', ')}; dim ${p.dim}; metric ${p.metric}; k ${p.k}; ${fmtInt(p.queries)} queries; ` +
      `nlist ${p.nlist === null ? 'suggestNlist(N)' : fmtInt(p.nlist)}; nprobe ${NPROBES.join(', ')}; ` +
      `encodings ${p.encodings.join(', ')} (rerank ${p.rerank} for encoded lists); seeds ${JSON.stringify(SEEDS)}`,
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
}

function main(): void {
  const p = parseParams();
  const machine = machineInfo();
  const loadBefore = os.loadavg();
  printHeader(p, machine, loadBefore);

  const runs: RunResult[] = [];
  const generateSeconds: Record<string, number> = {};
  const maxN = Math.max(...p.sizes);
  for (const difficulty of p.difficulties) {
    progress(`${difficulty}: generating ${fmtInt(maxN)} x ${p.dim} vectors + ${fmtInt(p.queries)} queries`);
    const t = timed(() => draw(DIFFICULTIES[difficulty], p.dim, maxN, p.queries, p.metric === 'cosine'));
    generateSeconds[difficulty] = t.seconds;
    const set = { difficulty, data: t.value.data, queries: t.value.queries, qs: rowViews(t.value.queries, p.dim) };
    for (const n of p.sizes) {
      for (const r of benchRun(p, set, n)) {
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
  console.log(`\n  load      ${loadText(loadAfter)} (1, 5, 15 min averages at the end)`);

  writeJson(p.out, {
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
  });
  writeText(p.svg, renderSvg(runs, p, machine));
  console.log(`\nResults written to ${p.out}`);
  console.log(`Chart written to ${p.svg}`);
}

await runMain(COMMAND.script, main);
