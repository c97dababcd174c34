/**
 * bench/open/measure.ts: for one index file, the time to load it and to
 * open (map) it with and without verification, warm and cold; whether the
 * mapped index searches exactly as the loaded one; and what readers in
 * other processes cost (bench/open/memory.ts).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';

import { FlatIndex, IVFIndex, type SearchResult } from '../../src/index.js';
import { BenchError } from '../lib/args.js';
import { fmtBytes, progress } from '../lib/format.js';
import { collectGarbage } from '../lib/machine.js';
import { median, timed } from '../lib/timing.js';
import { measureReaders, type GroupMemory } from './memory.js';

export type Kind = 'flat' | 'ivf';
export type Way = 'load' | 'open verify' | 'open no verify';
export const WAYS: readonly Way[] = ['load', 'open verify', 'open no verify'];

export interface Params {
  n: number;
  dim: number;
  queries: number;
  k: number;
  readers: number;
  warmReps: Record<Way, number>;
  coldReps: number;
  tmp: string;
  keep: boolean;
  out: string;
  quick: boolean;
}

/** Times of one way of opening, in ms. */
export interface WayTimes {
  warmMs: number[];
  warmMedianMs: number;
  /** The first search (k 10, one query) right after opening, warm, median over the warm repetitions. */
  firstSearchMedianMs: number;
  /** Each after the file's pages were evicted from the page cache; empty when eviction failed. */
  coldMs: number[];
  coldMedianMs: number | null;
  /** The first search after each cold open. */
  coldFirstSearchMs: number[];
}

export interface FileResult {
  name: string;
  kind: Kind;
  path: string;
  bytes: number;
  times: Record<Way, WayTimes>;
  /** (open verify - open no verify) warm medians, per 1e9 bytes of file. */
  verifyMsPerGB: number;
  verifyColdMsPerGB: number | null;
  /** Bytes of file per second the warm verification goes through. */
  verifyGBps: number;
  /** Searches of the mapped index (verified and not) against the loaded one's: ids and scores, bit for bit. */
  identical: { queries: number; k: number; equal: boolean; nprobe: number | null };
  mappedBytes: number;
  loadedMemoryUsage: number;
  mappedMemoryUsage: number;
  memory: { open: GroupMemory; load: GroupMemory } | null;
  coldNote: string;
}

function openWith(kind: Kind, way: Way, path: string): FlatIndex | IVFIndex {
  if (kind === 'flat') return way === 'load' ? FlatIndex.load(path) : FlatIndex.open(path, { verify: way === 'open verify' });
  return way === 'load' ? IVFIndex.load(path) : IVFIndex.open(path, { verify: way === 'open verify' });
}

