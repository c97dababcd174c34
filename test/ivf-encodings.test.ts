import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { FlatIndex, IVF_ENCODINGS, IVFIndex, recallAtK, type IVFEncoding, type Metric } from '../src/index.js';
import { blobs } from './helpers/data.js';
import { codeOf } from './helpers/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'semvec-ivf-enc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const dim = 64;
const data = blobs(6000, dim, 60, 0.35, 11);
const queries = blobs(100, dim, 60, 0.35, 12);
const n = data.length / dim;

function built(encoding: IVFEncoding, metric: Metric, rerank?: number): IVFIndex {
  const ivf = new IVFIndex({ dim, metric, nlist: 32, encoding, ...(rerank === undefined ? {} : { rerank }) });
  ivf.train(data, { seed: 4 });
  ivf.add(data);
  return ivf;
}

describe('IVF_ENCODINGS', () => {
  it('lists every encoding with its bits per dimension, frozen', () => {
    expect(IVF_ENCODINGS.map((e) => [e.name, e.bitsPerDim])).toEqual([
      ['f32', 32],
      ['sq8', 8],
      ['rq4', 4],
      ['rq1', 1],
    ]);
    expect(Object.isFrozen(IVF_ENCODINGS)).toBe(true);
    expect(Object.isFrozen(IVF_ENCODINGS[0])).toBe(true);
  });
});

for (const encoding of ['rq4', 'rq1'] as const) {
  describe(`IVFIndex with encoding '${encoding}'`, () => {
    for (const metric of ['l2', 'ip', 'cosine'] as Metric[]) {
      it(`${metric}: re-ranking every vector at nprobe = nlist returns exactly the flat index's results`, () => {
        const ivf = built(encoding, metric);
        expect(ivf.encoding).toBe(encoding);
        const flat = new FlatIndex({ dim, metric });
        flat.add(data);
        const exact = flat.searchBatch(queries, 10);
        const all = ivf.searchBatch(queries, 10, { nprobe: 32, rerank: n });
        expect(all.map((r) => Array.from(r.ids))).toEqual(exact.map((r) => Array.from(r.ids)));
      });
    }

    it('reaches the recall of the float lists with enough re-ranking, and less without', () => {
      const f32 = built('f32', 'cosine');
      const ivf = built(encoding, 'cosine');
      const flat = new FlatIndex({ dim, metric: 'cosine' });
      flat.add(data);
      const exact = flat.searchBatch(queries, 10);
      const want = recallAtK(f32.searchBatch(queries, 10, { nprobe: 8 }), exact, 10);
      const got = recallAtK(ivf.searchBatch(queries, 10, { nprobe: 8, rerank: encoding === 'rq4' ? 200 : 1000 }), exact, 10);
      expect(got).toBeGreaterThan(want - 0.02);
      const estimated = recallAtK(ivf.searchBatch(queries, 10, { nprobe: 8, rerank: 0 }), exact, 10);
      expect(estimated).toBeLessThan(got + 1e-9);
      expect(estimated).toBeGreaterThan(encoding === 'rq4' ? 0.5 : 0.1);
    });

    it('keeps filtered search, removals and files working', async () => {
      const ivf = built(encoding, 'cosine', 100);
      const q = queries.subarray(0, 10 * dim);
      const allowIds = Array.from({ length: 400 }, (_, i) => i * 13);
      const allowed = new Set(allowIds);
      for (const r of ivf.searchBatch(q, 5, { allowIds })) {
        expect(r.ids.length).toBe(5);
        for (const id of r.ids) expect(allowed.has(id)).toBe(true);
      }
      const before = ivf.searchBatch(q, 5);
      const gone = Array.from(before[0]!.ids);
      expect(ivf.remove(gone)).toBe(5);
      const after = ivf.searchBatch(q, 5);
      for (const id of gone) expect(Array.from(after[0]!.ids)).not.toContain(id);

      const path = join(dir, `${encoding}.svx`);
      await ivf.saveAsync(path);
      const loaded = IVFIndex.load(path);
      const mapped = IVFIndex.open(path);
      expect(loaded.encoding).toBe(encoding);
      expect(mapped.encoding).toBe(encoding);
      expect(loaded.searchBatch(q, 5)).toEqual(after);
      expect(mapped.searchBatch(q, 5)).toEqual(after);
      expect(IVFIndex.fromBuffer(ivf.toBuffer()).searchBatch(q, 5)).toEqual(after);
      expect(mapped.memoryUsage()).toBeLessThan(loaded.memoryUsage());
      expect(mapped.mappedBytes()).toBeGreaterThan(0);
    });
  });
}

