/**
 * Walkthrough 5: exact search (FlatIndex, FAISS's IndexFlatIP) against
 * approximate search (IVFIndex, IndexIVFFlat) on 10,000 random unit vectors
 * of 384 dimensions: the same top 5, recall by nprobe, and the speed-up.
 * No model needed: the vectors are synthetic.
 *
 * Run: npx tsx examples/05-flat-vs-ivf.ts
 */
import { FlatIndex, IVFIndex, normalize, recallAtK } from 'semvec';

const dim = 384; // all-MiniLM-L6-v2 embedding size
const n = 10_000;
const k = 5;

/** Seeded standard normal numbers (mulberry32 + Box-Muller), like np.random.seed(42); randn. */
function randn(count: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 1) / 4294967297; // in (0, 1)
  };
  return Float32Array.from({ length: count }, () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()));
}

const embeddings = normalize(randn(n * dim, 42), dim);
const queries = normalize(randn(100 * dim, 7), dim);
const query = queries.subarray(0, dim);

const index = new FlatIndex({ dim, metric: 'ip' });
index.add(embeddings);
console.log(`Flat index size: ${index.size} vectors`);

const exact = index.search(query, k);
console.log(`\nTop ${k} nearest neighbors:`);
exact.ids.forEach((id, i) => console.log(`  Index ${id}: similarity=${exact.scores[i]!.toFixed(4)}`));

const nlist = 100; // number of partitions (about sqrt(n) is a good rule)
const ivf = new IVFIndex({ dim, metric: 'ip', nlist, nprobe: 10 });
ivf.train(embeddings, { seed: 42 });
ivf.add(embeddings);

const approx = ivf.search(query, k);
console.log(`\nIVF index results (approximate but faster, nprobe=${ivf.nprobe}):`);
approx.ids.forEach((id, i) => console.log(`  Index ${id}: similarity=${approx.scores[i]!.toFixed(4)}`));

/** Time of one single-query search, in ms: the best of 5 rounds over the 100 queries. */
function msPerQuery(search: (q: Float32Array) => void): number {
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const started = performance.now();
    for (let q = 0; q < 100; q++) search(queries.subarray(q * dim, (q + 1) * dim));
    best = Math.min(best, (performance.now() - started) / 100);
  }
  return best;
}

const exactTime = msPerQuery((q) => index.search(q, k));
const truth = index.searchBatch(queries, k);

console.log('\nSearch time per query:');
console.log(`  Exact (FlatIndex):      ${exactTime.toFixed(3)}ms`);
console.log(`\n${'nprobe'.padEnd(8)} ${`recall@${k}`.padEnd(10)} ${'ms/query'.padEnd(10)} speed-up`);
// Random vectors have no cluster structure: the hardest case for IVF. Real
// embeddings cluster, and reach a higher recall at the same nprobe.
for (const nprobe of [1, 5, 10, 25, nlist]) {
  const recall = recallAtK(ivf.searchBatch(queries, k, { nprobe }), truth, k);
  const time = msPerQuery((q) => ivf.search(q, k, { nprobe }));
  console.log(`${String(nprobe).padEnd(8)} ${recall.toFixed(3).padEnd(10)} ${time.toFixed(3).padEnd(10)} ${(exactTime / time).toFixed(1)}x`);
}
