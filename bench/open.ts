/**
 * bench/open.ts (npm run bench:open): what does opening an index file by
 * mapping it (FlatIndex.open, IVFIndex.open; format 3) save against loading
 * it into memory? Time to open, with and without verification, warm and
 * cold; what verification costs per GB; that the mapped index searches
 * exactly as the loaded one; and the memory of several processes reading
 * one file. Method, options and seeds: bench/README.md.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';

import { FlatIndex, IVFIndex, METRICS, suggestNlist, type IVFEncoding, type Metric } from '../src/index.js';
import { option, parseCommand, runMain } from './lib/args.js';
import { CLUSTERED, SEEDS, draw } from './lib/data.js';
import { fmt, fmtBytes, fmtInt, fmtMs, fmtRatio, progress } from './lib/format.js';
import { bestLimits, collectGarbage, loadText, machineInfo, printMachine, probeLimits, type Limits } from './lib/machine.js';
import { Report, writeJson } from './lib/report.js';
import { timed } from './lib/timing.js';
import { CHILD_QUERIES } from './open/memory.js';
import { WAYS, measureFile, residentBytes, type FileResult, type Kind, type Params } from './open/measure.js';

const COMMAND = {
  script: 'bench/open.ts',
  npm: 'bench:open',
  summary: 'how much faster is opening an index file by mapping it than loading it, and what memory do readers share?',
  options: {
    n: option.int('vectors', { full: '1000000', quick: '100000' }),
    dim: option.int('dimensions', '384'),
    queries: option.int('queries whose results the mapped and loaded indexes must agree on', { full: '200', quick: '50' }),
    metric: option.choice('metric', METRICS, 'ip'),
    readers: option.int('reader processes per memory test (0: no memory test)', '4', { min: 0 }),
    cold: option.int('cold repetitions per way of opening (0: none)', { full: '3', quick: '1' }, { min: 0 }),
    tmp: option.path('directory for the index files', '/tmp', { arg: 'DIR' }),
    keep: option.flag('keep the index files'),
    out: option.path('JSON results', 'bench/results/open.json'),
  },
  notes: ['Linux only: the memory test reads /proc/<pid>/smaps_rollup; the cold runs need fincore (util-linux) and GNU dd.'],
};

function parseParams(): Params & { metric: Metric } {
  const v = parseCommand(COMMAND);
  const { quick } = v;
  return {
    n: v.n,
    dim: v.dim,
    queries: v.queries,
    metric: v.metric,
    k: 10,
    readers: v.readers,
    warmReps: quick ? { load: 3, 'open verify': 5, 'open no verify': 11 } : { load: 5, 'open verify': 7, 'open no verify': 21 },
    coldReps: v.cold,
    tmp: v.tmp,
    keep: v.keep,
    out: v.out,
    quick,
  };
}

interface Built {
  name: string;
  kind: Kind;
  path: string;
  buildSeconds: number;
  saveSeconds: number;
}

const ENCODINGS: readonly IVFEncoding[] = ['f32', 'sq8', 'rq4'];

/** Frees dropped indexes: a full collection, then a turn of the event loop, where their finalisers run. */
async function freeDropped(): Promise<void> {
  collectGarbage();
  await nextTurn();
}

/** Builds and saves the flat index and one IVF index per encoding; returns the files and the queries. */
async function buildFiles(p: Params & { metric: Metric }, dir: string): Promise<{ files: Built[]; queries: Float32Array; generateSeconds: number }> {
  progress(`generating ${fmtInt(p.n)} x ${p.dim} vectors + ${fmtInt(p.queries)} queries`);
  const { value: set, seconds: generateSeconds } = timed(() => draw(CLUSTERED, p.dim, p.n, p.queries, p.metric === 'cosine'));
  const files: Built[] = [];
  {
    progress('flat: add, save');
    const b = timed(() => {
      const flat = new FlatIndex({ dim: p.dim, metric: p.metric });
      flat.add(set.data);
      return flat;
    });
    const path = join(dir, 'flat.svx');
    const s = timed(() => b.value.save(path));
    files.push({ name: 'flat', kind: 'flat', path, buildSeconds: b.seconds, saveSeconds: s.seconds });
  }
  await freeDropped();
  const nlist = suggestNlist(p.n);
  for (const encoding of ENCODINGS) {
    progress(`IVF ${encoding} (nlist ${nlist}): train, add, save`);
    const b = timed(() => {
      const ivf = new IVFIndex({ dim: p.dim, metric: p.metric, nlist, encoding });
      ivf.train(set.data, { seed: 1 });
      ivf.add(set.data);
      return ivf;
    });
    const path = join(dir, `ivf-${encoding}.svx`);
    const s = timed(() => b.value.save(path));
    files.push({ name: `IVF ${encoding}`, kind: 'ivf', path, buildSeconds: b.seconds, saveSeconds: s.seconds });
    await freeDropped();
  }
  return { files, queries: set.queries, generateSeconds };
}

