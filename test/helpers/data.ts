/** Deterministic test data and a brute-force reference search. */
import type { Metric } from '../../src/index.js';

import { mulberry32 as rng } from '../../src/random.js';

/** The project's seeded PRNG (uniform in [0, 1)). */
export { rng };

/** n * dim values, roughly standard normal. */
export function randomVectors(n: number, dim: number, seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < out.length; i++) out[i] = r() + r() + r() - 1.5;
  return out;
}

export interface Hit {
  id: number;
  score: number;
}

/** Exact search in double precision: best first, ties by lower id. */
export function bruteForce(
  vectors: Float32Array,
  ids: ArrayLike<number>,
  query: ArrayLike<number>,
  dim: number,
  metric: Metric,
  k: number,
): Hit[] {
  const n = vectors.length / dim;
  let qn = 0;
  for (let c = 0; c < dim; c++) qn += (query[c] as number) ** 2;
  const hits: Hit[] = [];
  for (let i = 0; i < n; i++) {
    let ip = 0;
    let xn = 0;
    let l2 = 0;
    for (let c = 0; c < dim; c++) {
      const x = vectors[i * dim + c] as number;
      const q = query[c] as number;
      ip += x * q;
      xn += x * x;
      l2 += (x - q) * (x - q);
    }
    const score = metric === 'ip' ? ip : metric === 'cosine' ? ip / Math.sqrt(qn * xn) : l2;
    hits.push({ id: ids[i] as number, score });
  }
  const asc = metric === 'l2';
  hits.sort((a, b) => (a.score !== b.score ? (asc ? a.score - b.score : b.score - a.score) : a.id - b.id));
  return hits.slice(0, k);
}

/** CRC-32C, to craft files with valid checksums in tests. */
export function crc32c(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

/**
 * A clustered set: `centers` gaussian blobs in dim dimensions with the given
 * spread around centres drawn uniformly in [-1, 1].
 */
export function blobs(n: number, dim: number, centers: number, spread: number, seed: number): Float32Array {
  const r = rng(seed);
  const c = new Float32Array(centers * dim).map(() => r() * 2 - 1);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const j = Math.floor(r() * centers);
    for (let d = 0; d < dim; d++) out[i * dim + d] = (c[j * dim + d] as number) + spread * (r() + r() + r() - 1.5);
  }
  return out;
}
