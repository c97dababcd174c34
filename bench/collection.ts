/**
 * bench/collection.ts (npm run bench:collection): how fast are persistent
 * collections (Client.open(dir)) to fill, to query with filters (every
 * result checked against an exact search), and to reopen after a close, a
 * crash and a lost snapshot? Method, options and seeds: bench/README.md.
 */
import os from 'node:os';

import { METRICS } from '../src/index.js';
import { option, parseCommand, runMain } from './lib/args.js';
import { CLUSTERED, draw, rowViews } from './lib/data.js';
import { fmt, fmtInt, progress } from './lib/format.js';
import { collectGarbage, loadText, machineInfo, printMachine, type Machine } from './lib/machine.js';
import { writeJson } from './lib/report.js';
import { now } from './lib/timing.js';
import { K, WARMUP, type Params } from './collection/measure.js';
import { printSize, printSummary } from './collection/print.js';
import { CATCHUP_RECORDS, CATEGORIES, SEEDS, URGENT_RATE, makeAttributes } from './collection/records.js';
import { FILTERED_TARGET_MS, REOPEN_TARGET_S, TARGET_N, benchN, type SizeResult } from './collection/run.js';

const COMMAND = {
  script: 'bench/collection.ts',
  npm: 'bench:collection',
  summary: 'how fast are persistent collections to fill, to query with filters, and to reopen?',
  options: {
    n: option.sizes('records N, comma-separated (smaller N use the first records of the largest)', { full: '100000,1000000', quick: '20000' }),
    dim: option.int('dimensions', '384'),
    queries: option.int('timed queries per filter', '100'),
    batch: option.int('records per add call', '10000'),
    metric: option.choice('metric', METRICS, 'cosine'),
    out: option.path('JSON results', 'bench/results/collection.json'),
    tmp: option.path('where the temporary collection directories go', os.tmpdir(), { arg: 'DIR' }),
    keep: option.flag('keep the collection directories'),
  },
};

function parseParams(): Params {
  const v = parseCommand(COMMAND);
  return {
    sizes: v.n,
    dim: v.dim,
    queries: v.queries,
    batch: v.batch,
    metric: v.metric,
    out: v.out,
    quick: v.quick,
    tmp: v.tmp,
    keep: v.keep,
    documentBudgetSeconds: v.quick ? 5 : 30,
  };
}

function printHeader(p: Params, machine: Machine, loadBefore: readonly number[]): void {
  console.log(`semvec persistent collection benchmark${p.quick ? ' (quick)' : ''}`);
  printMachine(machine);
  console.log(
    `  params    N ${p.sizes.map(fmtInt).join(', ')}; dim ${p.dim}; metric ${p.metric}; nResults ${K}; ${p.queries} queries; ` +
      `add batches of ${fmtInt(p.batch)}; ${CLUSTERED.clusters} clusters + ${CLUSTERED.noiseFraction * 100}% noise; seeds ${JSON.stringify(SEEDS)}`,
  );
  console.log(`  storage   ${p.tmp} (temporary directories, deleted at the end)`);
  console.log(`  load      ${loadText(loadBefore, ', ')} (1, 5, 15 min averages at the start; other processes share the machine)`);
}

async function main(): Promise<void> {
  const p = parseParams();
  const machine = machineInfo();
  const loadBefore = os.loadavg();
  printHeader(p, machine, loadBefore);

  const maxN = p.sizes[p.sizes.length - 1]!;
  progress(`generating ${fmtInt(maxN)} x ${p.dim} embeddings, attributes and ${p.queries} queries`);
  let t0 = now();
  const { mixture, data, queries } = draw(CLUSTERED, p.dim, maxN, p.queries, false);
  const attrs = makeAttributes(maxN, SEEDS.attributes);
  const generateSeconds = now() - t0;
  console.log(`  data      ${fmtInt(maxN)} records generated in ${fmt(generateSeconds, 1)} s (smaller N use the first records)`);
  const views = rowViews(queries, p.dim);
  const qs = [...views, ...views.slice(0, WARMUP)]; // warm-up queries: the first ones again

  const results: SizeResult[] = [];
  t0 = now();
  for (const n of p.sizes) {
    const r = await benchN(p, { n, data: data.subarray(0, n * p.dim), attrs, queries, qs }, mixture);
    results.push(r);
    printSize(r, p);
    collectGarbage();
  }
  printSummary(results);
  const totalSeconds = now() - t0;
  const loadAfter = os.loadavg();
  console.log(`\nTotal ${fmt(totalSeconds, 0)} s after data generation; load average at the end ${loadText(loadAfter, ', ')}.`);

  writeJson(p.out, {
    benchmark: 'semvec persistent collections (bench/collection.ts)',
    machine,
    params: {
      ...p,
      k: K,
      mixture: CLUSTERED,
      seeds: SEEDS,
      categories: CATEGORIES,
      urgentRate: URGENT_RATE,
      catchUpRecords: CATCHUP_RECORDS,
      warmupQueries: WARMUP,
      targets: { filtered1pctMedianMs: FILTERED_TARGET_MS, reopenSeconds: REOPEN_TARGET_S, atN: TARGET_N },
    },
    loadAverage: { start: loadBefore, end: loadAfter },
    generateSeconds,
    totalSeconds,
    results,
  });
  console.log(`\nResults written to ${p.out}`);
}

await runMain(COMMAND.script, main);
