/**
 * Seeded synthetic data for `semvec bench`: a gaussian mixture of
 * clusters with unequal sizes and spreads, like real embeddings are
 * clustered; queries are drawn from the same mixture with another seed (so
 * they are not copies of stored vectors).
 */
import { gaussian, mulberry32, pickCumulative, zipfCumulative } from '../random.js';

export interface Mixture {
  dim: number;
  clusters: number;
  /** clusters * dim; each centre ~ N(0, I/dim), so centres are ~1.41 apart. */
  centres: Float32Array;
  /** Per-coordinate spread of each cluster. */
  sigma: Float64Array;
  /** Cumulative cluster weights (Zipf-like, exponent 0.7), last = 1. */
  cumWeight: Float64Array;
}

/** The default number of clusters for n vectors: n / 100, from 2 to 1,000. */
export function defaultClusters(n: number): number {
  return Math.min(1000, Math.max(2, Math.round(n / 100)));
}

/**
 * A mixture of `clusters` gaussians whose radii (RMS distance to the
 * centre) are uniform in [0.3, 0.9]: neighbouring clusters overlap, so
 * approximate search has real work to do.
 */
export function makeMixture(dim: number, clusters: number, seed: number): Mixture {
  const rand = mulberry32(seed);
  const g = gaussian(rand);
  const scale = 1 / Math.sqrt(dim);
  const centres = new Float32Array(clusters * dim);
  for (let i = 0; i < centres.length; i++) centres[i] = g() * scale;
  const sigma = new Float64Array(clusters);
  for (let c = 0; c < clusters; c++) sigma[c] = (0.3 + 0.6 * rand()) * scale;
  return { dim, clusters, centres, sigma, cumWeight: zipfCumulative(clusters, 0.7) };
}

/** n vectors from the mixture, row-major. */
export function sampleMixture(m: Mixture, n: number, seed: number): Float32Array {
  const { dim, centres, sigma, cumWeight } = m;
  const rand = mulberry32(seed);
  const g = gaussian(rand);
  const out = new Float32Array(n * dim);
  for (let i = 0, base = 0; i < n; i++, base += dim) {
    const cluster = pickCumulative(cumWeight, rand());
    const s = sigma[cluster]!;
    const c = cluster * dim;
    for (let j = 0; j < dim; j++) out[base + j] = centres[c + j]! + s * g();
  }
  return out;
}
