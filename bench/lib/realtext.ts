/**
 * bench/lib/realtext.ts: the benchmarks' real-text vector set. Vectors with
 * the structure of text embeddings (latent semantic analysis of the
 * machine's manual pages and package documentation, 384-d, L2-normalised),
 * built once by bench/lib/realtext.py under Debian's /usr/bin/python3 and
 * cached in bench/.cache/realtext (gitignored). The stored rows are shuffled
 * by the builder, so the first n rows are a sample of the whole set at every
 * n; the queries are held-out paragraphs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchError } from './args.js';

const HERE = dirname(fileURLToPath(import.meta.url));
/** Where the built set is cached. */
export const REALTEXT_CACHE = join(HERE, '..', '.cache', 'realtext');
const BUILDER = join(HERE, 'realtext.py');

/** A real-text vector set: `count` rows and `nQueries` queries of `dim` components, row-major. */
export interface RealText {
  vectors: Float32Array;
  queries: Float32Array;
  dim: number;
  count: number;
  nQueries: number;
}

interface Meta {
  dim: number;
  count: number;
  queries: number;
}

function readMeta(dir: string): Meta | null {
  const path = join(dir, 'meta.json');
  if (!existsSync(path)) return null;
  return JSON.parse(readFileSync(path, 'utf8')) as Meta;
}

function readF32(path: string, floats: number): Float32Array {
  const buf = readFileSync(path);
  if (buf.byteLength < floats * 4) throw new BenchError(`${path} holds ${buf.byteLength} bytes, expected at least ${floats * 4}`);
  const out = new Float32Array(floats);
  out.set(new Float32Array(buf.buffer, buf.byteOffset, floats));
  return out;
}

/**
 * The first `n` rows of the real-text set and up to `nQueries` of its
 * held-out queries (all of them by default). Builds the set on first use
 * (a few minutes; needs python3-numpy and python3-sklearn, which
 * bench/setup-peers.sh installs).
 */
export function loadRealText(n: number, nQueries?: number, dir = REALTEXT_CACHE): RealText {
  let meta = readMeta(dir);
  if (!meta) {
    process.stderr.write(`building the real-text set in ${dir} (once; a few minutes)\n`);
    const run = spawnSync('/usr/bin/python3', [BUILDER, '--out', dir], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (run.status !== 0) throw new BenchError(`${BUILDER} failed (exit ${run.status}): run sh bench/setup-peers.sh to install python3-numpy and python3-sklearn`);
    meta = readMeta(dir);
    if (!meta) throw new BenchError(`${BUILDER} wrote no meta.json in ${dir}`);
  }
  if (!Number.isInteger(n) || n < 1 || n > meta.count) throw new BenchError(`the real-text set holds ${meta.count} vectors; asked for ${n}`);
  const q = nQueries === undefined ? meta.queries : Math.min(nQueries, meta.queries);
  return {
    vectors: readF32(join(dir, 'vectors.f32'), n * meta.dim),
    queries: readF32(join(dir, 'queries.f32'), q * meta.dim),
    dim: meta.dim,
    count: n,
    nQueries: q,
  };
}
