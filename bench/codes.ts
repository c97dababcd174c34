/**
 * bench/codes.ts (npm run bench:codes): what do compressed IVF codes cost
 * and save? For each encoding (f32, sq8, rq4, rq1) on the same lists: the
 * bytes per vector a probe scans and the index holds, and recall@10 and
 * single-query QPS over nprobe x rerank, with the ratio against the f32 IVF
 * index measured in the same run at recall@10 0.90 and 0.95. Encoded
 * indexes are saved and searched codes-only (IVFIndex.open with codesOnly:
 * codes in memory, floats read from the file to re-rank, warm page cache). Data: the
 * `hard` mixture and the real-text set (bench/lib/realtext.ts). Ground truth
 * from the exact FlatIndex. Targets print PASS/MISS.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

import { FlatIndex, IVF_ENCODINGS, IVFIndex, recallAtK, suggestNlist, type IVFEncoding, type SearchResult } from '../src/index.js';
import { option, parseCommand, runMain } from './lib/args.js';
import { DIFFICULTIES, draw, rowViews } from './lib/data.js';
import { fmt, fmtInt, fmtQps, progress, table, verdict } from './lib/format.js';
import { loadText, machineInfo, printMachine } from './lib/machine.js';
import { loadRealText } from './lib/realtext.js';
import { writeJson } from './lib/report.js';
import { now, timeEachWarm } from './lib/timing.js';

const DATASETS = ['hard', 'realtext'] as const;
type Dataset = (typeof DATASETS)[number];
const NAMES = IVF_ENCODINGS.map((e) => e.name);

const COMMAND = {
  script: 'bench/codes.ts',
  npm: 'bench:codes',
  summary: 'what memory do compressed IVF codes save, and at what recall and speed against f32 IVF?',
  options: {
    n: option.sizes('sizes N, comma-separated', { full: '100000', quick: '20000' }),
    queries: option.int('queries (held out)', '300'),
    data: option.choices('data sets', DATASETS, 'hard,realtext'),
    encoding: option.choices('IVF list encodings', NAMES, 'f32,sq8,rq4,rq1'),
    faiss: option.flag('also FAISS IVFPQFastScan + IndexRefineFlat (Debian python3-faiss) on the same data'),
    out: option.path('JSON results', 'bench/results/codes.json'),
  },
};

const NPROBES = [8, 16, 32, 64, 128, 256];
// Candidates re-scored from the floats per query, per encoding (f32: none).
const RERANKS: Record<IVFEncoding, number[]> = { f32: [0], sq8: [64], rq4: [32, 64, 128], rq1: [200, 400, 800] };
const LEVELS = [0.9, 0.95] as const;
const SINGLE = 200;
const DIM = 384;

interface Point {
  nprobe: number;
  rerank: number;
  recall: number;
  qps: number;
}

interface EncodingRun {
  encoding: IVFEncoding;
  buildSeconds: number;
  /** Heap of the index searched: codes-only (opened from its file) for encoded lists. */
  heapBytesPerVector: number;
  /** Heap of the same index built in memory (floats included). */
  inMemoryBytesPerVector: number;
  /** Float bytes per vector left in the mapped file. */
  mappedFloatBytesPerVector: number;
  codeBytesPerVector: number;
  points: Point[];
}

/** Bytes per vector of the codes a probe scans, with their per-vector floats. */
function codeBytes(encoding: IVFEncoding, dim: number): number {
  switch (encoding) {
    case 'f32':
      return dim * 4;
    case 'sq8':
      return Math.ceil(dim / 4) * 4 + 12;
    case 'rq4':
      return Math.ceil(dim / 8) * 4 + 8;
    case 'rq1':
      return Math.ceil(dim / 64) * 8 + 12;
  }
}

interface FaissConfig {
  name: string;
  codeBytesPerVector: number;
  buildSeconds: number;
  points: Point[];
}

