import { describe, expect, it } from 'vitest';

import { cosineSimilarity, similarityMatrix } from '../src/index.js';
import { codeOf } from './helpers/errors.js';
import { randomVectors } from './helpers/data.js';

describe('similarity helpers', () => {
  it('cosineSimilarity', () => {
    expect(cosineSimilarity([1, 0], [1, 1])).toBeCloseTo(Math.SQRT1_2, 6);
    expect(cosineSimilarity(new Float32Array([1, 2]), [2, 4])).toBeCloseTo(1, 6);
    expect(cosineSimilarity([0, 0], [1, 1])).toBe(0);
    expect(codeOf(() => cosineSimilarity([1, 2], [1]))).toBe('ERR_DIMENSION_MISMATCH');
    expect(codeOf(() => cosineSimilarity('ab' as never, [1]))).toBe('ERR_INVALID_ARGUMENT');
  });

  it('similarityMatrix matches a direct computation for every metric', () => {
    const dim = 37;
    const a = randomVectors(5, dim, 1);
    const b = randomVectors(40, dim, 2);
    for (const metric of ['cosine', 'ip', 'l2'] as const) {
      const m = similarityMatrix(a, b, { dim, metric });
      expect(m).toHaveLength(5 * 40);
      for (let i = 0; i < 5; i++) {
        for (let j = 0; j < 40; j++) {
          const x = a.subarray(i * dim, (i + 1) * dim);
          const y = b.subarray(j * dim, (j + 1) * dim);
          let want = 0;
          if (metric === 'cosine') want = cosineSimilarity(x, y);
          else if (metric === 'ip') want = x.reduce((s, v, c) => s + v * (y[c] as number), 0);
          else want = x.reduce((s, v, c) => s + (v - (y[c] as number)) ** 2, 0);
          expect(m[i * 40 + j]).toBeCloseTo(want, 3);
        }
      }
    }
  });

  it('takes rows, infers dim, and handles empty input', () => {
    const m = similarityMatrix([[1, 0], [0, 1]], [[1, 0]]);
    expect(Array.from(m)).toEqual([1, 0]);
    expect(similarityMatrix([], [[1, 0]])).toHaveLength(0);
    expect(codeOf(() => similarityMatrix(new Float32Array(4), new Float32Array(4)))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => similarityMatrix([[1, 2]], [[1, 2, 3]]))).toBe('ERR_DIMENSION_MISMATCH');
  });
});