const ms = (x: number | null): string => (x === null ? '-' : fmtMs(x));
const ratio = (a: number | null, b: number | null): string => (a === null || b === null ? '-' : fmtRatio(a / b));

function printResults(report: Report, results: FileResult[], p: Params, limits: Limits): void {
  report.heading('Time to open (median; warm: the file in the page cache)');
  report.table(
    ['index', 'file', 'load', 'open verify', 'open no verify', 'load / open verify', 'load / open no verify'],
    results.map((r) => {
      const [l, v, n] = WAYS.map((w) => r.times[w].warmMedianMs);
      return [r.name, fmtBytes(r.bytes), ms(l!), ms(v!), ms(n!), ratio(l!, v!), ratio(l!, n!)];
    }),
  );
  report.text(`warm repetitions: ${WAYS.map((w) => `${w} ${p.warmReps[w]}`).join(', ')}; each after one untimed warm-up`);
  if (results.some((r) => WAYS.some((w) => r.times[w].coldMedianMs !== null))) {
    report.heading('Time to open, cold (median)');
    report.table(
      ['index', 'load', 'open verify', 'open no verify', 'load / open verify', 'load / open no verify', 'first search after open no verify'],
      results.map((r) => {
        const [l, v, n] = WAYS.map((w) => r.times[w].coldMedianMs);
        const first = r.times['open no verify'].coldFirstSearchMs;
        return [r.name, ms(l!), ms(v!), ms(n!), ratio(l!, v!), ratio(l!, n!), first.length > 0 ? ms(first.reduce((a, b) => a + b, 0) / first.length) : '-'];
      }),
    );
  }
  for (const note of new Set(results.map((r) => r.coldNote).filter((x) => x !== ''))) report.text(note);

  report.heading('Verification (open verify - open no verify), per GB (1e9 bytes) of file');
  report.table(
    ['index', 'warm ms/GB', 'warm GB/s', 'vs 1-thread read bandwidth', 'cold ms/GB'],
    results.map((r) => [r.name, fmt(r.verifyMsPerGB, 0), fmt(r.verifyGBps, 1), `${fmt((100 * r.verifyGBps) / limits.read1Gbps, 0)}%`, r.verifyColdMsPerGB === null ? '-' : fmt(r.verifyColdMsPerGB, 0)]),
  );

  report.heading('First search (k 10, one query) right after opening, warm (median)');
  report.table(
    ['index', 'after load', 'after open verify', 'after open no verify'],
    results.map((r) => [r.name, ...WAYS.map((w) => ms(r.times[w].firstSearchMedianMs))]),
  );

  report.heading('Mapped searches against loaded ones');
  report.table(
    ['index', 'queries', 'k', 'nprobe', 'ids and scores identical', 'mappedBytes', 'memoryUsage mapped', 'memoryUsage loaded'],
    results.map((r) => [
      r.name,
      fmtInt(r.identical.queries),
      String(r.identical.k),
      r.identical.nprobe === null ? '-' : String(r.identical.nprobe),
      r.identical.equal ? 'yes' : 'NO',
      fmtBytes(r.mappedBytes),
      fmtBytes(r.mappedMemoryUsage),
      fmtBytes(r.loadedMemoryUsage),
    ]),
  );

  const withMemory = results.filter((r) => r.memory !== null);
  if (withMemory.length > 0) {
    report.heading(`Memory of ${p.readers} reader processes on one file (read while all were alive)`);
    report.text(
      `each reader opens (no verify) or loads the file, searches ${CHILD_QUERIES} queries (an IVF index with nprobe = nlist) and reads every vector once`,
      'with getVector, so every page has been touched; PSS charges a page shared by n processes 1/n to each',
    );
    report.table(
      ['index', 'file', 'total PSS open', 'total PSS load', 'load / open', 'total RSS open', 'total RSS load', 'file resident per opener'],
      withMemory.map((r) => {
        const { open, load } = r.memory!;
        const fileRss = Math.min(...open.readers.map((x) => x.fileRss));
        return [r.name, fmtBytes(r.bytes), fmtBytes(open.totalPss), fmtBytes(load.totalPss), fmtRatio(load.totalPss / open.totalPss), fmtBytes(open.totalRss), fmtBytes(load.totalRss), `${fmt((100 * fileRss) / r.bytes, 0)}% (least)`];
      }),
    );
    report.table(
      ['index', 'reader', 'RSS', 'PSS', 'PSS anon', 'PSS file', 'file RSS'],
      withMemory.flatMap((r) =>
        (['open', 'load'] as const).flatMap((mode) =>
          r.memory![mode].readers.map((x, i) => [r.name, `${mode} ${i + 1}`, fmtBytes(x.rss), fmtBytes(x.pss), fmtBytes(x.pssAnon), fmtBytes(x.pssFile), fmtBytes(x.fileRss)]),
        ),
      ),
    );
  }
}

