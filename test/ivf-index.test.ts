import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import { FlatIndex, IVFIndex, recallAtK, SemvecError, suggestNlist, type Metric } from '../src/index.js';
import { blobs } from './helpers/data.js';
import { codeOf } from './helpers/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'semvec-ivf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const dim = 24;
const data = blobs(6000, dim, 60, 0.35, 1);
const queries = blobs(200, dim, 60, 0.35, 2);

describe('IVFIndex against the exact index', () => {
  for (const metric of ['l2', 'ip', 'cosine'] as Metric[]) {
    it(`${metric}: nprobe = nlist returns exactly the flat index's results`, async () => {
      const ivf = new IVFIndex({ dim, metric, nlist: 32 });
      ivf.train(data);
      ivf.add(data);
      const flat = new FlatIndex({ dim, metric });
      flat.add(data);
      const exact = flat.searchBatch(queries, 10);
      const all = ivf.searchBatch(queries, 10, { nprobe: 32 });
      expect(all.map((r) => Array.from(r.ids))).toEqual(exact.map((r) => Array.from(r.ids)));
      all.forEach((r, q) => r.scores.forEach((s, j) => expect(s).toBeCloseTo(exact[q]!.scores[j]!, 3)));
      const one = await ivf.searchAsync(queries.subarray(0, dim), 10, { nprobe: 32 });
      expect(Array.from(one.ids)).toEqual(Array.from(exact[0]!.ids));
    });
  }

  it('recall@10 grows with nprobe and reaches 1.0 at nprobe = nlist', () => {
    const ivf = new IVFIndex({ dim, metric: 'l2', nlist: 64 });
    ivf.train(data, { seed: 5 });
    ivf.add(data);
    const flat = new FlatIndex({ dim, metric: 'l2' });
    flat.add(data);
    const exact = flat.searchBatch(queries, 10);
    const recalls = [1, 2, 4, 8, 16, 32, 64].map((nprobe) => recallAtK(ivf.searchBatch(queries, 10, { nprobe }), exact, 10));
    for (let i = 1; i < recalls.length; i++) expect(recalls[i]!).toBeGreaterThanOrEqual(recalls[i - 1]!);
    expect(recalls[0]!).toBeLessThan(1); // the data is hard enough that one probe misses some
    expect(recalls.at(-1)).toBe(1);
  });

  it('batch and single-query searches agree', () => {
    const ivf = new IVFIndex({ dim, metric: 'cosine', nlist: 16, nprobe: 3 });
    ivf.train(data);
    ivf.add(data);
    const batch = ivf.searchBatch(queries.subarray(0, 20 * dim), 5);
    batch.forEach((r, q) => expect(ivf.search(queries.subarray(q * dim, (q + 1) * dim), 5)).toEqual(r));
  });
});

