/**
 * bench/peers/faiss.ts: the FAISS driver (and scikit-learn's k-means),
 * through bench/peers_faiss.py under /usr/bin/python3: a line protocol, one
 * JSON command per line and one JSON answer per line. The subprocess reads
 * the vectors and queries from the .f32 files the benchmark writes, times its
 * own calls (time.perf_counter; the pipe is not timed) and writes result ids
 * and centroids to files. IndexFlatIP for exact search, IndexIVFFlat for
 * approximate search, faiss.Kmeans and sklearn KMeans for k-means.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { IVF_TRAINING_DEFAULTS } from '../../src/index.js';
import type { ResultIds } from '../../src/index.js';
import { progress } from '../lib/format.js';
import type { Timed } from '../lib/timing.js';
import { idRows, nprobeSweep, type ApproxBuild, type ApproxIndex, type BuildContext, type Dataset, type KMeansRun, type PeerDriver } from './driver.js';
import { EFS, FAISS_HNSW_M, HNSW_EF_CONSTRUCTION, KMEANS } from './settings.js';

export const PYTHON = '/usr/bin/python3';
export const SETUP_COMMAND = 'sh bench/setup-peers.sh   # apt-get install python3-faiss python3-numpy python3-sklearn';
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', 'peers_faiss.py');

/** Whether /usr/bin/python3 can import faiss and numpy (no install, ever). */
export function faissAvailable(): boolean {
  const r = spawnSync(PYTHON, ['-c', 'import faiss, numpy'], { encoding: 'utf8' });
  return r.status === 0;
}

function readIds(path: string, rows: number): ResultIds[] {
  const buf = readFileSync(path);
  return idRows(new BigInt64Array(buf.buffer, buf.byteOffset, buf.byteLength / 8), rows);
}

