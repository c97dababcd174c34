/**
 * bench/peers/usearch.ts: the usearch driver (npm, prebuilt, run-time SIMD
 * dispatch). exactSearch() for exact search (no index: it scans the raw
 * Float32Array), Index (HNSW) for approximate search; threads = 0 (its
 * automatic choice) everywhere. It has no ef setter: one build, saved once
 * and viewed (memory-mapped) by one Index per expansion_search.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';

import usearch from 'usearch';

import { progress } from '../lib/format.js';
import { timed } from '../lib/timing.js';
import { footprintOf, idRows, packageVersion, timeSingles, type ApproxIndex, type Dataset, type PeerDriver } from './driver.js';
import { EFS, HNSW_EF_CONSTRUCTION, HNSW_M, K } from './settings.js';

function usearchHnsw(set: Dataset, tmp: string): ApproxIndex {
  progress(`${set.difficulty}: usearch HNSW build (M ${HNSW_M}, efConstruction ${HNSW_EF_CONSTRUCTION}, threads auto)`);
  const config = (ef: number) => ({
    dimensions: set.dim,
    metric: usearch.MetricKind.IP,
    quantization: usearch.ScalarKind.F32,
    connectivity: HNSW_M,
    expansion_add: HNSW_EF_CONSTRUCTION,
    expansion_search: ef,
    multi: false,
  });
  const file = join(tmp, `hnsw-${set.difficulty}.usearch`);
  // Built, measured and saved in a scope of its own: the searches use views of
  // the file, and the built index goes before they run.
  const { build, footprint } = (() => {
    const keys = new BigUint64Array(set.n);
    for (let i = 0; i < set.n; i++) keys[i] = BigInt(i);
    const built = new usearch.Index(config(EFS[0]));
    const build = timed(() => built.add(keys, set.data, 0));
    const footprint = footprintOf(file, null, () => built.save(file), () => new usearch.Index(config(EFS[0])).load(file));
    built.save(file);
    return { build, footprint };
  })();
  // One index per ef, all views of one memory-mapped file (no copies: at 1M
  // eight loaded copies would not fit in memory beside the other indexes).
  const byEf = new Map<number, InstanceType<typeof usearch.Index>>(
    EFS.map((ef) => {
      const u = new usearch.Index(config(ef));
      u.view(file);
      return [ef, u] as const;
    }),
  );
  return {
    label: 'usearch HNSW',
    lib: 'usearch',
    method: `Index HNSW connectivity ${HNSW_M}, expansion_add ${HNSW_EF_CONSTRUCTION}, f32`,
    setting: 'ef',
    values: EFS,
    buildSeconds: build.seconds,
    buildDetail: { addSeconds: build.seconds },
    footprint,
    batch: async (ef) => {
      const t = timed(() => byEf.get(ef)!.search(set.queries, K, 0));
      return { seconds: t.seconds, value: idRows(t.value.keys, set.qs.length) };
    },
    single: async (ef, count) => {
      const u = byEf.get(ef)!;
      return timeSingles(count, (i) => u.search(set.qs[i]!, K, 0));
    },
    // The views go with their last reference; the mapped file's space with the last view.
    free: async () => {
      byEf.clear();
      rmSync(file, { force: true });
    },
  };
}

export function usearchDriver(): PeerDriver {
  return {
    lib: 'usearch',
    runs: 'in-process',
    versions: () => ({ usearch: packageVersion('usearch') }),
    exact(set) {
      const search = (q: Float32Array) => usearch.exactSearch(set.data, q, set.dim, K, usearch.MetricKind.IP, 0);
      return {
        lib: 'usearch',
        call: { ingest: 'none (exactSearch scans the array)', single: 'exactSearch (1 query)', batch: 'exactSearch (all queries)' },
        ingest: null,
        single: async (count) => timeSingles(count, (i) => search(set.qs[i]!)),
        batch: async () => {
          const t = timed(() => search(set.queries));
          return { seconds: t.seconds, value: idRows(t.value.keys, set.qs.length) };
        },
      };
    },
    approximate: (set, { tmp }) => [{ label: 'usearch HNSW', build: async () => usearchHnsw(set, tmp) }],
  };
}
