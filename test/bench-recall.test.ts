import { describe, expect, it } from 'vitest';

import { innerProductScore, recallWithTies } from '../bench/lib/recall.js';
import { FlatIndex, recallAtK } from '../src/index.js';

describe('bench recall with ties', () => {
  // Rows 0-3 are one vector four times; the exact top 2 of a query equal to it is ambiguous.
  const dim = 2;
  const data = Float32Array.from([1, 0, 1, 0, 1, 0, 1, 0, 0.8, 0.6, 0, 1]);
  const queries = Float32Array.from([1, 0]);
  const score = innerProductScore(data, queries, dim);

  it('counts another of the tied vectors as a hit, where recall by id does not', () => {
    const truth = [{ ids: [0, 1] }];
    expect(recallWithTies([{ ids: [2, 3] }], truth, 2, score)).toBe(1);
    expect(recallAtK([{ ids: [2, 3] }], truth, 2)).toBe(0);
  });

  it('counts a vector below the k-th score, and a repeated id, as misses', () => {
    const truth = [{ ids: [0, 1] }];
    expect(recallWithTies([{ ids: [0, 4] }], truth, 2, score)).toBe(0.5);
    expect(recallWithTies([{ ids: [0, 0] }], truth, 2, score)).toBe(0.5);
    expect(recallWithTies([{ ids: [5, 4] }], truth, 2, score)).toBe(0);
  });

  it('agrees with recall by id when no scores tie', () => {
    const flat = new FlatIndex({ dim, metric: 'ip' });
    flat.add(Float32Array.from([1, 0, 0.8, 0.6, 0, 1]));
    const distinct = innerProductScore(Float32Array.from([1, 0, 0.8, 0.6, 0, 1]), queries, dim);
    const truth = flat.searchBatch(queries, 2);
    for (const got of [[0, 1], [1, 0], [0, 2], [2, 1]]) {
      expect(recallWithTies([{ ids: got }], truth, 2, distinct)).toBe(recallAtK([{ ids: got }], truth, 2));
    }
  });
});
