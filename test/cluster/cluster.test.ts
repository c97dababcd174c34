import { describe, expect, it } from 'vitest';

import { clusterTexts, clusterVectors, suggestK } from '../../src/index.js';
import { blobs } from '../helpers/data.js';
import { codeOf } from '../helpers/errors.js';
import { haveToyModel, useToyModel } from '../helpers/models.js';

describe('clusterVectors and suggestK', () => {
  const dim = 12;
  const data = blobs(900, dim, 4, 0.05, 21);

  it('finds the blobs; sizes add up; the same seed gives the same labels', () => {
    const c = clusterVectors(data, { k: 4, dim, metric: 'l2', seed: 3 });
    expect(c.sizes.reduce((a, b) => a + b, 0)).toBe(900);
    expect(c.sizes.every((s) => s > 150)).toBe(true);
    expect(clusterVectors(data, { k: 4, dim, metric: 'l2', seed: 3 }).labels).toEqual(c.labels);
    expect(c.centroids).toHaveLength(4 * dim);
  });

  it('suggestK recovers the number of blobs by silhouette and by elbow', () => {
    const sil = suggestK(data, { dim, kMax: 8, metric: 'l2', sample: 400 });
    expect(sil.k).toBe(4);
    expect(sil.scores.map((s) => s.k)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect(suggestK(data, { dim, kMax: 8, metric: 'l2', method: 'elbow' }).k).toBe(4);
  });

  it('rejects bad input', () => {
    expect(codeOf(() => clusterVectors(data, { k: 0, dim }))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => clusterVectors(data, { k: 2 }))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => suggestK([[1, 2]], {}))).toBe('ERR_INVALID_ARGUMENT');
    // Only undefined means "the default": null is a wrong value.
    expect(() => clusterVectors(data, { k: 2, dim, metric: null as never })).toThrow(/metric.*received null/);
    expect(() => clusterVectors(data, { k: 2, dim, seed: null as never })).toThrow(/seed.*received null/);
    for (const key of ['kMin', 'kMax', 'method', 'metric', 'seed', 'sample', 'dim']) {
      expect(() => suggestK(data, { dim, [key]: null }), key).toThrow(new RegExp(`${key}.*received null`));
    }
    expect(() => suggestK(data, { dim, seed: -1 })).toThrow(/seed must be an integer/);
  });

  it('clusterTexts: a null model is refused, not taken for the default', async () => {
    await expect(clusterTexts(['a', 'b'], { k: 1, model: null as never })).rejects.toThrow(/model must be .*; received null/);
  });
});

describe.skipIf(!haveToyModel)('clusterTexts (toy model)', () => {
  const toy = useToyModel();

  it('lists each cluster with its members; identical texts share a cluster', async () => {
    const texts = ['apple pie', 'apple pie', 'tax law reform', 'tax law reform', 'quantum physics', 'quantum physics'];
    const r = await clusterTexts(texts, { k: 3, model: toy.model(), seed: 1 });
    expect(r.clusters.flatMap((c) => c.indices).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    for (const c of r.clusters) c.indices.forEach((i, j) => expect(c.members[j]).toBe(texts[i]));
    expect(r.labels[0]).toBe(r.labels[1]);
    expect(r.labels[2]).toBe(r.labels[3]);
    expect(r.labels[4]).toBe(r.labels[5]);
  });
});
