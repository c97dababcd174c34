/**
 * bench/codes-scale.ts (npm run bench:codes-scale): a codes-only IVF index
 * at a size whose floats do not fit twice in this machine's RAM (default
 * 10M x 384: 15.4 GB of floats). What does it take to build, what stays
 * resident, and what recall@10 and single-query QPS does it reach, with the
 * page cache cold and warm?
 *
 * Steps, each in its own process so resident memory is measured honestly:
 * 1. data: the `hard` mixture, generated in chunks and appended to a floats
 *    file on disk; the exact top 10 of every query is merged chunk by chunk
 *    (FlatIndex per chunk), so no step holds more than one chunk of data.
 * 2. build: train on the file's first nlist x 64 rows (the rows are i.i.d.),
 *    add the file chunk by chunk, save the index. Build time and peak RSS.
 * 3. sweep: open the index codes-only (codes in memory, floats mapped from
 *    the index file), sweep nprobe x rerank with a warm page cache.
 * 4. cold: for the fastest settings reaching 0.90 and 0.95, a fresh process
 *    drops the index file from the page cache (posix_fadvise DONTNEED),
 *    opens it, runs the queries once (cold) and again (warm).
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

import { FlatIndex, IVFIndex, normalizeInPlace, recallAtK, suggestNlist, type IVFEncoding, type SearchResult } from '../src/index.js';
import { option, parseCommand, runMain, type Option, type Values as CommandValues } from './lib/args.js';
import { DIFFICULTIES, makeMixture, rowViews, sample, SEEDS } from './lib/data.js';
import { fmt, fmtBytes, fmtInt, fmtQps, progress, table } from './lib/format.js';
import { collectGarbage, loadText, machineInfo, printMachine } from './lib/machine.js';
import { writeJson } from './lib/report.js';
import { now } from './lib/timing.js';

const DIM = 384;
const K = 10;
const ENCODINGS = ['sq8', 'rq4', 'rq1'] as const;
const STEPS = ['data', 'build', 'sweep', 'cold'] as const;
type Step = (typeof STEPS)[number];

const COMMAND = {
  script: 'bench/codes-scale.ts',
  npm: 'bench:codes-scale',
  summary: 'a codes-only IVF index at 10M x 384: build time, resident memory, recall@10 and QPS with a cold and a warm page cache',
  options: {
    n: option.int('vectors', { full: '10000000', quick: '200000' }),
    chunk: option.int('rows generated, added and scanned for ground truth per step', { full: '500000', quick: '50000' }),
    queries: option.int('queries (held out)', { full: '1000', quick: '200' }),
    encoding: option.choice('IVF list encoding', ENCODINGS, 'rq4'),
    dir: option.path('working directory: floats file, index file (~3.3 KB per vector with rq4), truth', join(os.tmpdir(), 'semvec-codes-scale'), { arg: 'DIR' }),
    keep: option.flag('keep the working directory (a later run with the same --n, --chunk, --queries and --encoding reuses its data and index)'),
    out: option.path('JSON results', 'bench/results/codes-scale.json'),
    step: { ...option.choice('run one step in this process (used by the script itself)', STEPS, 'data'), hidden: true },
    setting: { kind: 'string', help: 'nprobe,rerank of the cold step', arg: 'N,N', hidden: true, read: (text: string | undefined) => text ?? '' } as Option<string>,
  },
};

type Values = CommandValues<typeof COMMAND.options>;
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

const NPROBES = [8, 16, 24, 32, 48, 64, 96, 128, 192, 256];
const RERANKS: Record<IVFEncoding, number[]> = { f32: [0], sq8: [32, 64], rq4: [32, 64, 128], rq1: [200, 400, 800] };
const LEVELS = [0.9, 0.95] as const;
const ADD_ROWS = 250_000;

const files = (dir: string) => ({
  data: join(dir, 'data.f32'),
  queries: join(dir, 'queries.f32'),
  truth: join(dir, 'truth.json'),
  index: join(dir, 'index.svx'),
  build: join(dir, 'build.json'),
  sweep: join(dir, 'sweep.json'),
});

/** Removes this script's files from dir (nothing else). */
function removeFiles(dir: string): void {
  for (const path of [...Object.values(files(dir)), join(dir, 'params.json'), join(dir, 'data-params.json')]) rmSync(path, { force: true });
}