function readF32(path: string): Float32Array {
  const buf = readFileSync(path);
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

/** The subprocess (bench/peers_faiss.py), one JSON line per command. */
class FaissProcess {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #pending: ((line: string) => void)[] = [];
  readonly #idsPath: string;
  #queries = 0;

  constructor(tmp: string) {
    this.#idsPath = join(tmp, 'ids.i64');
    this.#child = spawn(PYTHON, [SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child.stderr.on('data', (d: Buffer) => process.stderr.write(`  [faiss] ${d.toString()}`));
    createInterface({ input: this.#child.stdout }).on('line', (line) => this.#pending.shift()?.(line));
  }

  async call<T>(cmd: Record<string, unknown>): Promise<T> {
    const line = await new Promise<string>((ok) => {
      this.#pending.push(ok);
      this.#child.stdin.write(`${JSON.stringify(cmd)}\n`);
    });
    const reply = JSON.parse(line) as T & { error?: string };
    if (reply.error !== undefined) throw new Error(`faiss ${String(cmd.cmd)}: ${reply.error}`);
    return reply;
  }

  /** Loads the first n rows of the data set and its queries (for later builds and searches). */
  async load(set: Dataset): Promise<void> {
    const r = await this.call<{ nq: number }>({ cmd: 'load', data: set.rowsFile, queries: set.queriesFile, dim: set.dim, rows: set.n });
    this.#queries = r.nq;
  }

  /** Seconds per call of `count` single-query searches (after a warm-up). */
  async single(index: 'flat' | 'ivf' | 'hnsw', count: number, nprobe?: number): Promise<number[]> {
    return (await this.call<{ times: number[] }>({ cmd: 'single', index, count, nprobe, out: this.#idsPath })).times;
  }

  /** One search of all queries. */
  async batch(index: 'flat' | 'ivf' | 'hnsw', nprobe?: number): Promise<Timed<ResultIds[]>> {
    const r = await this.call<{ seconds: number }>({ cmd: 'batch', index, nprobe, out: this.#idsPath });
    return { seconds: r.seconds, value: readIds(this.#idsPath, this.#queries) };
  }

  async quit(): Promise<void> {
    await this.call({ cmd: 'quit' });
    this.#child.stdin.end();
  }
}

interface Info {
  faiss: string;
  compileOptions: string;
  ompThreads: number;
  numpy: string;
  sklearn: string | null;
}

async function faissIvf(faiss: FaissProcess, set: Dataset, { nlist, tmp }: BuildContext): Promise<ApproxIndex> {
  progress(`${set.difficulty}: FAISS IVFFlat build (nlist ${nlist})`);
  const { iterations, maxPointsPerCentroid } = IVF_TRAINING_DEFAULTS;
  const b = await faiss.call<{ trainSeconds: number; addSeconds: number }>({ cmd: 'ivf_build', nlist, niter: iterations, maxPointsPerCentroid });
  const file = join(tmp, 'faiss-ivf.index');
  // FAISS has no memory counter: the serialised size stands in for it.
  const io = await faiss.call<{ saveSeconds: number; loadSeconds: number; fileBytes: number }>({ cmd: 'ivf_io', path: file });
  rmSync(file, { force: true });
  return {
    label: 'FAISS IVF',
    lib: 'faiss',
    method: `IndexIVFFlat nlist ${nlist} (niter ${iterations}, max_points_per_centroid ${maxPointsPerCentroid})`,
    setting: 'nprobe',
    values: nprobeSweep(nlist),
    buildSeconds: b.trainSeconds + b.addSeconds,
    buildDetail: b,
    footprint: { memoryBytes: io.fileBytes, memorySource: 'file size', ...io },
    batch: (nprobe) => faiss.batch('ivf', nprobe),
    single: (nprobe, count) => faiss.single('ivf', count, nprobe),
    free: async () => void (await faiss.call({ cmd: 'drop', index: 'ivf' })),
  };
}

/** IndexHNSWFlat (M = FAISS_HNSW_M, efConstruction HNSW_EF_CONSTRUCTION), built on every OpenMP thread, swept over efSearch. */
async function faissHnsw(faiss: FaissProcess, set: Dataset, { tmp }: BuildContext): Promise<ApproxIndex> {
  progress(`${set.difficulty}: FAISS HNSW build (M ${FAISS_HNSW_M}, efConstruction ${HNSW_EF_CONSTRUCTION})`);
  const b = await faiss.call<{ addSeconds: number }>({ cmd: 'hnsw_build', m: FAISS_HNSW_M, efConstruction: HNSW_EF_CONSTRUCTION });
  const file = join(tmp, 'faiss-hnsw.index');
  const io = await faiss.call<{ saveSeconds: number; loadSeconds: number; fileBytes: number }>({ cmd: 'hnsw_io', path: file });
  rmSync(file, { force: true });
  return {
    label: 'FAISS HNSW',
    lib: 'faiss',
    method: `IndexHNSWFlat M ${FAISS_HNSW_M}, efConstruction ${HNSW_EF_CONSTRUCTION}`,
    setting: 'ef',
    values: EFS,
    buildSeconds: b.addSeconds,
    buildDetail: b,
    footprint: { memoryBytes: io.fileBytes, memorySource: 'file size', ...io },
    batch: (ef) => faiss.batch('hnsw', ef),
    single: (ef, count) => faiss.single('hnsw', count, ef),
    free: async () => void (await faiss.call({ cmd: 'drop', index: 'hnsw' })),
  };
}

/** faiss.Kmeans, and sklearn KMeans when installed, in the subprocess; centroids come back as a file. */
function kmeansRuns(faiss: FaissProcess, info: Info, tmp: string, set: Dataset, n: number, k: number): KMeansRun[] {
  const calls = {
    faiss: `faiss.Kmeans(d, ${k}, niter=${KMEANS.iterations}, max_points_per_centroid=${KMEANS.maxPointsPerCentroid}).train`,
    sklearn: `KMeans(${k}, init='random', n_init=1, max_iter=${KMEANS.iterations}, tol=0, algorithm='lloyd').fit`,
  } as const;
  const libs: (keyof typeof calls)[] = info.sklearn === null ? ['faiss'] : ['faiss', 'sklearn'];
  return libs.map((lib) => ({
    lib,
    call: calls[lib],
    run: async () => {
      const out = join(tmp, `centroids-${lib}.f32`);
      const r = await faiss.call<{ seconds: number; iterations: number; trainingPoints: number; ownInertia: number }>({
        cmd: 'kmeans',
        lib,
        data: set.rowsFile,
        dim: set.dim,
        rows: n,
        k,
        niter: KMEANS.iterations,
        maxPointsPerCentroid: KMEANS.maxPointsPerCentroid,
        seed: KMEANS.seed,
        out,
      });
      return { ...r, centroids: readF32(out) };
    },
  }));
}

/** The FAISS driver, with its subprocess started and asked for its versions. */
export interface FaissDriver extends PeerDriver {
  /** Whether scikit-learn is there for its k-means. */
  readonly withSklearn: boolean;
  quit(): Promise<void>;
}

export async function startFaiss(tmp: string): Promise<FaissDriver> {
  const faiss = new FaissProcess(tmp);
  const info = await faiss.call<Info>({ cmd: 'info' });
  const versions: Record<string, string> = {
    faiss: `${info.faiss} (${info.compileOptions.trim()}, ${info.ompThreads} OpenMP threads, numpy ${info.numpy})`,
  };
  if (info.sklearn !== null) versions['scikit-learn'] = info.sklearn;
  return {
    lib: 'faiss',
    runs: 'subprocess',
    withSklearn: info.sklearn !== null,
    versions: () => versions,
    prepare: (set) => faiss.load(set),
    exact: () => ({
      lib: 'faiss',
      call: { ingest: 'IndexFlatIP.add(ndarray)', single: 'search (1 row)', batch: 'search (all rows)' },
      ingest: async () => ({ seconds: (await faiss.call<{ seconds: number }>({ cmd: 'flat_build' })).seconds, conversionSeconds: null }),
      single: (count) => faiss.single('flat', count),
      batch: () => faiss.batch('flat'),
    }),
    dropExact: async () => void (await faiss.call({ cmd: 'drop', index: 'flat' })),
    approximate: (set, at): ApproxBuild[] => [
      { label: 'FAISS IVF', build: () => faissIvf(faiss, set, at) },
      { label: 'FAISS HNSW', build: () => faissHnsw(faiss, set, at) },
    ],
    kmeans: (set, n, k) => kmeansRuns(faiss, info, tmp, set, n, k),
    quit: () => faiss.quit(),
  };
}
