import { describe, expect, it } from 'vitest';

import { kmeans, kmeansAsync, setThreads } from '../../src/index.js';
import { blobs } from '../helpers/data.js';
import { codeOf } from '../helpers/errors.js';

const dim = 16;
const data = blobs(3000, dim, 6, 0.05, 3);

describe('kmeans', () => {
  it('finds well-separated clusters; inertia never increases', () => {
    const seen: number[] = [];
    const r = kmeans(data, { k: 6, dim, seed: 1, onProgress: (_, inertia) => void seen.push(inertia) });
    expect(r.centroids).toHaveLength(6 * dim);
    expect(r.assignments).toHaveLength(3000);
    expect(new Set(r.assignments).size).toBe(6);
    expect(Array.from(r.history)).toEqual(seen);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeLessThanOrEqual(seen[i - 1]! * (1 + 1e-6));
    expect(r.iterations).toBeLessThan(25); // converged early
    expect(r.inertia / 3000).toBeLessThan(0.05 ** 2 * dim);
  });

  it('is deterministic: same seed, same centroids, whatever the thread count', () => {
    const a = kmeans(data, { k: 10, dim, seed: 4, init: 'random' });
    setThreads(1);
    try {
      const b = kmeans(data, { k: 10, dim, seed: 4, init: 'random' });
      expect(b.centroids).toEqual(a.centroids);
    } finally {
      setThreads(0);
    }
    expect(kmeans(data, { k: 10, dim, seed: 5, init: 'random' }).centroids).not.toEqual(a.centroids);
  });

  it('accepts rows, cosine (spherical) and subsampling', async () => {
    const rows = Array.from({ length: 300 }, (_, i) => Array.from(data.subarray(i * dim, (i + 1) * dim)));
    const r = kmeans(rows, { k: 3, metric: 'cosine', maxPointsPerCentroid: 50 });
    expect(r.dim).toBe(dim);
    expect(r.trainingPoints).toBe(150);
    for (let j = 0; j < 3; j++) {
      const c = r.centroids.subarray(j * dim, (j + 1) * dim);
      expect(Math.hypot(...c)).toBeCloseTo(1, 5);
    }
    const calls: number[] = [];
    const a = await kmeansAsync(data, { k: 6, dim, seed: 1, onProgress: (i) => void calls.push(i) });
    expect(a.centroids).toEqual(kmeans(data, { k: 6, dim, seed: 1 }).centroids);
    expect(calls).toEqual(Array.from({ length: a.iterations }, (_, i) => i + 1));
  });

  it('stops when onProgress returns false, and rethrows its errors', () => {
    const r = kmeans(data, { k: 6, dim, iterations: 20, onProgress: (i) => i < 2 });
    expect(r.iterations).toBe(2);
    expect(() => kmeans(data, { k: 6, dim, onProgress: () => { throw new Error('stop here'); } })).toThrow('stop here');
  });

  it('kmeansAsync: every onProgress call runs before the promise settles', async () => {
    const calls: number[] = [];
    const seenAtSettle = await kmeansAsync(data, { k: 6, dim, seed: 2, init: 'random', onProgress: (i) => void calls.push(i) })
      .then((r) => ({ iterations: r.iterations, calls: calls.slice() }));
    expect(seenAtSettle.iterations).toBeGreaterThan(1);
    expect(seenAtSettle.calls).toEqual(Array.from({ length: seenAtSettle.iterations }, (_, i) => i + 1));
  });

  it('kmeansAsync stops when onProgress returns false, as kmeans does', async () => {
    const calls: number[] = [];
    const r = await kmeansAsync(data, { k: 6, dim, iterations: 20, onProgress: (i) => (calls.push(i), i < 2) });
    expect(r.iterations).toBe(2);
    expect(calls).toEqual([1, 2]);
    expect(r.centroids).toEqual(kmeans(data, { k: 6, dim, iterations: 20, onProgress: (i) => i < 2 }).centroids);
  });

  it('kmeansAsync rejects with the error onProgress throws, after stopping', async () => {
    const calls: number[] = [];
    const fail = new Error('stop here');
    const run = kmeansAsync(data, { k: 6, dim, iterations: 20, onProgress: (i) => {
      calls.push(i);
      if (i === 2) throw fail;
    } });
    await expect(run).rejects.toBe(fail);
    expect(calls).toEqual([1, 2]);
  });

  it('rejects k < 1, k > n, empty input, a wrong dimension and a missing dim', () => {
    const code = codeOf;
    expect(code(() => kmeans(data, { k: 0, dim }))).toBe('ERR_INVALID_ARGUMENT');
    expect(code(() => kmeans(data, { k: 3001, dim }))).toBe('ERR_INVALID_ARGUMENT');
    expect(code(() => kmeans([], { k: 1 }))).toBe('ERR_INVALID_ARGUMENT');
    expect(code(() => kmeans(new Float32Array(0), { k: 1, dim: 4 }))).toBe('ERR_INVALID_ARGUMENT');
    expect(code(() => kmeans([[1, 2], [1, 2, 3]], { k: 1 }))).toBe('ERR_DIMENSION_MISMATCH');
    expect(code(() => kmeans(data, { k: 2, dim: 7 }))).toBe('ERR_DIMENSION_MISMATCH');
    expect(code(() => kmeans(data, { k: 2 }))).toBe('ERR_INVALID_ARGUMENT');
    expect(code(() => kmeans(data, { k: 2, dim, metric: 'ip' as never }))).toBe('ERR_INVALID_ARGUMENT');
    // Only undefined means "the default": null is a wrong value.
    for (const key of ['metric', 'iterations', 'seed', 'maxPointsPerCentroid', 'init', 'dim']) {
      expect(() => kmeans(data, { k: 2, dim, [key]: null }), key).toThrow(new RegExp(`${key}.*received null`));
    }
  });
});
