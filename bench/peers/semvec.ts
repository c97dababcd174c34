/**
 * bench/peers/semvec.ts: semvec's driver. FlatIndex for exact search,
 * IVFIndex (one curve per entry of SEMVEC_IVF, IVF defaults, nlist =
 * suggestNlist(N)) and GraphIndex (its defaults, swept over ef) for
 * approximate search, kmeans for k-means.
 */
import { join } from 'node:path';

import { FlatIndex, GRAPH_DEFAULTS, GraphIndex, IVF_TRAINING_DEFAULTS, IVFIndex, kmeans } from '../../src/index.js';
import type { GraphSearchOptions, IVFIndexOptions, IVFSearchOptions } from '../../src/index.js';
import { progress } from '../lib/format.js';
import { timed } from '../lib/timing.js';
import { footprintOf, nprobeSweep, timeSingles, type ApproxBuild, type ApproxIndex, type BuildContext, type Dataset, type PeerDriver, type SettingValue } from './driver.js';
import { EFS, GRAPH_PROBES, K, KMEANS, type ApproxIndexName } from './settings.js';

/** One semvec IVF curve of the approximate comparison. */
interface SemvecIvfConfig {
  label: ApproxIndexName;
  /** IVFIndex options besides dim, metric and nlist (which the benchmark sets). */
  options: Omit<IVFIndexOptions, 'dim' | 'metric' | 'nlist'>;
  /** Options of every search call besides nprobe (which the sweep sets). */
  search?: Omit<IVFSearchOptions, 'nprobe'>;
}

/** The semvec IVF configurations swept against the peers: one line each. */
export const SEMVEC_IVF: readonly SemvecIvfConfig[] = [
  { label: 'semvec IVF', options: {} },
  { label: 'semvec IVF-SQ8', options: { encoding: 'sq8' } },
  { label: 'semvec IVF-RQ4', options: { encoding: 'rq4', rerank: 128 } },
];

function semvecIvf(config: SemvecIvfConfig, set: Dataset, { nlist, tmp }: BuildContext): ApproxIndex {
  progress(`${set.difficulty}: ${config.label} build (nlist ${nlist})`);
  const ivf = new IVFIndex({ ...config.options, dim: set.dim, metric: 'ip', nlist });
  const train = timed(() => ivf.train(set.data));
  const add = timed(() => ivf.add(set.data));
  const training = { ...IVF_TRAINING_DEFAULTS, ...config.options.training };
  const extra = [
    Object.keys(config.options).length > 0 ? `options ${JSON.stringify(config.options)}` : '',
    config.search ? `search ${JSON.stringify(config.search)}` : '',
  ].filter((s) => s !== '');
  const search = (nprobe: number): IVFSearchOptions => ({ ...config.search, nprobe });
  const file = join(tmp, 'semvec-ivf.svx');
  const footprint = footprintOf(file, ivf.memoryUsage(), () => ivf.save(file), () => IVFIndex.load(file).close());
  return {
    label: config.label,
    lib: 'semvec',
    method: `IVFIndex nlist ${nlist} (${training.iterations} iterations, <= ${training.maxPointsPerCentroid} points/centroid)${extra.length > 0 ? `, ${extra.join(', ')}` : ''}`,
    setting: 'nprobe',
    values: nprobeSweep(nlist),
    buildSeconds: train.seconds + add.seconds,
    buildDetail: { trainSeconds: train.seconds, addSeconds: add.seconds },
    footprint,
    batch: async (nprobe) => timed(() => ivf.searchBatch(set.queries, K, search(nprobe))),
    single: async (nprobe, count) => timeSingles(count, (i) => ivf.search(set.qs[i]!, K, search(nprobe))),
    free: async () => ivf.close(),
  };
}

