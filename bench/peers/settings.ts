/**
 * bench/peers/settings.ts: the settings bench:peers holds every library to
 * (k, HNSW parameters, the ef sweep, k-means settings), its targets and its
 * parameters.
 */
import type { DataName } from './driver.js';

export const K = 10;
/**
 * The ef sweep of every graph index, in steps of about sqrt 2: the fastest
 * setting reaching a recall level is judged on this grid, and with steps of
 * 2 a library that fell just short at one ef was judged at twice that.
 */
export const EFS = [10, 14, 20, 28, 40, 56, 80, 112, 160, 224, 320, 448, 640, 896, 1280, 1792, 2560] as const;
/**
 * The graph's settings with its partition (`'ef E nprobe P'`, GraphIndex's
 * nprobe): for data a walk alone cannot navigate (the hard mixture at 1M),
 * swept after EFS.
 */
export const GRAPH_PROBES = [
  '64 nprobe 16',
  '64 nprobe 32',
  '64 nprobe 48',
  '128 nprobe 64',
  '256 nprobe 128',
  '512 nprobe 256',
  '1024 nprobe 512',
  '1024 nprobe 768',
  '1024 nprobe 1024',
  '2048 nprobe 2048',
] as const;
export const HNSW_M = 16;
/** FAISS's IndexHNSWFlat is built with M = 32 (its common setting for 384-d text embeddings). */
export const FAISS_HNSW_M = 32;
export const HNSW_EF_CONSTRUCTION = 128;
export const RECALL_LEVELS = [0.9, 0.95, 0.99] as const;
/** Untimed calls before each run of single queries. */
export const WARMUP_CALLS = 3;
/** k-means settings of all three libraries: faiss.Kmeans's defaults; random init, as FAISS has no other. */
export const KMEANS = { iterations: 25, maxPointsPerCentroid: 256, seed: 1234, init: 'random' } as const;

/** Targets, judged from the measured numbers (exact: hard data; approximate: hard data at N). */
export const TARGETS = {
  exactBatchOverFaiss: 3, // semvec exact batch QPS >= 3x FAISS ...
  exactBatchOverUsearch: 2, // ... and >= 2x usearch
  exactSingleOverBestPeer: 1.3, // exact single-query latency 1.3x lower than the best peer's
  recall: 0.95, // at recall@10 >= this, semvec IVF single-query QPS ...
  ivfOverFaissIvf: 1.5, // ... >= 1.5x FAISS IVF's ...
  ivfOverBestHnsw: 1, // ... and >= the best HNSW peer's
  hnswBuildOverIvfBuild: 10, // semvec IVF build <= 1/10 of each HNSW build
  graphRecalls: [0.95, 0.99], // on every data set, at each of these recall@10 levels, semvec Graph's ...
  graphSingleOverBestPeer: 1.5, // ... single-query QPS >= 1.5x the best peer's ...
  // ... and batch QPS >= the best peer's
  graphBuildOverIvf: 3, // semvec Graph build <= 3x semvec IVF build (train + add)
} as const;

/** Every approximate index the benchmark can build; semvec IVF, the reference of the build ratios, always runs. */
export const APPROX_INDEXES = [
  'semvec IVF',
  'semvec IVF-SQ8',
  'semvec IVF-RQ4',
  'semvec Graph',
  'FAISS IVF',
  'FAISS HNSW',
  'usearch HNSW',
  'hnswlib HNSW',
] as const;
export type ApproxIndexName = (typeof APPROX_INDEXES)[number];

/** The libraries whose indexes are compared. */
export type Lib = 'semvec' | 'faiss' | 'usearch' | 'hnswlib';

export interface Params {
  n: number;
  dim: number;
  queries: number;
  single: number;
  reps: number;
  difficulties: DataName[];
  /** The approximate indexes to build (always with semvec IVF). */
  indexes: ApproxIndexName[];
  approximate: boolean;
  kmeans: boolean;
  kmeansK: number;
  kmeansN: number;
  out: string;
  md: string;
  svgDir: string;
  quick: boolean;
}
