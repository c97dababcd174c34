/**
 * bench/lib/data.ts: the benchmarks' seeded synthetic data. Gaussian
 * mixtures whose shape is set by a {@link MixtureSpec}: the clustered set of
 * bench:flat and bench:collection, and the `hard` and `easy` sets of
 * bench:ivf and bench:peers. Every draw comes from mulberry32, the one seeded
 * PRNG of the repository, and normal values from gaussianRow (both in
 * src/cli/synthetic.ts, which `semvec bench` uses).
 */
import { normalizeInPlace } from '../../src/index.js';
import { gaussianRow, mulberry32, pickCumulative, zipfCumulative } from '../../src/random.js';

export { gaussianRow, mulberry32, pickCumulative };

/** The seeds of a data set: the mixture's centres, the stored rows, the queries. */
export const SEEDS = { mixture: 1, data: 2, queries: 3 } as const;

/**
 * The shape of a gaussian mixture. Centres are N(0, I/dim) (norm ~1, so two
 * centres are ~1.41 apart); everything else is relative to that.
 */
export interface MixtureSpec {
  /** Number of gaussian clusters. */
  clusters: number;
  /** Zipf-like weights: cluster c (from 0) has weight proportional to 1 / (c + 1)^zipf. */
  zipf: number;
  /** Each cluster's radius (RMS distance of its points to its centre) is uniform in [min, max]. */
  radius: readonly [number, number];
  /**
   * 0: isotropic clusters. r > 0: each cluster spreads mostly along r random
   * unit directions of its own (a flat, r-dimensional cluster), the rest of
   * its variance ({@link isotropicShare}) isotropically.
   */
  intrinsicDim: number;
  /** With intrinsicDim > 0, the share of each cluster's variance spread over all dim directions. */
  isotropicShare: number;
  /** Share of points drawn from the isotropic background N(0, I/dim) instead of a cluster. */
  noiseFraction: number;
}

/** A drawn mixture: centres, unequal (Zipf-like) weights and spreads. */
export interface Mixture {
  dim: number;
  spec: MixtureSpec;
  centres: Float32Array; // clusters * dim
  sigma: Float64Array; // per-coordinate spread of each cluster (radius / sqrt(dim))
  cumWeight: Float64Array; // cumulative weights, last = 1
  directions: Float32Array; // clusters * intrinsicDim * dim unit vectors (empty when isotropic)
}

/** clusters * r random unit vectors of dim components (the flat clusters' directions). */
function unitDirections(count: number, dim: number, rand: () => number): Float32Array {
  const origin = new Float32Array(dim);
  const directions = new Float32Array(count * dim);
  for (let i = 0; i < count; i++) {
    gaussianRow(directions, i * dim, dim, origin, 0, 1, rand);
    let norm = 0;
    for (let j = 0; j < dim; j++) norm += directions[i * dim + j]! ** 2;
    const inv = 1 / Math.sqrt(norm);
    for (let j = 0; j < dim; j++) directions[i * dim + j]! *= inv;
  }
  return directions;
}

export function makeMixture(dim: number, seed: number, spec: MixtureSpec): Mixture {
  const { clusters } = spec;
  const [rMin, rMax] = spec.radius;
  const rand = mulberry32(seed);
  const scale = 1 / Math.sqrt(dim);
  const centres = new Float32Array(clusters * dim);
  const origin = new Float32Array(dim);
  for (let c = 0; c < clusters; c++) gaussianRow(centres, c * dim, dim, origin, 0, scale, rand);
  const sigma = new Float64Array(clusters);
  for (let c = 0; c < clusters; c++) sigma[c] = (rMin + (rMax - rMin) * rand()) * scale;
  // Drawn after the rest, so isotropic mixtures do not depend on this step.
  const directions = unitDirections(clusters * spec.intrinsicDim, dim, rand);
  return { dim, spec, centres, sigma, cumWeight: zipfCumulative(clusters, spec.zipf), directions };
}

