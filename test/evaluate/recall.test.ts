import { describe, expect, it } from 'vitest';

import { recallAtK } from '../../src/index.js';

describe('recallAtK', () => {
  it('counts the exact top-k found by the approximate top-k', () => {
    expect(recallAtK([1, 2, 3], [3, 2, 1], 3)).toBe(1);
    expect(recallAtK([1, 9, 8], [1, 2, 3], 3)).toBeCloseTo(1 / 3);
    expect(recallAtK([{ ids: [1, 2] }, { ids: [5] }], [{ ids: [1, 2] }, { ids: [5, 6] }], 2)).toBe(0.75);
    expect(recallAtK([1, 2, 3, 4], [4, 3, 2, 1], 2)).toBe(0); // only the top 2 of each count
    expect(recallAtK({ ids: new Float64Array([7]) }, { ids: new Float64Array([7]) }, 10)).toBe(1);
  });

  it('rejects mismatched batches and bad k', () => {
    expect(() => recallAtK([{ ids: [1] }], [{ ids: [1] }, { ids: [2] }], 1)).toThrow(/same number of queries/);
    expect(() => recallAtK([1], [1], 0)).toThrow(/k must be a positive integer/);
  });
});
