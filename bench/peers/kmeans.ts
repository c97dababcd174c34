/**
 * bench/peers/kmeans.ts: k-means against the peers, on the first `kmeans-n`
 * rows of the hard data: one run each with the same settings (KMEANS), the
 * wall time of the call, and the inertia computed here the same way for
 * every library from the centroids it returned.
 */
import { FlatIndex } from '../../src/index.js';
import type { DataName } from './driver.js';
import { fmt, fmtInt, fmtMs, progress } from '../lib/format.js';
import type { Report } from '../lib/report.js';
import type { Dataset, KMeansRun, PeerDriver } from './driver.js';
import { times } from './exact.js';
import { KMEANS, type Params } from './settings.js';

interface KMeansRow {
  lib: KMeansRun['lib'];
  call: string;
  seconds: number;
  iterations: number;
  trainingPoints: number;
  /** Sum over the rows of the squared L2 distance to the nearest returned centroid, computed here. */
  inertia: number;
  /** The library's own final objective (FAISS's is that of the last assignment, before the last update). */
  ownInertia: number;
}

export interface KMeansResult {
  difficulty: DataName;
  n: number;
  k: number;
  rows: KMeansRow[];
}

/** The same inertia for every library: nearest centroid by an exact FlatIndex, distances summed in float64. */
function inertiaOf(points: Float32Array, centroids: Float32Array, dim: number): number {
  const index = new FlatIndex({ dim, metric: 'l2' });
  index.add(centroids);
  let sum = 0;
  index.searchBatch(points, 1).forEach((r, i) => {
    const c = r.ids[0]! * dim;
    for (let j = 0; j < dim; j++) sum += (points[i * dim + j]! - centroids[c + j]!) ** 2;
  });
  return sum;
}

export async function runKMeans(p: Params, set: Dataset, drivers: readonly PeerDriver[]): Promise<KMeansResult> {
  const { dim } = set;
  const k = p.kmeansK;
  const points = set.rows.subarray(0, p.kmeansN * dim);
  const rows: KMeansRow[] = [];
  for (const run of drivers.flatMap((d) => d.kmeans?.(set, p.kmeansN, k) ?? [])) {
    progress(run.lib === 'semvec' ? `k-means: semvec (k ${k}, ${fmtInt(p.kmeansN)} rows)` : `k-means: ${run.lib}`);
    const { centroids, seconds, iterations, trainingPoints, ownInertia } = await run.run();
    rows.push({ lib: run.lib, call: run.call, seconds, iterations, trainingPoints, inertia: inertiaOf(points, centroids, dim), ownInertia });
  }
  return { difficulty: set.difficulty, n: p.kmeansN, k, rows };
}

export function printKMeans(report: Report, km: KMeansResult, p: Params): void {
  const semvec = km.rows[0]!;
  report.heading(`k-means, ${km.difficulty} data: k = ${fmtInt(km.k)} on ${fmtInt(km.n)} x ${p.dim} (one run each; semvec x = peer time / semvec time)`);
  report.table(
    ['library', 'time', 'semvec x', 'iterations', 'training points', 'inertia', 'inertia / semvec', 'call'],
    km.rows.map((r) => [
      r.lib,
      fmtMs(r.seconds * 1e3),
      times(r.seconds, semvec.seconds, r.lib === 'semvec'),
      String(r.iterations),
      fmtInt(r.trainingPoints),
      fmt(r.inertia, 1),
      fmt(r.inertia / semvec.inertia, 4),
      r.call,
    ]),
  );
  report.text(
    `Settings: faiss.Kmeans defaults for all (${KMEANS.iterations} iterations, seed ${KMEANS.seed}, <= ${KMEANS.maxPointsPerCentroid} training points per centroid), random init.`,
    'Inertia: sum over all rows of the squared L2 distance to the nearest returned centroid, computed here the same way for every library.',
  );
}
