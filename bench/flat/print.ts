/** bench/flat/print.ts: bench:flat's tables: the machine's limits, each N, the summary. */
import { fmt, fmtBytes, fmtInt, fmtMs, table, verdict } from '../lib/format.js';
import type { Limits } from '../lib/machine.js';
import type { Latency } from '../lib/timing.js';
import { BATCH_TARGET, SINGLE_TARGET, type Params, type SizeResult } from './measure.js';

/** The limits probed before and after the runs, and the ones used (the better of each). */
export function printLimits(before: Limits, after: Limits, used: Limits): void {
  const row = (name: string, pick: (l: Limits) => number): string[] => [name, fmt(pick(before), 1), fmt(pick(after), 1), fmt(pick(used), 1)];
  console.log(`\nMachine limits (probed before and after the index runs; best used; all = ${used.threadsAll} threads)`);
  console.log(
    table(
      ['', 'before', 'after', 'used'],
      [
        row('streaming read, 1 thread (GB/s)', (l) => l.read1Gbps),
        row('streaming read, all threads (GB/s)', (l) => l.readAllGbps),
        row('FMA peak, 1 thread (GFLOP/s)', (l) => l.fma1Gflops),
        row('FMA peak, all threads (GFLOP/s)', (l) => l.fmaAllGflops),
      ],
    ),
  );
}

function printSingle(r: SizeResult, p: Params, limits: Limits): void {
  const s = r.single;
  const lat = (name: string, l: Latency): string[] => [
    name,
    fmtMs(l.medianMs),
    fmtMs(l.p99Ms),
    `${fmtInt(l.samples)} x ${l.callsPerSample} (${l.method})`,
  ];
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
}

export function printSize(r: SizeResult, p: Params, limits: Limits): void {
  const b = r.batch;
  console.log(`\nN = ${fmtInt(r.n)}  (dim ${p.dim}, ${p.metric}, k ${p.k}; data ${fmtBytes(r.n * p.dim * 4)})`);
  console.log(`  add             ${fmt(r.add.seconds, 3)} s   ${fmtInt(r.add.vectorsPerSecond)} vectors/s`);
  console.log(
    `  memory          index ${fmtBytes(r.memory.indexBytes)} (${fmtInt(r.memory.bytesPerVector)} B/vector), process rss ${fmtBytes(r.memory.rssBytes)}`,
  );
  console.log(`  top-${p.k} overlap with TS baseline: ${fmt(r.topKOverlapWithBaseline * 100, 1)}% (${b.baselineQueries} queries)`);
  printSingle(r, p, limits);
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

export function printSummary(results: SizeResult[]): void {
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
