import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { FlatIndex, SemvecError, type Metric } from '../src/index.js';
import { native } from '../src/native.js';
import { bruteForce, randomVectors } from './helpers/data.js';
import { codeOf } from './helpers/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'semvec-flat-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectCode(fn: () => unknown, code: string, message?: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected ${code}`).toBeInstanceOf(SemvecError);
  expect((caught as SemvecError).code).toBe(code);
  if (message) expect((caught as Error).message).toMatch(message);
}

async function expectRejectCode(p: Promise<unknown>, code: string): Promise<SemvecError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SemvecError);
  expect((err as SemvecError).code).toBe(code);
  return err as SemvecError;
}

const metrics: Metric[] = ['ip', 'cosine', 'l2'];

describe('FlatIndex search equals brute force', () => {
  const dim = 24;
  const n = 1500; // not a multiple of the 16-vector block
  const vectors = randomVectors(n, dim, 1);
  const ids = Array.from({ length: n }, (_, i) => 5 + 3 * i);
  const queries = randomVectors(20, dim, 2);
  const k = 12;

  for (const metric of metrics) {
    const index = new FlatIndex({ dim, metric });
    index.add(vectors, ids);

    const check = (got: { ids: Float64Array; scores: Float32Array }, q: number) => {
      const want = bruteForce(vectors, ids, queries.subarray(q * dim, (q + 1) * dim), dim, metric, k);
      expect(Array.from(got.ids)).toEqual(want.map((h) => h.id));
      want.forEach((h, j) => expect(got.scores[j]).toBeCloseTo(h.score, 3));
    };

    it(`${metric}: single query, sync and async`, async () => {
      for (let q = 0; q < 20; q++) {
        const query = queries.subarray(q * dim, (q + 1) * dim);
        check(index.search(query, k), q);
        check(await index.searchAsync(Array.from(query), k), q);
      }
    });

    it(`${metric}: batch, sync and async`, async () => {
      const sync = index.searchBatch(queries, k);
      const async = await index.searchBatchAsync(queries, k);
      expect(sync).toHaveLength(20);
      sync.forEach((r, q) => check(r, q));
      async.forEach((r, q) => check(r, q));
      // The batch and the single-query paths agree exactly.
      expect(Array.from(sync[3]!.scores)).toEqual(Array.from(index.search(queries.subarray(3 * dim, 4 * dim), k).scores));
    });
  }

  it('cosine scores of a vector with itself are 1, and l2 distances are 0', () => {
    const cos = new FlatIndex({ dim: 3, metric: 'cosine' });
    cos.add([[3, 4, 0], [0, 0, 2]]);
    expect(cos.search([6, 8, 0], 1).scores[0]).toBeCloseTo(1, 6);
    const l2 = new FlatIndex({ dim: 3, metric: 'l2' });
    l2.add([[3, 4, 0], [0, 0, 2]]);
    const r = l2.search([3, 4, 0], 2);
    expect(Array.from(r.ids)).toEqual([0, 1]);
    expect(r.scores[0]).toBe(0);
    expect(r.scores[1]).toBeCloseTo(29, 4);
  });
});

describe('FlatIndex behaviour', () => {
  it('returns min(k, size) results, never padded, ties by lower id', () => {
    const index = new FlatIndex({ dim: 2, metric: 'ip' });
    index.add([[1, 0], [1, 0], [0, 1]], [9, 4, 7]);
    const r = index.search([1, 0], 10);
    expect(Array.from(r.ids)).toEqual([4, 9, 7]);
    expect(new FlatIndex({ dim: 2 }).search([1, 0], 5).ids).toHaveLength(0);
  });

  it('any positive integer k is accepted: a k beyond the index returns every vector', async () => {
    const index = new FlatIndex({ dim: 2, metric: 'l2' });
    index.add([[0, 0], [1, 0], [2, 0]]);
    const q = new Float32Array([0, 0]);
    for (const k of [2 ** 31 + 1, 1e9 + 1, 2 ** 40, Number.MAX_SAFE_INTEGER, 2 ** 60]) {
      expect(Array.from(index.search(q, k).ids)).toEqual([0, 1, 2]);
      expect(Array.from((await index.searchAsync(q, k)).ids)).toEqual([0, 1, 2]);
      expect(Array.from(index.searchBatch([[2, 0], [0, 0]], k)[0]!.ids)).toEqual([2, 1, 0]);
      expect(Array.from(index.search(q, k, { allowIds: [2, 1] }).ids)).toEqual([1, 2]);
    }
    expect(codeOf(() => index.search(q, Infinity))).toBe('ERR_INVALID_ARGUMENT');
    // The binding takes k up to 2^53 - 1, the limit TypeScript clamps to.
    const raw = new (native().FlatIndex)(2, 'l2');
    raw.add(new Float32Array([0, 0]));
    expect(raw.search(q, Number.MAX_SAFE_INTEGER).k).toBe(1);
    expect(codeOf(() => raw.search(q, 2 ** 53))).toBe('ERR_INVALID_ARGUMENT');
  });

  it('refuses an add whose automatic ids would pass 2^53 - 1, adding nothing', async () => {
    const index = new FlatIndex({ dim: 2, metric: 'ip' });
    index.add([[1, 0]], [2 ** 53 - 3]);
    expectCode(() => index.add([[0, 1], [1, 1], [1, 2]]), 'ERR_INVALID_ARGUMENT', /nextId is 9007199254740990 and this add has 3 vectors/);
    await expectRejectCode(index.addAsync([[0, 1], [1, 1], [1, 2]]), 'ERR_INVALID_ARGUMENT');
    expect(index.size).toBe(1);
    index.add([[0, 1], [1, 1]]); // 2^53 - 2 and 2^53 - 1: the last ids there are
    expect(index.has(2 ** 53 - 1)).toBe(true);
    expectCode(() => index.add([[2, 2]]), 'ERR_INVALID_ARGUMENT', /nextId is 9007199254740992 and this add has 1 vector\b/);
    expect(index.size).toBe(3);
    expect(index.remove([2 ** 53 - 2, 2 ** 53 - 1])).toBe(2);
    index.add([[3, 3]], [5]); // explicit ids still work
    expect(index.size).toBe(2);
  });

  it('assigns sequential ids continuing after the largest id', () => {
    const index = new FlatIndex({ dim: 2, metric: 'ip' });
    index.add([[1, 0]]);
    index.add([[0, 1]], [10]);
    index.add([[1, 1]]);
    expect(index.size).toBe(3);
    expect(index.has(0) && index.has(10) && index.has(11)).toBe(true);
    expect(index.nextId).toBe(12);
  });

  it('removes by id, returns the count, and getVector reads stored vectors', () => {
    const index = new FlatIndex({ dim: 2, metric: 'l2' });
    index.add([[1, 0], [2, 0], [3, 0]], [1, 2, 3]);
    expect(Array.from(index.getVector(2))).toEqual([2, 0]);
    expect(index.remove([2])).toBe(1);
    expect(index.has(2)).toBe(false);
    expect(index.size).toBe(2);
    expect(Array.from(index.search([2.1, 0], 5).ids)).toEqual([3, 1]);
    expectCode(() => index.getVector(2), 'ERR_NOT_FOUND');
  });

  it('cosine stores normalised vectors; zero vectors score 0 instead of NaN', () => {
    const index = new FlatIndex({ dim: 2, metric: 'cosine' });
    index.add([[3, 4], [0, 0]]);
    expect(Array.from(index.getVector(0))).toEqual([expect.closeTo(0.6, 6), expect.closeTo(0.8, 6)]);
    const r = index.search([0, 0], 2);
    expect(Array.from(r.scores)).toEqual([0, 0]);
  });

  it('reports memory usage that grows with the data', () => {
    const index = new FlatIndex({ dim: 64, metric: 'ip' });
    const before = index.memoryUsage();
    index.add(randomVectors(10_000, 64, 3));
    expect(index.memoryUsage()).toBeGreaterThanOrEqual(before + 10_000 * 64 * 4);
  });
});

describe('FlatIndex rejects bad input with typed errors', () => {
  const index = new FlatIndex({ dim: 4, metric: 'ip' });
  index.add([[1, 2, 3, 4]], [1]);

  it('bad options', () => {
    expectCode(() => new FlatIndex({ dim: 0 }), 'ERR_INVALID_ARGUMENT', /dim must be an integer from 1 to 65536; received the number 0/);
    expectCode(() => new FlatIndex({ dim: 2.5 }), 'ERR_INVALID_ARGUMENT');
    expectCode(() => new FlatIndex({ dim: 4, metric: 'dot' as Metric }), 'ERR_INVALID_ARGUMENT', /metric must be one of 'ip', 'cosine', 'l2'; received the string "dot"/);
    expectCode(() => new FlatIndex(undefined as never), 'ERR_INVALID_ARGUMENT');
    // Only undefined means "the default": null is a wrong value.
    expectCode(() => new FlatIndex({ dim: 4, metric: null as never }), 'ERR_INVALID_ARGUMENT', /metric must be one of .*; received null/);
  });

  it('wrong dimension and lengths that are not a multiple of dim', () => {
    expectCode(() => index.add([[1, 2, 3]]), 'ERR_DIMENSION_MISMATCH', /vectors\[0\] must have dim = 4 values; received 3/);
    expectCode(() => index.add(new Float32Array(6)), 'ERR_DIMENSION_MISMATCH', /multiple of dim \(4\).*length 6/);
    expectCode(() => index.search([1, 2], 1), 'ERR_DIMENSION_MISMATCH', /query must have dim = 4 values; received 2/);
    expectCode(() => index.searchBatch(new Float32Array(5), 1), 'ERR_DIMENSION_MISMATCH');
  });

  it('NaN or Infinity in vectors and queries', () => {
    expectCode(() => index.add([[1, NaN, 3, 4]]), 'ERR_INVALID_ARGUMENT', /finite numbers; received NaN at component 1/);
    expectCode(() => index.add(new Float32Array([1, 2, 3, 4, 1, 2, Infinity, 4])), 'ERR_INVALID_ARGUMENT', /Infinity at vector 1, component 2/);
    expectCode(() => index.search([1, 2, 3, -Infinity], 1), 'ERR_INVALID_ARGUMENT');
  });

  it('empty input and wrong types', () => {
    expectCode(() => index.add([]), 'ERR_INVALID_ARGUMENT', /at least one vector; received none/);
    expectCode(() => index.add(new Float32Array(0)), 'ERR_INVALID_ARGUMENT');
    expectCode(() => index.add('vectors' as never), 'ERR_INVALID_ARGUMENT', /received the string "vectors"/);
    expectCode(() => index.add(new Float64Array(4) as never), 'ERR_INVALID_ARGUMENT', /Float64Array.*Float32Array.from/);
    expectCode(() => index.add([[1, 2, '3', 4]] as never), 'ERR_INVALID_ARGUMENT');
  });

  it('k <= 0 or not an integer', () => {
    for (const k of [0, -1, 1.5, NaN, '3', undefined]) {
      expectCode(() => index.search([1, 2, 3, 4], k as number), 'ERR_INVALID_ARGUMENT', /k must be a positive integer/);
    }
  });

  it('non-numeric, negative, fractional or unsafe ids, and a wrong id count', () => {
    expectCode(() => index.add([[1, 1, 1, 1]], ['a'] as never), 'ERR_INVALID_ARGUMENT', /ids\[0\] is the string "a"/);
    expectCode(() => index.add([[1, 1, 1, 1]], [-1]), 'ERR_INVALID_ARGUMENT');
    expectCode(() => index.add([[1, 1, 1, 1]], [1.5]), 'ERR_INVALID_ARGUMENT');
    expectCode(() => index.add([[1, 1, 1, 1]], [2 ** 53]), 'ERR_INVALID_ARGUMENT');
    expectCode(() => index.add([[1, 1, 1, 1]], [2, 3]), 'ERR_INVALID_ARGUMENT', /one id per vector \(1\); received 2/);
    expect(index.size).toBe(1);
  });

  it('duplicate ids, within a call or already present: nothing is added', () => {
    expectCode(() => index.add([[1, 1, 1, 1], [2, 2, 2, 2]], [7, 7]), 'ERR_DUPLICATE_ID', /id 7 appears more than once/);
    expectCode(() => index.add([[1, 1, 1, 1], [2, 2, 2, 2]], [8, 1]), 'ERR_DUPLICATE_ID', /id 1 is already in the index/);
    expect(index.size).toBe(1);
    expect(index.has(8)).toBe(false);
  });

  it('unknown ids in remove: nothing is removed', async () => {
    expectCode(() => index.remove([1, 99]), 'ERR_NOT_FOUND', /id 99 is not in the index/);
    expect(index.has(1)).toBe(true);
    await expectRejectCode(index.removeAsync([1, 99]), 'ERR_NOT_FOUND');
    expect(index.has(1)).toBe(true);
  });

  it('removeAsync removes on a worker thread and returns the count', async () => {
    const other = new FlatIndex({ dim: 2, metric: 'l2' });
    other.add([[0, 0], [1, 1], [2, 2]], [5, 6, 7]);
    expect(await other.removeAsync([5, 7, 7])).toBe(2);
    expect(other.size).toBe(1);
    expect(other.search([2, 2], 3).ids).toEqual(new Float64Array([6]));
  });

  it('async methods reject with the same typed errors and the caller in the stack', async () => {
    const err = await expectRejectCode(index.addAsync([[1, 1, 1, 1]], [1]), 'ERR_DUPLICATE_ID');
    expect(err.stack).toContain('flat-index.test.ts');
    await expectRejectCode(index.saveAsync(join(dir, 'missing-dir', 'x.svx')), 'ERR_IO');
    await expectRejectCode(FlatIndex.loadAsync(join(dir, 'nope.svx')), 'ERR_NOT_FOUND');
  });

  it('an unwritable save path', () => {
    expectCode(() => index.save(join(dir, 'no', 'such', 'dir.svx')), 'ERR_IO', /cannot write index file/);
    expectCode(() => index.save(''), 'ERR_INVALID_ARGUMENT');
    if (process.getuid?.() !== 0) {
      const ro = join(dir, 'ro');
      writeFileSync(join(dir, 'placeholder'), '');
      chmodSync(dir, 0o500);
      try {
        expectCode(() => index.save(ro), 'ERR_IO');
      } finally {
        chmodSync(dir, 0o700);
      }
    }
  });
});

describe('FlatIndex save and load', () => {
  for (const metric of metrics) {
    it(`${metric}: file and buffer round trips give identical results`, async () => {
      const dim = 17;
      const index = new FlatIndex({ dim, metric });
      index.add(randomVectors(700, dim, 11));
      index.remove([3, 4, 5]);
      const path = join(dir, `round-${metric}.svx`);
      index.save(path);
      const a = FlatIndex.load(path);
      const b = FlatIndex.fromBuffer(index.toBuffer());
      await index.saveAsync(path);
      const c = await FlatIndex.loadAsync(path);
      expect(readFileSync(path).equals(index.toBuffer())).toBe(true);
      const q = randomVectors(5, dim, 12);
      const want = index.searchBatch(q, 9);
      for (const loaded of [a, b, c]) {
        expect(loaded.metric).toBe(metric);
        expect(loaded.dim).toBe(dim);
        expect(loaded.size).toBe(697);
        expect(loaded.nextId).toBe(700);
        expect(loaded.searchBatch(q, 9)).toEqual(want);
      }
    });
  }
});
