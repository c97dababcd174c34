import { spawnSync } from 'node:child_process';

import { describe, expect, it } from 'vitest';

import { cosineSimilarity, normalize, normalizeInPlace, row, similarityMatrix, SemvecError, ValidationError } from '../src/index.js';
import { addonPath, native } from '../src/native.js';
import { codeOf } from './helpers/errors.js';
import { randomVectors } from './helpers/data.js';

describe('normalize', () => {
  it('scales every vector to unit length, leaving the input alone', () => {
    const input = new Float32Array([3, 4, 0, 5]);
    const out = normalize(input, 2);
    expect(Array.from(out)).toEqual([expect.closeTo(0.6, 6), expect.closeTo(0.8, 6), 0, 1]);
    expect(Array.from(input)).toEqual([3, 4, 0, 5]);
  });

  it('keeps zero vectors as zeros (never NaN) and counts them in place', () => {
    const x = new Float32Array([0, 0, 0, 2, 0, 0]);
    expect(normalizeInPlace(x, 3)).toBe(1);
    expect(Array.from(x)).toEqual([0, 0, 0, 1, 0, 0]);
    expect(Array.from(normalize([[0, 0]], 2))).toEqual([0, 0]);
  });

  it('accepts empty input and rejects bad input', () => {
    expect(normalize([], 4)).toHaveLength(0);
    expect(() => normalize([[1, 2, 3]], 2)).toThrow(ValidationError);
    expect(() => normalize([[1, NaN]], 2)).toThrow(/finite/);
    expect(() => normalize(new Float32Array([1, Infinity]), 2)).toThrow(/Infinity at vector 0, component 1/);
  });

  it('row() is a view of one vector', () => {
    const x = new Float32Array([1, 2, 3, 4, 5, 6]);
    const r = row(x, 3, 1);
    expect(Array.from(r)).toEqual([4, 5, 6]);
    r[0] = 9;
    expect(x[3]).toBe(9);
  });
});

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
    // Only undefined means "the default": null is a wrong value.
    expect(() => similarityMatrix([[1, 2]], [[1, 2]], { metric: null as never })).toThrow(/metric.*received null/);
    expect(() => similarityMatrix([[1, 2]], [[1, 2]], { dim: null as never })).toThrow(/dim.*received null/);
  });

  it('a product beyond what a Float32Array holds is ERR_INVALID_ARGUMENT, in TypeScript and in the binding', () => {
    const a = new Float32Array(70_000).fill(1);
    let err: unknown;
    try {
      similarityMatrix(a, a, { dim: 1 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SemvecError);
    expect((err as SemvecError).code).toBe('ERR_INVALID_ARGUMENT');
    expect((err as SemvecError).message).toMatch(/70000 x 70000 = 4900000000 values .* split a into batches of at most 61356 rows/);
    expect(() => native().similarityMatrix(a, a, 1, 'ip')).toThrow(/70000 x 70000 = 4900000000 values .* at most 61356 rows/);
    expect(codeOf(() => native().similarityMatrix(a, a, 1, 'ip'))).toBe('ERR_INVALID_ARGUMENT');
    // Just below the limit in rows, far below in memory: still computed.
    expect(similarityMatrix(a.subarray(0, 3), a, { dim: 1, metric: 'ip' })).toHaveLength(210_000);
  });

  it('memory that cannot be allocated is ERR_OUT_OF_MEMORY and the process goes on', () => {
    // A child limited to 4 GiB of address space asks for 60000 x 60000
    // values (14.4 GB): allowed in size, impossible to allocate.
    const script = `
      const addon = require(process.argv[1]);
      const a = new Float32Array(60000).fill(1);
      try { addon.similarityMatrix(a, a, 1, 'ip'); console.log('allocated'); }
      catch (e) { console.log(e.code); }
      console.log(Array.from(addon.similarityMatrix(new Float32Array([1, 2]), new Float32Array([3]), 1, 'ip')).join(','));`;
    const r = spawnSync('sh', ['-c', 'ulimit -v 4194304 && exec "$0" -e "$1" "$2"', process.execPath, script, addonPath], {
      encoding: 'utf8',
    });
    expect(r.signal, r.stderr).toBeNull();
    expect(r.stdout.trim().split('\n'), r.stderr).toEqual(['ERR_OUT_OF_MEMORY', '3,6']);
  });
});