async function main(): Promise<void> {
  const p = parseParams();
  const machine = machineInfo();
  console.log(`semvec open-by-mapping benchmark${p.quick ? ' (quick)' : ''}`);
  printMachine(machine);
  console.log(
    `  params    N ${fmtInt(p.n)}; dim ${p.dim}; metric ${p.metric}; k ${p.k}; ${fmtInt(p.queries)} queries; ` +
      `IVF nlist ${suggestNlist(p.n)}; ${p.readers} readers; ${CLUSTERED.clusters} clusters; seeds ${JSON.stringify(SEEDS)}`,
  );
  if (process.platform !== 'linux') throw new Error('bench:open reads /proc (smaps_rollup, maps): it runs on Linux only');
  const probe = { probeBytes: p.quick ? 256 * 2 ** 20 : 2 ** 30, probeRepeats: p.quick ? 2 : 3, fmaSeconds: 0.2 };
  const loadStart = loadText();
  console.log(`  load      ${loadStart} (1, 5, 15 min) at the start`);
  const limitsBefore = probeLimits(probe, 'before');

  mkdirSync(p.tmp, { recursive: true });
  const dir = mkdtempSync(join(p.tmp, 'semvec-bench-open-'));
  try {
    const { files, queries, generateSeconds } = await buildFiles(p, dir);
    await freeDropped();
    const results: FileResult[] = [];
    for (const f of files) results.push(await measureFile(p, f.name, f.kind, f.path, queries));
    const limitsAfter = probeLimits(probe, 'after');
    const limits = bestLimits(limitsBefore, limitsAfter);

    const report = new Report();
    console.log(
      `  limits    read ${fmt(limits.read1Gbps, 1)} GB/s with 1 thread, ${fmt(limits.readAllGbps, 1)} GB/s with ${limits.threadsAll} (best of before and after)`,
    );
    const loadEnd = loadText();
    report.list([
      ['load', `${loadStart} at the start, ${loadEnd} at the end (1, 5, 15 min)`],
      ['data', `${fmtInt(p.n)} x ${p.dim} generated in ${fmt(generateSeconds, 1)} s`],
      ...files.map((f): [string, string] => [f.name, `built in ${fmt(f.buildSeconds, 1)} s, saved in ${fmt(f.saveSeconds, 1)} s`]),
      ['page cache', `files resident after the runs: ${files.map((f) => `${f.name} ${fmtBytes(residentBytes(f.path) ?? Number.NaN)}`).join(', ')}`],
    ]);
    printResults(report, results, p, limits);
    writeJson(p.out, {
      benchmark: 'semvec open by mapping (bench/open.ts)',
      machine,
      limits,
      limitsBefore,
      limitsAfter,
      loadAverage: { start: loadStart, end: loadEnd },
      params: { ...p, clusters: CLUSTERED.clusters, seeds: SEEDS, nlist: suggestNlist(p.n), childQueries: CHILD_QUERIES },
      build: files,
      results,
    });
    console.log(`\nResults written to ${p.out}`);
  } finally {
    if (!p.keep) rmSync(dir, { recursive: true, force: true });
    else console.log(`index files kept in ${dir}`);
  }
}

await runMain(COMMAND.script, main);
