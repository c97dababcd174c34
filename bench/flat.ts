/**
 * bench/flat.ts (npm run bench:flat): how close does semvec's exact
 * FlatIndex get to the machine's limits, and how much faster is it than the
 * plain TypeScript loop a user would otherwise write? Both measured in this
 * run. Method, options and seeds: bench/README.md.
 */
import { METRICS } from '../src/index.js';
import { option, parseCommand, runMain } from './lib/args.js';
import { CLUSTERED, SEEDS, draw, rowViews } from './lib/data.js';
import { fmt, fmtInt, progress } from './lib/format.js';
import { bestLimits, machineInfo, printMachine, probeLimits } from './lib/machine.js';
import { writeJson } from './lib/report.js';
import { timed } from './lib/timing.js';
import { ASYNC_CALLS, K, applyLimits, benchSize, type Params, type SizeResult } from './flat/measure.js';
import { printLimits, printSize, printSummary } from './flat/print.js';

const COMMAND = {
  script: 'bench/flat.ts',
  npm: 'bench:flat',
  summary: "how fast is semvec's exact FlatIndex, against the machine's limits and a TypeScript loop?",
  options: {
    n: option.sizes('sizes N, comma-separated (smaller N use the first rows of the largest)', { full: '100000,1000000', quick: '20000' }),
    dim: option.int('dimensions', '384'),
    queries: option.int('queries, from the same mixture with another seed', '1000'),
    metric: option.choice('metric', METRICS, 'ip'),
    out: option.path('JSON results', 'bench/results/flat.json'),
  },
};

function parseParams(): Params {
  const v = parseCommand(COMMAND);
  const { quick } = v;
  return {
    sizes: v.n,
    dim: v.dim,
    queries: v.queries,
    metric: v.metric,
    out: v.out,
    quick,
    k: K,
    benchMaxTime: quick ? 1 : 3,
    batchReps: quick ? 2 : 3,
    probeBytes: quick ? 256 * 2 ** 20 : 2 ** 30,
    probeRepeats: quick ? 2 : 3,
    fmaSeconds: quick ? 0.2 : 0.5,
  };
}

async function main(): Promise<void> {
  const p = parseParams();
  const machine = machineInfo();
  console.log(`semvec FlatIndex benchmark${p.quick ? ' (quick)' : ''}`);
  printMachine(machine);
  console.log(
    `  params    N ${p.sizes.map(fmtInt).join(', ')}; dim ${p.dim}; metric ${p.metric}; k ${p.k}; ${fmtInt(p.queries)} queries; ` +
      `${CLUSTERED.clusters} clusters + ${CLUSTERED.noiseFraction * 100}% noise; seeds ${JSON.stringify(SEEDS)}`,
  );
  const limitsBefore = probeLimits(p, 'before');

  const maxN = Math.max(...p.sizes);
  progress(`generating ${fmtInt(maxN)} x ${p.dim} vectors + ${fmtInt(p.queries)} queries`);
  const { value: set, seconds: generateSeconds } = timed(() => draw(CLUSTERED, p.dim, maxN, p.queries, p.metric === 'cosine'));
  const qs = rowViews(set.queries, p.dim);
  const results: SizeResult[] = [];
  for (const n of p.sizes) results.push(await benchSize(p, set.data, set.queries, qs, n, generateSeconds));

  const limitsAfter = probeLimits(p, 'after');
  const limits = bestLimits(limitsBefore, limitsAfter);
  for (const r of results) applyLimits(r, p.dim, limits);
  printLimits(limitsBefore, limitsAfter, limits);
  console.log(`\nData: ${fmtInt(maxN)} x ${p.dim} generated in ${fmt(generateSeconds, 1)} s (smaller N use its first rows)`);
  for (const r of results) printSize(r, p, limits);
  printSummary(results);

  writeJson(p.out, {
    benchmark: 'semvec FlatIndex (bench/flat.ts)',
    machine,
    limits,
    limitsBefore,
    limitsAfter,
    params: { ...p, clusters: CLUSTERED.clusters, noiseFraction: CLUSTERED.noiseFraction, seeds: SEEDS, asyncCalls: ASYNC_CALLS },
    results,
  });
  console.log(`\nResults written to ${p.out}`);
}

await runMain(COMMAND.script, main);