function sameResults(a: SearchResult[], b: SearchResult[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((r, i) => {
    const s = b[i]!;
    return (
      r.ids.length === s.ids.length &&
      r.ids.every((id, j) => Object.is(id, s.ids[j])) &&
      r.scores.every((x, j) => Object.is(x, s.scores[j]))
    );
  });
}

/** Whether this process maps the file (a mapped index not yet finalised). */
function mapsFile(path: string): boolean {
  return readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .some((line) => line.endsWith(` ${path}`));
}

/**
 * Frees the indexes no longer referenced: a full collection, then a turn of
 * the event loop, where their finalisers unmap the files and free the loaded
 * copies; repeated until this process maps `path` no more.
 */
export async function release(path: string): Promise<void> {
  for (let i = 0; i < 10; i++) {
    collectGarbage();
    await nextTurn();
    if (!mapsFile(path)) return;
  }
  throw new BenchError(`${path} is still mapped by this process after 10 collections`);
}

/** Bytes of the file resident in the page cache (util-linux fincore), or null without fincore. */
export function residentBytes(path: string): number | null {
  const r = spawnSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', path], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  return Number(r.stdout.trim());
}

/**
 * Evicts the file's pages from the page cache: posix_fadvise(DONTNEED) over
 * the whole file (GNU dd iflag=nocache count=0), which drops this file's
 * clean pages that no process maps and leaves the rest of the machine's
 * cache alone. Returns the bytes still resident after (null: not known).
 */
export async function evict(path: string): Promise<number | null> {
  await release(path);
  spawnSync('dd', [`if=${path}`, 'iflag=nocache', 'count=0', 'status=none']);
  return residentBytes(path);
}

interface Once {
  ms: number;
  firstSearchMs: number;
}

/** One timed open (or load), then the first search on it, timed; the index is dropped on return. */
function timeOnce(kind: Kind, way: Way, path: string, query: Float32Array): Once {
  const t = timed(() => openWith(kind, way, path));
  const s = timed(() => t.value.search(query, 10));
  return { ms: t.seconds * 1e3, firstSearchMs: s.seconds * 1e3 };
}

/** {@link timeOnce}, then the index released (a local of an async function would outlive its awaits). */
async function timeWay(kind: Kind, way: Way, path: string, query: Float32Array): Promise<Once> {
  const r = timeOnce(kind, way, path, query);
  await release(path);
  return r;
}

type Check = Pick<FileResult, 'identical' | 'mappedBytes' | 'loadedMemoryUsage' | 'mappedMemoryUsage'>;

/** Searches of the mapped index, verified and not, against the loaded one's. */
function checkIdentical(kind: Kind, path: string, queries: Float32Array, p: Params): Check {
  const loaded = openWith(kind, 'load', path);
  const mappedVerified = openWith(kind, 'open verify', path);
  const mapped = openWith(kind, 'open no verify', path);
  const truth = loaded.searchBatch(queries, p.k);
  const equal = sameResults(truth, mapped.searchBatch(queries, p.k)) && sameResults(truth, mappedVerified.searchBatch(queries, p.k));
  return {
    identical: { queries: queries.length / p.dim, k: p.k, equal, nprobe: loaded instanceof IVFIndex ? loaded.nprobe : null },
    mappedBytes: mapped.mappedBytes(),
    loadedMemoryUsage: loaded.memoryUsage(),
    mappedMemoryUsage: mapped.memoryUsage(),
  };
}

/** Everything bench:open measures on one saved index file. */
export async function measureFile(p: Params, name: string, kind: Kind, path: string, queries: Float32Array): Promise<FileResult> {
  const bytes = statSync(path).size;
  const query = queries.subarray(0, p.dim);

  progress(`${name}: searches of the mapped index against the loaded one`);
  const check = checkIdentical(kind, path, queries, p);
  await release(path);

  const times = {} as Record<Way, WayTimes>;
  for (const way of WAYS) {
    progress(`${name}: ${way}, warm, ${p.warmReps[way]} times`);
    await timeWay(kind, way, path, query); // warm-up: page cache, code paths
    const runs: Once[] = [];
    for (let r = 0; r < p.warmReps[way]; r++) runs.push(await timeWay(kind, way, path, query));
    const warmMs = runs.map((r) => r.ms);
    times[way] = {
      warmMs,
      warmMedianMs: median(warmMs),
      firstSearchMedianMs: median(runs.map((r) => r.firstSearchMs)),
      coldMs: [],
      coldMedianMs: null,
      coldFirstSearchMs: [],
    };
  }

  let coldNote = '';
  if (p.coldReps > 0) {
    const left = await evict(path);
    if (left === null) coldNote = 'cold not measured: fincore (util-linux) is missing, so eviction cannot be checked';
    else if (left > bytes * 0.01) coldNote = `cold not measured: ${fmtBytes(left)} of the file stayed in the page cache after eviction`;
    else {
      for (let r = 0; r < p.coldReps; r++) {
        for (const way of WAYS) {
          progress(`${name}: ${way}, cold, ${r + 1} of ${p.coldReps}`);
          const still = await evict(path);
          if (still === null || still > bytes * 0.01) continue;
          const t = await timeWay(kind, way, path, query);
          times[way].coldMs.push(t.ms);
          times[way].coldFirstSearchMs.push(t.firstSearchMs);
        }
      }
      for (const way of WAYS) times[way].coldMedianMs = times[way].coldMs.length > 0 ? median(times[way].coldMs) : null;
      coldNote =
        "cold: before each call the file's pages were evicted from the page cache (posix_fadvise DONTNEED via dd iflag=nocache; " +
        'fincore confirmed under 1% resident); the disk is a VM disk, which the host may cache';
    }
  }

  let memory: FileResult['memory'] = null;
  if (p.readers > 0) {
    await release(path); // this process must not map the file: it would take a share of the pages
    progress(`${name}: ${p.readers} readers that open the file, then ${p.readers} that load it`);
    const open = await measureReaders(path, kind, 'open', p.readers);
    const load = await measureReaders(path, kind, 'load', p.readers);
    memory = { open, load };
  }

  const gb = bytes / 1e9;
  const verifyMs = times['open verify'].warmMedianMs - times['open no verify'].warmMedianMs;
  const cv = times['open verify'].coldMedianMs;
  const cn = times['open no verify'].coldMedianMs;
  return {
    name,
    kind,
    path,
    bytes,
    times,
    verifyMsPerGB: verifyMs / gb,
    verifyColdMsPerGB: cv !== null && cn !== null ? (cv - cn) / gb : null,
    verifyGBps: gb / (verifyMs / 1e3),
    ...check,
    memory,
    coldNote,
  };
}
