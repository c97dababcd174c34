import { describe, expect, it } from 'vitest';

import { normalize, normalizeInPlace, row, ValidationError } from '../src/index.js';

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