/** n rows from the mixture, in one row-major Float32Array. */
export function sample(m: Mixture, n: number, seed: number): Float32Array {
  const { dim, spec, centres, sigma, cumWeight, directions } = m;
  const r = spec.intrinsicDim;
  const isoScale = r > 0 ? Math.sqrt(spec.isotropicShare) : 1;
  // Along each of the r directions: variance (1 - isotropicShare) * dim * sigma^2 / r,
  // so the radius stays sqrt(dim) * sigma.
  const majorScale = r > 0 ? Math.sqrt(((1 - spec.isotropicShare) * dim) / r) : 0;
  const rand = mulberry32(seed);
  const noiseSigma = 1 / Math.sqrt(dim);
  const origin = new Float32Array(dim);
  const coeff = new Float32Array(r);
  const out = new Float32Array(n * dim);
  for (let i = 0, base = 0; i < n; i++, base += dim) {
    if (rand() < spec.noiseFraction) {
      gaussianRow(out, base, dim, origin, 0, noiseSigma, rand);
      continue;
    }
    const c = pickCumulative(cumWeight, rand());
    if (r === 0) {
      gaussianRow(out, base, dim, centres, c * dim, sigma[c]!, rand);
      continue;
    }
    gaussianRow(out, base, dim, centres, c * dim, sigma[c]! * isoScale, rand);
    gaussianRow(coeff, 0, r, origin, 0, sigma[c]! * majorScale, rand);
    for (let d = 0; d < r; d++) {
      const z = coeff[d]!;
      const dirBase = (c * r + d) * dim;
      for (let j = 0; j < dim; j++) out[base + j]! += z * directions[dirBase + j]!;
    }
  }
  return out;
}

/** The set of bench:flat and bench:collection: 256 isotropic clusters of radius 0.15-0.75, Zipf-like weights (exponent 0.7), 5% noise. */
export const CLUSTERED: MixtureSpec = {
  clusters: 256,
  zipf: 0.7,
  radius: [0.15, 0.75],
  intrinsicDim: 0,
  isotropicShare: 1,
  noiseFraction: 0.05,
};

/** The data sets of bench:ivf and bench:peers. */
export type Difficulty = 'hard' | 'easy';
export const DIFFICULTY_NAMES: readonly Difficulty[] = ['hard', 'easy'];

/**
 * `hard`: 3,000 overlapping isotropic clusters of unequal weight and radius,
 * 10% isotropic noise (nprobe 1 finds under 60% of the true top 10 at 1M).
 * `easy`: 1,000 separated, nearly flat clusters (98% of the variance along 2
 * directions), 1% noise (nprobe 1 already finds most neighbours).
 * Centres are N(0, I/dim), ~1.41 apart.
 */
export const DIFFICULTIES: Record<Difficulty, MixtureSpec> = {
  hard: { clusters: 3000, zipf: 0.8, radius: [0.4, 1.4], intrinsicDim: 0, isotropicShare: 1, noiseFraction: 0.1 },
  easy: { clusters: 1000, zipf: 0.7, radius: [0.05, 0.5], intrinsicDim: 2, isotropicShare: 0.02, noiseFraction: 0.01 },
};

/** The short descriptions of the difficulties, as chart notes. */
export const DIFFICULTY_NOTES: Record<Difficulty, readonly [string, string]> = {
  hard: ['hard: overlapping isotropic', 'clusters + 10% noise'],
  easy: ['easy: separated, nearly flat', 'clusters + 1% noise'],
};

/** A data set drawn from one mixture: stored rows and queries. */
export interface Drawn {
  mixture: Mixture;
  /** rows * dim; the rows are i.i.d., so a prefix is a sample of the same distribution. */
  data: Float32Array;
  queries: Float32Array;
}

/**
 * `rows` rows and `queries` queries from the mixture `spec` in `dim`
 * dimensions, with the seeds of {@link SEEDS}; normalised to unit length when
 * asked (metric cosine, or inner product on normalised vectors).
 */
export function draw(spec: MixtureSpec, dim: number, rows: number, queries: number, normalise: boolean): Drawn {
  const mixture = makeMixture(dim, SEEDS.mixture, spec);
  const data = sample(mixture, rows, SEEDS.data);
  const q = sample(mixture, queries, SEEDS.queries);
  if (normalise) {
    normalizeInPlace(data, dim);
    normalizeInPlace(q, dim);
  }
  return { mixture, data, queries: q };
}

/** Views of each row of a row-major matrix (no copies). */
export function rowViews(matrix: Float32Array, dim: number): Float32Array[] {
  return Array.from({ length: matrix.length / dim }, (_, i) => matrix.subarray(i * dim, (i + 1) * dim));
}