/** Resident memory of this process from /proc/self/status, in bytes: total, anonymous, file-backed, peak. */
function residentMemory(): { rss: number; anon: number; file: number; peak: number } {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile'), peak: kb('VmHWM') };
}

/** Reads rows [first, first + count) of the floats file. */
function readRows(fd: number, first: number, count: number): Float32Array {
  const rows = new Float32Array(count * DIM);
  const bytes = new Uint8Array(rows.buffer);
  let done = 0;
  while (done < bytes.length) {
    const got = readSync(fd, bytes, done, bytes.length - done, first * DIM * 4 + done);
    if (got === 0) throw new Error(`floats file ended at row ${first + done / (DIM * 4)}`);
    done += got;
  }
  return rows;
}

/** Step 1: the floats file, the queries and their exact top 10, chunk by chunk. */
function stepData(v: Values): void {
  const f = files(v.dir);
  const mixture = makeMixture(DIM, SEEDS.mixture, DIFFICULTIES.hard);
  const queries = sample(mixture, v.queries, SEEDS.queries);
  normalizeInPlace(queries, DIM);
  writeFileSync(f.queries, queries);
  const best = Array.from({ length: v.queries }, () => ({ ids: [] as number[], scores: [] as number[] }));
  const fd = openSync(f.data, 'w');
  const t0 = now();
  let generate = 0, scan = 0;
  try {
    for (let first = 0, c = 0; first < v.n; first += v.chunk, c++) {
      const count = Math.min(v.chunk, v.n - first);
      let t = now();
      // One seed per chunk: rows stay i.i.d. and any chunk can be drawn again alone.
      const rows = sample(mixture, count, SEEDS.data * 1_000_003 + c);
      normalizeInPlace(rows, DIM);
      writeSync(fd, new Uint8Array(rows.buffer));
      generate += now() - t;
      t = now();
      const flat = new FlatIndex({ dim: DIM, metric: 'ip' });
      flat.add(rows);
      const part = flat.searchBatch(queries, K);
      part.forEach((r, q) => {
        const b = best[q]!;
        for (let j = 0; j < r.ids.length; j++) {
          b.ids.push(r.ids[j]! + first);
          b.scores.push(r.scores[j]!);
        }
        const order = b.scores.map((_, i) => i).sort((x, y) => b.scores[y]! - b.scores[x]! || b.ids[x]! - b.ids[y]!).slice(0, K);
        best[q] = { ids: order.map((i) => b.ids[i]!), scores: order.map((i) => b.scores[i]!) };
      });
      scan += now() - t;
      progress(`data: ${fmtInt(first + count)} / ${fmtInt(v.n)} rows (${fmt(now() - t0, 0)} s)`);
    }
  } finally {
    closeSync(fd);
  }
  writeFileSync(f.truth, JSON.stringify({ ids: best.map((b) => b.ids), generateSeconds: generate, exactSeconds: scan }));
}

/** Step 2: train, add chunk by chunk, save. */
function stepBuild(v: Values): void {
  const f = files(v.dir);
  const nlist = suggestNlist(v.n);
  const fd = openSync(f.data, 'r');
  const ivf = new IVFIndex({ dim: DIM, metric: 'cosine', nlist, encoding: v.encoding });
  let t = now();
  const trainRows = Math.min(v.n, nlist * 64);
  // The rows are i.i.d.: the first trainRows are a uniform sample.
  ivf.train(readRows(fd, 0, trainRows));
  const trainSeconds = now() - t;
  t = now();
  let readSeconds = 0;
  // Smaller reads than the data step's chunks: add() groups a copy of its
  // rows by list, and this step holds the whole index with its floats.
  const step = Math.min(v.chunk, ADD_ROWS);
  for (let first = 0; first < v.n; first += step) {
    const r0 = now();
    const rows = readRows(fd, first, Math.min(step, v.n - first));
    readSeconds += now() - r0;
    ivf.add(rows);
    collectGarbage(); // the chunk just added: RSS should be the index's, not garbage's
    progress(`build: ${fmtInt(ivf.size)} / ${fmtInt(v.n)} added (${fmt(now() - t, 0)} s)`);
  }
  closeSync(fd);
  const addSeconds = now() - t - readSeconds;
  const inMemory = ivf.memoryUsage();
  t = now();
  ivf.save(f.index);
  const saveSeconds = now() - t;
  writeFileSync(
    f.build,
    JSON.stringify({ nlist, trainRows, trainSeconds, addSeconds, readSeconds, saveSeconds, inMemoryBytes: inMemory, peakRss: residentMemory().peak, fileBytes: statSync(f.index).size }),
  );
}

