/**
 * The seeded random numbers of semvec's TypeScript side, in one place: a
 * small PRNG, normal draws and weighted picks. Used by `semvec bench`'s
 * synthetic data, clustering's sampling, the benchmarks and the tests.
 * (The native core has its own seeded generator, native/core/rng.h, for
 * k-means.)
 */

/** Mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Writes `centre[c + j] + sigma * z_j` to `out[base + j]` for j < count, with
 * z_j standard normal: Marsaglia's polar method, both values of each pair
 * used (about 1.5x faster than the trigonometric Box-Muller).
 */
export function gaussianRow(
  out: Float32Array | Float64Array,
  base: number,
  count: number,
  centre: Float32Array | Float64Array,
  c: number,
  sigma: number,
  rand: () => number,
): void {
  for (let j = 0; j < count; j += 2) {
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * rand() - 1;
      v = 2 * rand() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = sigma * Math.sqrt((-2 * Math.log(s)) / s);
    out[base + j] = centre[c + j]! + u * f;
    if (j + 1 < count) out[base + j + 1] = centre[c + j + 1]! + v * f;
  }
}

/** Standard normal values, one at a time (both values of each polar pair used). */
export function gaussian(rand: () => number): () => number {
  let spare: number | undefined;
  const pair = new Float64Array(2);
  const origin = new Float64Array(2);
  return () => {
    if (spare !== undefined) {
      const v = spare;
      spare = undefined;
      return v;
    }
    gaussianRow(pair, 0, 2, origin, 0, 1, rand);
    spare = pair[1]!;
    return pair[0]!;
  };
}

/** Cumulative Zipf-like weights: item c (from 0) weighs 1 / (c + 1)^exponent; normalised, the last exactly 1. */
export function zipfCumulative(count: number, exponent: number): Float64Array {
  const cumWeight = new Float64Array(count);
  let total = 0;
  for (let c = 0; c < count; c++) {
    total += 1 / (c + 1) ** exponent;
    cumWeight[c] = total;
  }
  for (let c = 0; c < count; c++) cumWeight[c] = cumWeight[c]! / total;
  cumWeight[count - 1] = 1;
  return cumWeight;
}

/** The first index whose cumulative weight reaches u (binary search): a weighted draw for u uniform in [0, 1). */
export function pickCumulative(cumWeight: ArrayLike<number>, u: number): number {
  let lo = 0;
  let hi = cumWeight.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cumWeight[mid]! < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