describe('IVFIndex lifecycle', () => {
  it('is typed-error before training and trains on the first add with autoTrain', async () => {
    const ivf = new IVFIndex({ dim, nlist: 8 });
    expect(ivf.isTrained).toBe(false);
    expect(codeOf(() => ivf.add(data))).toBe('ERR_NOT_TRAINED');
    expect(codeOf(() => ivf.search(queries.subarray(0, dim), 3))).toBe('ERR_NOT_TRAINED');
    const auto = new IVFIndex({ dim, nlist: 8, autoTrain: true, training: { seed: 9 } });
    await auto.addAsync(data.subarray(0, 1000 * dim));
    expect(auto.isTrained).toBe(true);
    expect(auto.size).toBe(1000);
    expect(auto.listSizes().reduce((a, b) => a + b, 0)).toBe(1000);
    expect(auto.centroids()).toHaveLength(8 * dim);
  });

  it('validates nlist, nprobe and training input', () => {
    expect(codeOf(() => new IVFIndex({ dim, nlist: 0 }))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => new IVFIndex({ dim, nlist: 4, nprobe: 5 }))).toBe('ERR_INVALID_ARGUMENT');
    const ivf = new IVFIndex({ dim, nlist: 8 });
    expect(codeOf(() => ivf.train(data.subarray(0, 5 * dim)))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => ivf.train(data, { iterations: 0 }))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => ivf.train(data, { init: 'best' as never }))).toBe('ERR_INVALID_ARGUMENT');
    ivf.train(data);
    ivf.add(data.subarray(0, 100 * dim));
    for (const nprobe of [0, 9, 1.5]) {
      expect(codeOf(() => ivf.search(queries.subarray(0, dim), 3, { nprobe }))).toBe('ERR_INVALID_ARGUMENT');
    }
    expect(() => (ivf.nprobe = 9)).toThrow(/nprobe must be an integer from 1 to 8/);
    ivf.nprobe = 8;
    expect(ivf.nprobe).toBe(8);
    expect(codeOf(() => ivf.train(data))).toBe('ERR_INVALID_ARGUMENT'); // holds vectors already
  });

  it('removes, reads back and reports memory', () => {
    const ivf = new IVFIndex({ dim, metric: 'l2', nlist: 8 });
    ivf.train(data);
    ivf.add(data.subarray(0, 500 * dim), Array.from({ length: 500 }, (_, i) => 1000 + i));
    expect(Array.from(ivf.getVector(1003))).toEqual(Array.from(data.subarray(3 * dim, 4 * dim)));
    expect(codeOf(() => ivf.remove([1003, 5]))).toBe('ERR_NOT_FOUND');
    expect(ivf.remove([1003, 1004])).toBe(2);
    expect(ivf.has(1003)).toBe(false);
    expect(ivf.size).toBe(498);
    expect(ivf.memoryUsage()).toBeGreaterThan(498 * dim * 4);
    const r = ivf.search(data.subarray(3 * dim, 4 * dim), 5, { nprobe: 8 });
    expect(Array.from(r.ids)).not.toContain(1003);
  });

  it('returns fewer than k results when the probed lists hold fewer (never padded)', () => {
    const ivf = new IVFIndex({ dim, metric: 'l2', nlist: 16, nprobe: 1 });
    ivf.train(data);
    ivf.add(data.subarray(0, 300 * dim));
    const r = ivf.search(queries.subarray(0, dim), 300);
    expect(r.ids.length).toBeLessThan(300);
    expect(r.ids.length).toBe(r.scores.length);
    expect(new Set(r.ids).size).toBe(r.ids.length);
  });

  it('saves and loads (file, buffer, async) with identical results', async () => {
    const ivf = new IVFIndex({ dim, metric: 'cosine', nlist: 12, nprobe: 4 });
    ivf.train(data);
    ivf.add(data.subarray(0, 2000 * dim));
    const path = join(dir, 'ivf.svx');
    ivf.save(path);
    await ivf.saveAsync(path);
    const copies = [IVFIndex.load(path), await IVFIndex.loadAsync(path), IVFIndex.fromBuffer(ivf.toBuffer())];
    const want = ivf.searchBatch(queries.subarray(0, 10 * dim), 7);
    for (const c of copies) {
      expect(c.nlist).toBe(12);
      expect(c.nprobe).toBe(4);
      expect(c.metric).toBe('cosine');
      expect(c.listSizes()).toEqual(ivf.listSizes());
      expect(c.searchBatch(queries.subarray(0, 10 * dim), 7)).toEqual(want);
    }
    expect(readFileSync(path).equals(ivf.toBuffer())).toBe(true);
    expect(codeOf(() => FlatIndex.load(path))).toBe('ERR_WRONG_INDEX_KIND');
    const bad = Buffer.from(ivf.toBuffer());
    bad[bad.length - 20]! ^= 1;
    expect(codeOf(() => IVFIndex.fromBuffer(bad))).toBe('ERR_CORRUPT_FILE');
  });

  it('reads the format 1 golden file', () => {
    const golden = fileURLToPath(new URL('fixtures/ivf-v1.svx', import.meta.url));
    const ivf = IVFIndex.load(golden);
    expect([ivf.size, ivf.nlist, ivf.nprobe, ivf.nextId]).toEqual([3, 2, 1, 41]);
    expect(ivf.listSizes().sort()).toEqual([1, 2]);
    const r = ivf.search([1, 0, 0], 3, { nprobe: 2 });
    expect(Array.from(r.ids)).toEqual([10, 30, 40]);
    expect(Array.from(r.scores)).toEqual([0, 2, 4.3125]);
    expect(IVFIndex.fromBuffer(readFileSync(golden)).toBuffer().equals(readFileSync(golden))).toBe(true);
  });
});

describe('suggestNlist', () => {
  it('is about 4 sqrt(n), bounded by n / 39', () => {
    expect(suggestNlist(1_000_000)).toBe(4000);
    expect(suggestNlist(10_000)).toBe(256);
    expect(suggestNlist(100)).toBe(2);
    expect(suggestNlist(0)).toBe(1);
    expect(() => suggestNlist(-1)).toThrow(SemvecError);
  });
});