/** FAISS on the same data, queries and truth (bench/codes_faiss.py), or null when it cannot run. */
function runFaiss(data: Float32Array, queries: Float32Array, truth: SearchResult[], nlist: number, label: string): FaissConfig[] | null {
  progress(`${label}: faiss IVFPQFastScan + refine`);
  const tmp = mkdtempSync(join(os.tmpdir(), 'semvec-codes-faiss-'));
  try {
    writeFileSync(join(tmp, 'data.f32'), data);
    writeFileSync(join(tmp, 'queries.f32'), queries);
    const ids = new BigInt64Array(truth.length * 10);
    truth.forEach((r, i) => r.ids.forEach((id, j) => (ids[i * 10 + j] = BigInt(id))));
    writeFileSync(join(tmp, 'truth.i64'), ids);
    const script = new URL('./codes_faiss.py', import.meta.url).pathname;
    const run = spawnSync('/usr/bin/python3', [script, tmp, String(DIM), String(nlist)], { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (run.status !== 0) {
      console.log(`  faiss: not run (${(run.stderr || run.error?.message || '').trim().split('\n').pop()}); sh bench/setup-peers.sh installs it`);
      return null;
    }
    return (JSON.parse(run.stdout) as { configs: FaissConfig[] }).configs;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The fastest point reaching recall `level`, if any. */
function fastestAt(points: readonly Point[], level: number): Point | null {
  let best: Point | null = null;
  for (const p of points) if (p.recall >= level && (best === null || p.qps > best.qps)) best = p;
  return best;
}

function dataset(name: Dataset, n: number, queries: number): { data: Float32Array; queries: Float32Array } {
  if (name === 'realtext') {
    const t = loadRealText(n, queries);
    return { data: t.vectors, queries: t.queries };
  }
  const d = draw(DIFFICULTIES.hard, DIM, n, queries, true);
  return { data: d.data, queries: d.queries };
}

function runEncoding(encoding: IVFEncoding, data: Float32Array, qs: Float32Array[], truth: SearchResult[], nlist: number, label: string): EncodingRun {
  const n = data.length / DIM;
  progress(`${label}: ${encoding} train + add`);
  const t0 = now();
  const built = new IVFIndex({ dim: DIM, metric: 'cosine', nlist, encoding });
  built.train(data);
  built.add(data);
  const buildSeconds = now() - t0;
  const inMemoryBytesPerVector = built.memoryUsage() / n;
  // Encoded lists are searched codes-only: saved, then opened with the
  // floats left in the file (warm: the file was just written).
  let ivf = built;
  let tmp: string | null = null;
  if (encoding !== 'f32') {
    tmp = mkdtempSync(join(os.tmpdir(), 'semvec-codes-'));
    const path = join(tmp, 'index.svx');
    built.save(path);
    ivf = IVFIndex.open(path, { codesOnly: true });
  }
  const points: Point[] = [];
  for (const nprobe of NPROBES.filter((x) => x <= nlist)) {
    for (const rerank of RERANKS[encoding]) {
      const opts = encoding === 'f32' ? { nprobe } : { nprobe, rerank };
      const results = qs.map((q) => ivf.search(q, 10, opts));
      const recall = recallAtK(results, truth, 10);
      const calls = Math.min(SINGLE, qs.length);
      const seconds = timeEachWarm(5, calls, (i) => ivf.search(qs[i % qs.length]!, 10, opts));
      const total = seconds.reduce((a, b) => a + b, 0);
      points.push({ nprobe, rerank, recall, qps: calls / total });
    }
  }
  const parts = ivf.memoryParts();
  if (tmp !== null) rmSync(tmp, { recursive: true, force: true });
  return {
    encoding,
    buildSeconds,
    heapBytesPerVector: ivf.memoryUsage() / n,
    inMemoryBytesPerVector,
    mappedFloatBytesPerVector: parts.floatsMapped / n,
    codeBytesPerVector: codeBytes(encoding, DIM),
    points,
  };
}

function main(): void {
  const v = parseCommand(COMMAND);
  const machine = machineInfo();
  console.log(`semvec compressed IVF codes benchmark${v.quick ? ' (quick)' : ''}`);
  printMachine(machine);
  console.log(`  load      ${loadText()} (1, 5, 15 min averages at start)`);
  console.log(`  params    N ${v.n.map(fmtInt).join(', ')}; dim ${DIM}; cosine; k 10; ${v.queries} queries; nlist suggestNlist(N); nprobe ${NPROBES.join(', ')}`);
  console.log(`  rerank    ${Object.entries(RERANKS).map(([e, r]) => `${e} ${r.join('/')}`).join('; ')}`);
  const out: unknown[] = [];
  const verdicts: string[][] = [];
  for (const name of v.data) {
    for (const n of v.n) {
      const label = `${name}, N = ${fmtInt(n)}`;
      progress(`${label}: data`);
      const { data, queries } = dataset(name, n, v.queries);
      const qs = rowViews(queries, DIM);
      const flat = new FlatIndex({ dim: DIM, metric: 'cosine' });
      flat.add(data);
      const truth = flat.searchBatch(queries, 10);
      const nlist = suggestNlist(n);
      const runs = v.encoding.map((e) => runEncoding(e, data, qs, truth, nlist, label));
      const base = runs.find((r) => r.encoding === 'f32');
      const faiss = v.faiss ? runFaiss(data, queries, truth, nlist, label) : null;
      console.log(`\n${label} (nlist ${fmtInt(nlist)})`);
      const rows: string[][] = [];
      for (const r of runs)
        for (const p of r.points)
          rows.push([r.encoding, String(p.nprobe), r.encoding === 'f32' ? '-' : String(p.rerank), fmt(p.recall, 3), fmtQps(p.qps)]);
      for (const f of faiss ?? []) for (const p of f.points) rows.push([f.name, String(p.nprobe), String(p.rerank), fmt(p.recall, 3), fmtQps(p.qps)]);
      console.log(table(['encoding', 'nprobe', 'rerank', 'recall@10', 'QPS (1 query)'], rows));
      const summary: string[][] = [];
      for (const r of runs) {
        const cells = [
          r.encoding,
          fmt(r.codeBytesPerVector, 0),
          fmt(r.heapBytesPerVector, 0),
          fmt(r.mappedFloatBytesPerVector, 0),
          fmt(r.inMemoryBytesPerVector, 0),
          fmt(r.buildSeconds, 1),
        ];
        for (const level of LEVELS) {
          const at = fastestAt(r.points, level);
          const ref = base ? fastestAt(base.points, level) : null;
          cells.push(at ? `${fmtQps(at.qps)} (np ${at.nprobe}${r.encoding === 'f32' ? '' : `, rr ${at.rerank}`})` : 'not reached');
          cells.push(at && ref ? `${fmt(at.qps / ref.qps, 2)}x` : '-');
        }
        summary.push(cells);
      }
      for (const f of faiss ?? []) {
        const cells = [f.name, fmt(f.codeBytesPerVector, 0), '-', '-', '-', fmt(f.buildSeconds, 1)];
        for (const level of LEVELS) {
          const at = fastestAt(f.points, level);
          const ref = base ? fastestAt(base.points, level) : null;
          cells.push(at ? `${fmtQps(at.qps)} (np ${at.nprobe}, rr ${at.rerank})` : 'not reached');
          cells.push(at && ref ? `${fmt(at.qps / ref.qps, 2)}x` : '-');
        }
        summary.push(cells);
      }
      console.log(
        table(['encoding', 'scanned B/vec', 'heap B/vec', 'mapped floats B/vec', 'built in memory B/vec', 'build s', 'QPS @0.90', 'vs f32', 'QPS @0.95', 'vs f32'], summary),
      );
      const rq4 = runs.find((r) => r.encoding === 'rq4');
      if (rq4 && base) {
        const at = fastestAt(rq4.points, 0.95), ref = fastestAt(base.points, 0.95);
        const speed = at && ref ? at.qps / ref.qps : null;
        verdicts.push([label, 'rq4 recall@10 >= 0.95 reachable', at ? `yes (${fmt(at.recall, 3)})` : 'no', verdict(at !== null)]);
        verdicts.push([label, 'rq4 QPS at 0.95 >= 1.5x f32 IVF', speed === null ? '-' : `${fmt(speed, 2)}x`, verdict(speed !== null && speed >= 1.5)]);
        const ratio = rq4.heapBytesPerVector / base.heapBytesPerVector;
        verdicts.push([label, 'rq4 codes-only heap <= 1/6 of f32 IVF', `${fmt(ratio, 3)} (+ floats in the page cache as used)`, verdict(ratio <= 1 / 6)]);
        for (const f of faiss ?? []) {
          const theirs = fastestAt(f.points, 0.95);
          const pass = at !== null && (theirs === null || at.qps >= theirs.qps);
          verdicts.push([label, `rq4 QPS at 0.95 >= ${f.name}`, at && theirs ? `${fmt(at.qps / theirs.qps, 2)}x` : theirs ? '-' : 'faiss did not reach 0.95', verdict(pass)]);
        }
        const scanned = rq4.codeBytesPerVector / base.codeBytesPerVector;
        verdicts.push([label, 'rq4 scanned bytes <= 1/6 of f32 IVF', fmt(scanned, 3), verdict(scanned <= 1 / 6)]);
      }
      out.push({ dataset: name, n, nlist, runs, faiss });
    }
  }
  console.log('\nTargets');
  console.log(table(['run', 'target', 'measured', ''], verdicts));
  console.log(`\n  load      ${loadText(os.loadavg())} (1, 5, 15 min averages at the end)`);
  writeJson(v.out, { benchmark: 'semvec compressed IVF codes (bench/codes.ts)', machine, runs: out });
  console.log(`\nResults written to ${v.out}`);
}

await runMain(COMMAND.script, main);
