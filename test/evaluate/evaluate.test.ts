import { describe, expect, it } from 'vitest';

import { compareModels, evaluateApproximate, evaluatePairs, evaluateRetrieval, rocAuc } from '../../src/index.js';
import { blobs } from '../helpers/data.js';
import { haveToyModel, useToyModel } from '../helpers/models.js';

describe('rocAuc', () => {
  it('is 1 for a perfect ranking, 0 for a reversed one, 0.5 with ties, and handles ties in ranks', () => {
    expect(rocAuc([0.9, 0.8, 0.2, 0.1], [1, 1, 0, 0])).toBe(1);
    expect(rocAuc([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0])).toBe(0);
    expect(rocAuc([0.5, 0.5, 0.5, 0.5], [1, 0, 1, 0])).toBe(0.5);
    expect(rocAuc([0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0])).toBe(0.875);
    expect(rocAuc([0.3], [1])).toBeNaN();
  });
});

describe('evaluateApproximate', () => {
  it('reports recall and speed-up per nprobe, reaching recall 1 at nprobe = nlist', () => {
    const dim = 16;
    const data = blobs(4000, dim, 30, 0.4, 5);
    const r = evaluateApproximate(data, { dim, metric: 'l2', nlist: 16, nprobes: [1, 4, 16], k: 10 });
    expect(r.rows.map((x) => x.nprobe)).toEqual([1, 4, 16]);
    expect(r.rows[2]!.recall).toBe(1);
    expect(r.rows[0]!.recall).toBeLessThanOrEqual(r.rows[1]!.recall);
    for (const row of r.rows) {
      expect(row.qps).toBeGreaterThan(0);
      expect(row.speedup).toBeCloseTo(row.qps / r.flatQps, 6);
    }
    const sq8 = evaluateApproximate(data, { dim, metric: 'l2', nlist: 16, nprobes: [16], k: 10, encoding: 'sq8' });
    expect(sq8.rows[0]!.recall).toBe(1);
    expect(() => evaluateApproximate(data, { dim, encoding: 'pq' as never })).toThrow(/encoding must be one of/);
  });

  it('refuses null options instead of taking them for the defaults', async () => {
    const dim = 4;
    const data = blobs(200, dim, 4, 0.4, 6);
    for (const key of ['metric', 'k', 'nlist', 'nprobes', 'seed', 'encoding']) {
      expect(() => evaluateApproximate(data, { dim, [key]: null }), key).toThrow(new RegExp(`${key}.*received null`));
    }
    expect(() => evaluateApproximate(data, { dim, nprobes: [1, 0] })).toThrow(/nprobes\[1\] must be an integer/);
    // Checked before any model is loaded.
    await expect(evaluatePairs('no-such-model', [['a', 'b', 1]], { threshold: null as never })).rejects.toThrow(/threshold must be a number; received null/);
    await expect(
      evaluateRetrieval('no-such-model', { queries: ['a'], documents: ['b'], relevant: [[0]] }, { k: null as never }),
    ).rejects.toThrow(/k must be an integer .*received null/);
  });
});

describe.skipIf(!haveToyModel)('model evaluation (toy model)', () => {
  const toy = useToyModel();

  it('evaluatePairs: identical texts are similar; accuracy, best threshold, AUC', async () => {
    const pairs = [
      ['the cat sat on the mat', 'the cat sat on the mat', 1],
      ['deep learning models', 'deep learning models', 1],
      ['the weather today', 'quantum physics research', 0],
      ['cat on the mat', 'tax law reform', 0],
    ] as const;
    const r = await evaluatePairs(toy.model(), pairs, { threshold: 0.999 });
    expect(r.pairs[0]!.similarity).toBeCloseTo(1, 5);
    expect(r.pairs.map((p) => p.predicted)).toEqual([1, 1, 0, 0]);
    expect(r.accuracy).toBe(1);
    expect(r.rocAuc).toBe(1);
    expect(r.bestAccuracy).toBe(1);
    await expect(evaluatePairs(toy.model(), [['a', 'b', 2 as 1]])).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('evaluateRetrieval: a query equal to a document finds it first', async () => {
    const documents = ['alpha beta', 'gamma delta', 'epsilon zeta', 'eta theta'];
    const r = await evaluateRetrieval(toy.model(), { queries: ['gamma delta', 'eta theta'], documents, relevant: [[1], [3]] }, { k: 2 });
    expect(r.mrr).toBe(1);
    expect(r.recallAtK).toBe(1);
    expect(r.ndcgAtK).toBe(1);
    expect(r.perQuery[0]!.ranked[0]).toBe(1);
    await expect(evaluateRetrieval(toy.model(), { queries: ['x'], documents, relevant: [[9]] })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('compareModels puts metrics, size, dim and throughput side by side', async () => {
    const rows = await compareModels([toy.model(), toy.dir()], { pairs: [['a b', 'a b', 1], ['a b', 'c d', 0]], threshold: 0.999 });
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row.dim).toBe(16);
      expect(row.sizeMB).toBeGreaterThan(1);
      expect(row.textsPerSecond).toBeGreaterThan(0);
      expect(row.accuracy).toBe(1);
    }
  });
});