interface Point {
  nprobe: number;
  rerank: number;
  recall: number;
  qps: number;
}

function loadQueries(v: Values): { qs: Float32Array[]; truth: { ids: number[] }[] } {
  const f = files(v.dir);
  const queries = new Float32Array(readFileSync(f.queries).buffer.slice(0));
  const truth = (JSON.parse(readFileSync(f.truth, 'utf8')) as { ids: number[][] }).ids.map((ids) => ({ ids }));
  return { qs: rowViews(queries, DIM), truth };
}

/** One pass over every query at one setting: recall and QPS (calls one by one). */
function pass(ivf: IVFIndex, qs: Float32Array[], truth: { ids: number[] }[], nprobe: number, rerank: number): Point {
  const results: SearchResult[] = [];
  const t0 = now();
  for (const q of qs) results.push(ivf.search(q, K, { nprobe, rerank }));
  const seconds = now() - t0;
  return { nprobe, rerank, recall: recallAtK(results, truth, K), qps: qs.length / seconds };
}

/** Step 3: open codes-only, sweep with a warm page cache. */
function stepSweep(v: Values): void {
  const f = files(v.dir);
  const { qs, truth } = loadQueries(v);
  const before = residentMemory();
  const t0 = now();
  const ivf = IVFIndex.open(f.index, { codesOnly: true });
  const openSeconds = now() - t0;
  const opened = residentMemory();
  const points: Point[] = [];
  for (const nprobe of NPROBES) {
    for (const rerank of RERANKS[v.encoding]) {
      pass(ivf, qs.slice(0, 50), truth.slice(0, 50), nprobe, rerank); // warm the lists this setting reads
      const p = pass(ivf, qs, truth, nprobe, rerank);
      points.push(p);
      progress(`sweep: nprobe ${nprobe}, rerank ${rerank}: recall ${fmt(p.recall, 3)}, ${fmtQps(p.qps)} QPS`);
    }
  }
  writeFileSync(
    f.sweep,
    JSON.stringify({ openSeconds, before, opened, after: residentMemory(), parts: ivf.memoryParts(), memoryUsage: ivf.memoryUsage(), points }),
  );
}

/** Drops a file's pages from the page cache (pages no process maps). */
function evict(path: string): void {
  const code = `import os\nfd = os.open(${JSON.stringify(path)}, os.O_RDONLY)\nos.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)\nos.close(fd)`;
  const run = spawnSync('/usr/bin/python3', ['-c', code], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`could not drop ${path} from the page cache: ${run.stderr}`);
}

/** Resident pages of a file in the page cache, in bytes (fincore from util-linux), or null. */
function cachedBytes(path: string): number | null {
  const run = spawnSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', path], { encoding: 'utf8' });
  return run.status === 0 ? Number(run.stdout.trim()) : null;
}

/** Step 4: one setting, cold then warm, in a fresh process. */
function stepCold(v: Values): void {
  const f = files(v.dir);
  const [nprobe, rerank] = v.setting.split(',').map(Number) as [number, number];
  const { qs, truth } = loadQueries(v);
  evict(f.index);
  const cachedAtStart = cachedBytes(f.index);
  // verify: false, or the checksum pass would read the whole file back into the page cache.
  const t = now();
  const ivf = IVFIndex.open(f.index, { codesOnly: true, verify: false });
  const openSeconds = now() - t;
  const cold = pass(ivf, qs, truth, nprobe, rerank);
  const afterCold = residentMemory();
  const cachedAfterCold = cachedBytes(f.index);
  const warm = pass(ivf, qs, truth, nprobe, rerank);
  console.log(JSON.stringify({ nprobe, rerank, openSeconds, cold, warm, afterCold, after: residentMemory(), cachedAtStart, cachedAfterCold }));
}