/** A graph setting: ef alone (a walk), or `'<ef> nprobe <nprobe>'` (the partition's best groups start the walk). */
function graphSearch(value: SettingValue): GraphSearchOptions {
  if (typeof value === 'number') return { ef: value };
  const m = /^(\d+) nprobe (\d+)$/.exec(value);
  if (!m) throw new Error(`not a graph setting: ${value}`);
  return { ef: Number(m[1]), nprobe: Number(m[2]) };
}

/**
 * semvec's GraphIndex with its defaults (built on all cores), swept over ef
 * and over GRAPH_PROBES; its build time includes training the partition
 * that nprobe searches use.
 */
function semvecGraph(set: Dataset, { tmp }: BuildContext): ApproxIndex<SettingValue> {
  const { degree, buildEf, alpha, rerank } = GRAPH_DEFAULTS;
  progress(`${set.difficulty}: semvec Graph build (degree ${degree}, buildEf ${buildEf}, all cores, then its partition)`);
  const graph = new GraphIndex({ dim: set.dim, metric: 'ip' });
  const add = timed(() => graph.add(set.data));
  // The first search with nprobe trains the partition.
  const partition = timed(() => graph.search(set.qs[0]!, 1, { nprobe: 1 }));
  const file = join(tmp, 'semvec-graph.svx');
  const footprint = footprintOf(file, graph.memoryUsage(), () => graph.save(file), () => GraphIndex.load(file).close());
  return {
    label: 'semvec Graph',
    lib: 'semvec',
    method: `GraphIndex degree ${degree}, buildEf ${buildEf}, alpha ${alpha}, rerank ${rerank} (8-bit codes, exact re-ranking); 'ef E nprobe P': the walk also starts from the P best groups of its k-means partition`,
    setting: 'ef',
    values: [...EFS, ...GRAPH_PROBES],
    buildSeconds: add.seconds + partition.seconds,
    buildDetail: { addSeconds: add.seconds, partitionSeconds: partition.seconds },
    footprint,
    batch: async (value) => timed(() => graph.searchBatch(set.queries, K, graphSearch(value))),
    single: async (value, count) => {
      const options = graphSearch(value);
      return timeSingles(count, (i) => graph.search(set.qs[i]!, K, options));
    },
    filtered: (allowIds, ef) => timed(() => graph.searchBatch(set.queries, K, { allowIds, ef })),
    free: async () => graph.close(),
  };
}

export function semvecDriver(): PeerDriver {
  return {
    lib: 'semvec',
    runs: 'in-process',
    versions: () => ({}),
    exact(set) {
      let flat = new FlatIndex({ dim: set.dim, metric: 'ip' });
      return {
        lib: 'semvec',
        call: { ingest: 'FlatIndex.add(Float32Array)', single: 'search', batch: 'searchBatch' },
        ingest: async () => {
          flat = new FlatIndex({ dim: set.dim, metric: 'ip' });
          return { seconds: timed(() => flat.add(set.data)).seconds, conversionSeconds: null };
        },
        single: async (count) => timeSingles(count, (i) => flat.search(set.qs[i]!, K)),
        batch: async () => timed(() => flat.searchBatch(set.queries, K)),
      };
    },
    approximate: (set, at): ApproxBuild[] => [
      ...SEMVEC_IVF.map((config) => ({ label: config.label, build: async () => semvecIvf(config, set, at) })),
      { label: 'semvec Graph', build: async () => semvecGraph(set, at) },
    ],
    kmeans: (set, n, k) => [
      {
        lib: 'semvec',
        call: `kmeans({ k: ${k}, iterations: ${KMEANS.iterations}, maxPointsPerCentroid: ${KMEANS.maxPointsPerCentroid}, init: '${KMEANS.init}' })`,
        run: async () => {
          const points = set.rows.subarray(0, n * set.dim);
          const s = timed(() => kmeans(points, { k, dim: set.dim, ...KMEANS }));
          const { iterations, trainingPoints, inertia, centroids } = s.value;
          return { seconds: s.seconds, iterations, trainingPoints, ownInertia: inertia, centroids };
        },
      },
    ],
  };
}