describe('IVFIndex.open with codesOnly', () => {
  for (const encoding of ['sq8', 'rq4', 'rq1'] as const) {
    it(`${encoding}: holds the codes, ids and centroids in memory, reads the floats from the file, same results`, () => {
      const ivf = built(encoding, 'l2', 50);
      const path = join(dir, `codes-only-${encoding}.svx`);
      ivf.save(path);
      const codesOnly = IVFIndex.open(path, { codesOnly: true });
      const mapped = IVFIndex.open(path);
      const q = queries.subarray(0, 20 * dim);
      expect(codesOnly.searchBatch(q, 10, { nprobe: 8 })).toEqual(ivf.searchBatch(q, 10, { nprobe: 8 }));
      const parts = codesOnly.memoryParts();
      const inMemory = ivf.memoryParts();
      expect(parts.floats).toBe(0);
      expect(parts.floatsMapped).toBe(n * dim * 4);
      expect(inMemory.floats).toBeGreaterThanOrEqual(n * dim * 4);
      expect(inMemory.floatsMapped).toBe(0);
      expect(parts.codes).toBeGreaterThan(0);
      expect(parts.codes).toBeLessThanOrEqual(inMemory.codes);
      expect(parts.ids).toBeGreaterThan(0);
      expect(parts.centroids).toBeGreaterThan(0);
      // Plain open() holds no codes in memory; codes-only holds them but no floats.
      expect(mapped.memoryParts().codes).toBe(0);
      expect(codesOnly.memoryUsage()).toBeLessThan(ivf.memoryUsage() / (encoding === 'sq8' ? 2 : 3));
      expect(codesOnly.readOnly).toBe(true);
      expect(codeOf(() => codesOnly.add(data.subarray(0, dim)))).toBe('ERR_READ_ONLY');
    });
  }

  it('refuses f32 indexes and a non-boolean codesOnly with ERR_INVALID_ARGUMENT', () => {
    const ivf = built('f32', 'l2');
    const path = join(dir, 'codes-only-f32.svx');
    ivf.save(path);
    expect(codeOf(() => IVFIndex.open(path, { codesOnly: true }))).toBe('ERR_INVALID_ARGUMENT');
    expect(() => IVFIndex.open(path, { codesOnly: true })).toThrow(/codes-only needs an encoded index/);
    expect(codeOf(() => IVFIndex.open(path, { codesOnly: 'yes' as never }))).toBe('ERR_INVALID_ARGUMENT');
  });
});

describe('IVF encodings: validation', () => {
  it('rejects an unknown encoding and rq dims above the limit with ERR_INVALID_ARGUMENT', () => {
    expect(codeOf(() => new IVFIndex({ dim, nlist: 8, encoding: 'rq2' as never }))).toBe('ERR_INVALID_ARGUMENT');
    expect(() => new IVFIndex({ dim, nlist: 8, encoding: 'pq' as never })).toThrow(/'f32', 'sq8', 'rq4', 'rq1'/);
    expect(codeOf(() => new IVFIndex({ dim: 4096, nlist: 8, encoding: 'rq4' }))).toBe('ERR_INVALID_ARGUMENT');
    expect(() => new IVFIndex({ dim: 4096, nlist: 8, encoding: 'rq1' })).toThrow(/dim from 1 to 2048; received 4096/);
  });
});
