/**
 * bench/peers/hnswlib.ts: the hnswlib-node driver (npm, built from source by
 * node-gyp at install). BruteforceSearch for exact search, HierarchicalNSW
 * for approximate search. Its API takes number[] per vector and has no batch
 * search: ingest pays the Float32Array -> number[] conversion (reported on
 * its own), queries are converted once up front, outside the timings, and its
 * "batch" is a loop of searchKnn (single-threaded).
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { fmt, fmtInt, progress } from '../lib/format.js';
import { now, timed } from '../lib/timing.js';
import { footprintOf, packageVersion, timeSingles, type ApproxIndex, type Dataset, type PeerDriver } from './driver.js';
import { EFS, HNSW_EF_CONSTRUCTION, HNSW_M, K } from './settings.js';

const require = createRequire(import.meta.url);
const hnswlib = require('hnswlib-node') as typeof import('hnswlib-node');

/** Adds every row as number[]; the conversion time is also reported on its own. */
function addAsArrays(set: Dataset, add: (row: number[], i: number) => void): { seconds: number; conversionSeconds: number } {
  const { dim, n, data } = set;
  let conversionSeconds = 0;
  const t0 = now();
  for (let i = 0; i < n; i++) {
    const c0 = now();
    const row = Array.from(data.subarray(i * dim, (i + 1) * dim));
    conversionSeconds += now() - c0;
    add(row, i);
    if (i % 20000 === 19999) progress(`hnswlib: ${fmtInt(i + 1)} added, ${fmt(now() - t0, 1)} s`);
  }
  return { seconds: now() - t0, conversionSeconds };
}

function hnswlibHnsw(set: Dataset, tmp: string): ApproxIndex {
  progress(`${set.difficulty}: hnswlib HNSW build (M ${HNSW_M}, efConstruction ${HNSW_EF_CONSTRUCTION}, single-threaded addPoint loop)`);
  const hnsw = new hnswlib.HierarchicalNSW('ip', set.dim);
  hnsw.initIndex({ maxElements: set.n, m: HNSW_M, efConstruction: HNSW_EF_CONSTRUCTION, randomSeed: 100 });
  const build = addAsArrays(set, (row, i) => hnsw.addPoint(row, i));
  const file = join(tmp, 'hnswlib.bin');
  const footprint = footprintOf(file, null, () => hnsw.writeIndexSync(file), () => new hnswlib.HierarchicalNSW('ip', set.dim).readIndexSync(file));
  return {
    label: 'hnswlib HNSW',
    lib: 'hnswlib',
    method: `HierarchicalNSW M ${HNSW_M}, efConstruction ${HNSW_EF_CONSTRUCTION}`,
    setting: 'ef',
    values: EFS,
    buildSeconds: build.seconds,
    buildDetail: { addSeconds: build.seconds, conversionSeconds: build.conversionSeconds },
    footprint,
    batch: async (ef) => {
      hnsw.setEf(ef);
      return timed(() => set.qsArrays.map((q) => ({ ids: hnsw.searchKnn(q, K).neighbors })));
    },
    single: async (ef, count) => {
      hnsw.setEf(ef);
      return timeSingles(count, (i) => hnsw.searchKnn(set.qsArrays[i]!, K));
    },
  };
}

export function hnswlibDriver(): PeerDriver {
  return {
    lib: 'hnswlib',
    runs: 'in-process',
    versions: () => ({ 'hnswlib-node': packageVersion('hnswlib-node') }),
    exact(set) {
      let brute = new hnswlib.BruteforceSearch('ip', set.dim);
      return {
        lib: 'hnswlib',
        call: { ingest: 'BruteforceSearch.addPoint(number[]) loop', single: 'searchKnn', batch: 'loop of searchKnn (no batch call)' },
        ingest: async () => {
          brute = new hnswlib.BruteforceSearch('ip', set.dim);
          brute.initIndex(set.n);
          return addAsArrays(set, (row, i) => brute.addPoint(row, i));
        },
        single: async (count) => timeSingles(count, (i) => brute.searchKnn(set.qsArrays[i]!, K)),
        batch: async () => timed(() => set.qsArrays.map((q) => ({ ids: brute.searchKnn(q, K).neighbors }))),
      };
    },
    approximate: (set, { tmp }) => [{ label: 'hnswlib HNSW', build: async () => hnswlibHnsw(set, tmp) }],
  };
}