/** Runs one step of this script in a child process. */
function child(v: Values, step: Step, extra: string[] = []): string {
  const args = ['--import', tsx, new URL(import.meta.url).pathname, '--step', step, '--n', String(v.n), '--chunk', String(v.chunk)];
  args.push('--queries', String(v.queries), '--encoding', v.encoding, '--dir', v.dir, ...extra);
  const run = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 1 << 26 });
  if (run.status !== 0) throw new Error(`step ${step} failed (exit ${run.status}, signal ${run.signal})`);
  return run.stdout;
}

function fastestAt(points: readonly Point[], level: number): Point | null {
  let best: Point | null = null;
  for (const p of points) if (p.recall >= level && (best === null || p.qps > best.qps)) best = p;
  return best;
}

function main(): void {
  const v = parseCommand(COMMAND);
  if (process.argv.includes('--step')) {
    ({ data: stepData, build: stepBuild, sweep: stepSweep, cold: stepCold })[v.step](v);
    return;
  }
  const machine = machineInfo();
  console.log(`semvec codes-only IVF at scale${v.quick ? ' (quick)' : ''}`);
  printMachine(machine);
  console.log(`  load      ${loadText()} (1, 5, 15 min averages at start)`);
  console.log(`  params    N ${fmtInt(v.n)} x ${DIM}, hard mixture, cosine; ${v.encoding}; nlist ${fmtInt(suggestNlist(v.n))}; ${fmtInt(v.queries)} queries; chunks of ${fmtInt(v.chunk)}`);
  console.log(`  dir       ${v.dir}`);
  const f = files(v.dir);
  const stamp = join(v.dir, 'params.json');
  const params = JSON.stringify({ n: v.n, chunk: v.chunk, queries: v.queries, encoding: v.encoding });
  const dataStamp = join(v.dir, 'data-params.json');
  const dataParams = JSON.stringify({ n: v.n, chunk: v.chunk, queries: v.queries });
  const reuse = existsSync(stamp) && readFileSync(stamp, 'utf8') === params && existsSync(f.build);
  if (!reuse) {
    const reuseData = existsSync(dataStamp) && readFileSync(dataStamp, 'utf8') === dataParams && existsSync(f.data);
    if (!reuseData) {
      removeFiles(v.dir);
      mkdirSync(v.dir, { recursive: true });
      const t = now();
      child(v, 'data');
      console.log(`  data      ${fmt(now() - t, 0)} s (generate, write and exact top ${K} by chunks)`);
      writeFileSync(dataStamp, dataParams);
    } else console.log('  reusing   the floats file and ground truth of an earlier run with the same parameters');
    child(v, 'build');
    rmSync(f.data); // the index file holds the floats from here on
    rmSync(dataStamp);
    writeFileSync(stamp, params);
  } else console.log('  reusing   data and index from an earlier run with the same parameters');
  const truthInfo = JSON.parse(readFileSync(f.truth, 'utf8')) as { generateSeconds: number; exactSeconds: number };
  const build = JSON.parse(readFileSync(f.build, 'utf8')) as {
    nlist: number; trainRows: number; trainSeconds: number; addSeconds: number; readSeconds: number; saveSeconds: number; inMemoryBytes: number; peakRss: number; fileBytes: number;
  };
  child(v, 'sweep');
  const sweep = JSON.parse(readFileSync(f.sweep, 'utf8')) as {
    openSeconds: number; before: ReturnType<typeof residentMemory>; opened: ReturnType<typeof residentMemory>; after: ReturnType<typeof residentMemory>;
    parts: Record<string, number>; memoryUsage: number; points: Point[];
  };
  const colds = LEVELS.map((level) => {
    const at = fastestAt(sweep.points, level);
    if (at === null) return null;
    progress(`cold: nprobe ${at.nprobe}, rerank ${at.rerank} (recall ${fmt(at.recall, 3)} warm)`);
    return JSON.parse(child(v, 'cold', ['--setting', `${at.nprobe},${at.rerank}`]).trim().split('\n').pop()!) as {
      nprobe: number; rerank: number; openSeconds: number; cold: Point; warm: Point; afterCold: ReturnType<typeof residentMemory>; after: ReturnType<typeof residentMemory>;
      cachedAtStart: number | null; cachedAfterCold: number | null;
    };
  });

  const n = v.n;
  console.log(`\nBuild (${v.encoding}, nlist ${fmtInt(build.nlist)})`);
  console.log(
    table(
      ['step', 'seconds'],
      [
        [`train (k-means on ${fmtInt(build.trainRows)} rows)`, fmt(build.trainSeconds, 1)],
        [`add ${fmtInt(n)} (assign + encode + append)`, fmt(build.addSeconds, 1)],
        ['read chunks from the floats file', fmt(build.readSeconds, 1)],
        ['save', fmt(build.saveSeconds, 1)],
        ['build total (train + add)', fmt(build.trainSeconds + build.addSeconds, 1)],
      ],
    ),
  );
  console.log(`  (data step apart: generating ${fmt(truthInfo.generateSeconds, 0)} s, exact top ${K} ${fmt(truthInfo.exactSeconds, 0)} s)`);
  console.log(`  built in memory: ${fmtBytes(build.inMemoryBytes)} (${fmt(build.inMemoryBytes / n, 0)} B/vec, floats included); peak RSS ${fmtBytes(build.peakRss)}; index file ${fmtBytes(build.fileBytes)} (${fmt(build.fileBytes / n, 0)} B/vec)`);

  console.log('\nCodes-only, opened from the index file');
  const p = sweep.parts;
  console.log(
    table(
      ['part', 'bytes', 'B/vec'],
      [
        ...Object.entries(p).map(([name, bytes]) => [name, fmtBytes(bytes), fmt(bytes / n, 1)]),
        ['memoryUsage()', fmtBytes(sweep.memoryUsage), fmt(sweep.memoryUsage / n, 1)],
        ['process RSS after open (anon / file)', `${fmtBytes(sweep.opened.rss)} (${fmtBytes(sweep.opened.anon)} / ${fmtBytes(sweep.opened.file)})`, '-'],
        ['process RSS after the sweep (anon / file)', `${fmtBytes(sweep.after.rss)} (${fmtBytes(sweep.after.anon)} / ${fmtBytes(sweep.after.file)})`, '-'],
      ],
    ),
  );
  console.log(`  open: ${fmt(sweep.openSeconds, 1)} s (warm page cache, checksum verified: the whole file is read once)`);
  console.log('\nSweep, warm page cache (single queries, one by one)');
  console.log(table(['nprobe', 'rerank', 'recall@10', 'QPS'], sweep.points.map((x) => [String(x.nprobe), String(x.rerank), fmt(x.recall, 3), fmtQps(x.qps)])));
  console.log('\nCold against warm page cache at the fastest settings reaching 0.90 and 0.95');
  const rows: string[][] = [];
  LEVELS.forEach((level, i) => {
    const c = colds[i];
    if (!c) return rows.push([String(level), 'not reached', '-', '-', '-', '-', '-']);
    rows.push([
      String(level),
      `nprobe ${c.nprobe}, rerank ${c.rerank}`,
      fmt(c.openSeconds, 1),
      `${fmtQps(c.cold.qps)} (${fmt(c.cold.recall, 3)})`,
      `${fmtQps(c.warm.qps)} (${fmt(c.warm.recall, 3)})`,
      c.cachedAfterCold === null ? '-' : fmtBytes(c.cachedAfterCold),
      `${fmtBytes(c.after.rss)} (${fmtBytes(c.after.anon)} / ${fmtBytes(c.after.file)})`,
    ]);
  });
  console.log(table(['recall', 'setting', 'cold open s (no verify)', 'QPS cold (recall)', 'QPS warm (recall)', 'file cached after cold pass', 'RSS (anon / file)'], rows));
  console.log(`\n  load      ${loadText(os.loadavg())} (1, 5, 15 min averages at the end)`);
  writeJson(v.out, { benchmark: 'semvec codes-only IVF at scale (bench/codes-scale.ts)', machine, n, encoding: v.encoding, build, truth: truthInfo, sweep, cold: colds });
  console.log(`\nResults written to ${v.out}`);
  if (!v.keep) removeFiles(v.dir);
}

await runMain(COMMAND.script, main);
