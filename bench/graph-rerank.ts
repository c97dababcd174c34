/**
 * bench/graph-rerank.ts (npm run bench:graph-rerank): how many of a graph
 * walk's candidates must be re-scored exactly? GraphIndex (its defaults)
 * on each data set, recall@10 and single-query latency over ef x rerank,
 * with the default `'auto'` (min(max(32, ef), 256)) beside fixed counts.
 * The walk ranks candidates by 8-bit codes; re-scoring corrects their
 * order, and how many need it depends on how tightly the data clusters.
 */
import os from 'node:os';

import { FlatIndex, GraphIndex, recallAtK, type GraphRerank } from '../src/index.js';
import { innerProductScore, recallWithTies } from './lib/recall.js';
import { option, parseCommand, runMain } from './lib/args.js';
import { DIFFICULTIES, draw, rowViews } from './lib/data.js';
import { fmt, fmtInt, progress, table } from './lib/format.js';
import { loadText, machineInfo, printMachine } from './lib/machine.js';
import { loadRealText } from './lib/realtext.js';
import { writeJson } from './lib/report.js';
import { median, now, timeEachWarm } from './lib/timing.js';

const DATASETS = ['realtext', 'easy', 'hard'] as const;
const DIM = 384;
const K = 10;
const RERANKS: GraphRerank[] = [32, 64, 128, 256, 'auto'];

const COMMAND = {
  script: 'bench/graph-rerank.ts',
  npm: 'bench:graph-rerank',
  summary: "how many of a graph walk's candidates must be re-scored exactly: recall@10 and latency over ef x rerank",
  options: {
    n: option.int('vectors', { full: '100000', quick: '20000' }),
    queries: option.int('queries (held out)', { full: '500', quick: '200' }),
    data: option.choices('data sets', DATASETS, DATASETS.join(',')),
    ef: option.sizes('ef values swept', '40,80,160,320,640'),
    out: option.path('JSON results', 'bench/results/graph-rerank.json'),
  },
};

function dataset(name: (typeof DATASETS)[number], n: number, queries: number): { data: Float32Array; queries: Float32Array } {
  if (name === 'realtext') {
    const t = loadRealText(n, queries);
    return { data: t.vectors, queries: t.queries };
  }
  const d = draw(DIFFICULTIES[name], DIM, n, queries, true);
  return { data: d.data, queries: d.queries };
}

function main(): void {
  const v = parseCommand(COMMAND);
  const machine = machineInfo();
  console.log(`semvec graph re-ranking benchmark${v.quick ? ' (quick)' : ''}`);
  printMachine(machine);
  console.log(`  load      ${loadText()} (1, 5, 15 min averages at start)`);
  console.log(`  params    N ${fmtInt(v.n)} x ${DIM}; ip on unit vectors; k ${K}; ${v.queries} queries; GraphIndex defaults; ef ${v.ef.join(', ')}`);
  const out: unknown[] = [];
  for (const name of v.data) {
    progress(`${name}: data, exact top ${K}`);
    const { data, queries } = dataset(name, v.n, v.queries);
    const flat = new FlatIndex({ dim: DIM, metric: 'ip' });
    flat.add(data);
    const truth = flat.searchBatch(queries, K);
    progress(`${name}: graph build`);
    const t0 = now();
    const graph = new GraphIndex({ dim: DIM, metric: 'ip' });
    graph.add(data);
    const buildSeconds = now() - t0;
    const qs = rowViews(queries, DIM);
    const points: { ef: number; rerank: GraphRerank; recall: number; recallIds: number; medianMs: number }[] = [];
    const score = innerProductScore(data, queries, DIM);
    for (const ef of v.ef) {
      for (const rerank of RERANKS) {
        const results = qs.map((q) => graph.search(q, K, { ef, rerank }));
        const seconds = timeEachWarm(5, qs.length, (i) => graph.search(qs[i]!, K, { ef, rerank }));
        const recall = recallWithTies(results, truth, K, score);
        points.push({ ef, rerank, recall, recallIds: recallAtK(results, truth, K), medianMs: 1000 * median(seconds) });
      }
    }
    console.log(`\n${name}, N = ${fmtInt(v.n)} (build ${fmt(buildSeconds, 1)} s): recall@10 (ties counted), median ms per single query`);
    const rows = v.ef.map((ef) => [
      String(ef),
      ...RERANKS.map((rerank) => {
        const p = points.find((x) => x.ef === ef && x.rerank === rerank)!;
        return `${fmt(p.recall, 4)}  ${fmt(p.medianMs, 3)}`;
      }),
    ]);
    console.log(table(['ef', ...RERANKS.map((r) => (r === 'auto' ? `auto (min(max(32, ef), 256))` : `rerank ${r}`))], rows));
    out.push({ dataset: name, n: v.n, buildSeconds, points });
  }
  console.log(`\n  load      ${loadText(os.loadavg())} (1, 5, 15 min averages at the end)`);
  writeJson(v.out, { benchmark: 'semvec graph re-ranking (bench/graph-rerank.ts)', machine, runs: out });
  console.log(`\nResults written to ${v.out}`);
}

await runMain(COMMAND.script, main);
