import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import { DEFAULT_RERANK, FlatIndex, IVF_TRAINING_DEFAULTS, IVFIndex, recallAtK, SemvecError, suggestNlist, type Metric } from '../src/index.js';
import { native, type NativeIvfIndex } from '../src/native.js';
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

  it('trainAsync runs every onProgress call before settling; false stops it, a throw rejects and changes nothing', async () => {
    const calls: number[] = [];
    const stopped = new IVFIndex({ dim, nlist: 16 });
    const r = await stopped.trainAsync(data, { iterations: 8, onProgress: (i) => (calls.push(i), i < 3) });
    expect(r.iterations).toBe(3);
    expect(calls).toEqual([1, 2, 3]);
    const sync = new IVFIndex({ dim, nlist: 16 });
    expect(sync.train(data, { iterations: 8, onProgress: (i) => i < 3 }).iterations).toBe(3);
    expect(stopped.centroids()).toEqual(sync.centroids());

    const fail = new Error('stop training');
    const thrown: number[] = [];
    const failing = new IVFIndex({ dim, nlist: 16 });
    await expect(failing.trainAsync(data, { iterations: 8, onProgress: (i) => {
      thrown.push(i);
      if (i === 2) throw fail;
    } })).rejects.toBe(fail);
    expect(thrown).toEqual([1, 2]);
    expect(failing.isTrained).toBe(false); // abandoned: nothing changed
    expect(() => failing.train(data, { onProgress: () => { throw fail; } })).toThrow(fail);
    expect(failing.isTrained).toBe(false);
  });

  it('validates nlist, nprobe and training input', () => {
    expect(codeOf(() => new IVFIndex({ dim, nlist: 0 }))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => new IVFIndex({ dim, nlist: 4, nprobe: 5 }))).toBe('ERR_INVALID_ARGUMENT');
    // Only undefined means "the default": null is a wrong value.
    for (const key of ['metric', 'nprobe', 'encoding', 'rerank', 'training', 'autoTrain']) {
      expect(() => new IVFIndex({ dim, nlist: 4, [key]: null }), key).toThrow(new RegExp(`${key}.*received null`));
    }
    expect(() => new IVFIndex({ dim, nlist: 4, autoTrain: 'yes' as never })).toThrow(/autoTrain must be true or false/);
    for (const key of ['iterations', 'seed', 'maxPointsPerCentroid', 'init']) {
      expect(() => new IVFIndex({ dim, nlist: 4 }).train(data, { [key]: null }), key).toThrow(new RegExp(`${key}.*received null`));
    }
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

  it('refuses an add whose automatic ids would pass 2^53 - 1, adding nothing', async () => {
    const ivf = new IVFIndex({ dim, nlist: 8 });
    ivf.train(data);
    ivf.add(data.subarray(0, dim), [2 ** 53 - 2]);
    expect(codeOf(() => ivf.add(data.subarray(dim, 3 * dim)))).toBe('ERR_INVALID_ARGUMENT');
    await expect(ivf.addAsync(data.subarray(dim, 3 * dim))).rejects.toThrow(/nextId is 9007199254740991 and this add has 2 vectors/);
    expect(ivf.size).toBe(1);
    ivf.add(data.subarray(dim, 2 * dim));
    expect(ivf.has(2 ** 53 - 1)).toBe(true);
    expect(codeOf(() => ivf.add(data.subarray(dim, 2 * dim)))).toBe('ERR_INVALID_ARGUMENT');
    expect(ivf.size).toBe(2);
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

  it('any positive integer k is accepted: at nprobe = nlist a k beyond the index returns every vector', async () => {
    const ivf = new IVFIndex({ dim, metric: 'l2', nlist: 8 });
    ivf.train(data);
    ivf.add(data.subarray(0, 200 * dim));
    const q = queries.subarray(0, dim);
    for (const k of [2 ** 31 + 1, 1e9 + 1, 2 ** 40, Number.MAX_SAFE_INTEGER, 2 ** 60]) {
      expect(ivf.search(q, k, { nprobe: 8 }).ids).toHaveLength(200);
      expect((await ivf.searchAsync(q, k, { nprobe: 8 })).ids).toHaveLength(200);
      expect(ivf.searchBatch(queries.subarray(0, 2 * dim), k, { nprobe: 8 })[1]!.ids).toHaveLength(200);
    }
    expect(new Set(ivf.search(q, 2 ** 40, { nprobe: 8 }).ids).size).toBe(200);
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
    expect(IVFIndex.fromBuffer(readFileSync(golden)).toBuffer().readUInt16LE(8)).toBe(3); // saved again as format 3
  });
});

describe("IVFIndex with encoding 'sq8'", () => {
  const flatOf = (metric: Metric): FlatIndex => {
    const flat = new FlatIndex({ dim, metric });
    flat.add(data);
    return flat;
  };
  const sq8Of = (metric: Metric, options: { rerank?: number } = {}): IVFIndex => {
    const ivf = new IVFIndex({ dim, metric, nlist: 32, encoding: 'sq8', ...options });
    ivf.train(data, { seed: 4 });
    ivf.add(data);
    return ivf;
  };

  for (const metric of ['l2', 'ip', 'cosine'] as Metric[]) {
    it(`${metric}: re-ranking every vector at nprobe = nlist returns exactly the flat index's results`, () => {
      const ivf = sq8Of(metric);
      expect(ivf.encoding).toBe('sq8');
      const exact = flatOf(metric).searchBatch(queries, 10);
      const all = ivf.searchBatch(queries, 10, { nprobe: 32, rerank: data.length / dim });
      expect(all.map((r) => Array.from(r.ids))).toEqual(exact.map((r) => Array.from(r.ids)));
      all.forEach((r, q) => r.scores.forEach((s, j) => expect(s).toBeCloseTo(exact[q]!.scores[j]!, 4)));
    });
  }

  it('keeps the recall of the float lists with the default rerank, and less without re-ranking', () => {
    const f32 = new IVFIndex({ dim, metric: 'l2', nlist: 32 });
    f32.train(data, { seed: 4 });
    f32.add(data);
    const sq8 = sq8Of('l2');
    expect(sq8.rerank).toBe(64);
    const exact = flatOf('l2').searchBatch(queries, 10);
    for (const nprobe of [2, 8, 32]) {
      const want = recallAtK(f32.searchBatch(queries, 10, { nprobe }), exact, 10);
      expect(recallAtK(sq8.searchBatch(queries, 10, { nprobe }), exact, 10)).toBeCloseTo(want, 2);
    }
    // rerank 0: the 8-bit estimates themselves, close to the exact distances.
    const estimated = sq8.searchBatch(queries, 10, { nprobe: 32, rerank: 0 });
    expect(recallAtK(estimated, exact, 10)).toBeGreaterThan(0.8);
    estimated.forEach((r, q) => {
      const truth = exact[q]!.scores[0]!;
      expect(Math.abs(r.scores[0]! - truth)).toBeLessThan(0.05 * Math.max(1, truth));
    });
  });

  it('agrees between single, batch and async searches, with an allow-list and after removals', async () => {
    const ivf = sq8Of('cosine', { rerank: 20 });
    ivf.nprobe = 4;
    const q = queries.subarray(0, 20 * dim);
    const batch = ivf.searchBatch(q, 5);
    batch.forEach((r, i) => expect(ivf.search(q.subarray(i * dim, (i + 1) * dim), 5)).toEqual(r));
    expect(await ivf.searchBatchAsync(q, 5)).toEqual(batch);
    expect(await ivf.searchAsync(q.subarray(0, dim), 5)).toEqual(batch[0]);

    const allowIds = Array.from({ length: 300 }, (_, i) => i * 7);
    const filtered = ivf.searchBatch(q, 5, { allowIds });
    const allowed = new Set(allowIds);
    for (const r of filtered) {
      expect(r.ids.length).toBe(5);
      for (const id of r.ids) expect(allowed.has(id)).toBe(true);
    }

    const gone = Array.from(batch[0]!.ids);
    expect(ivf.remove(gone)).toBe(5);
    const after = ivf.search(q.subarray(0, dim), 5, { nprobe: 32, rerank: 6000 });
    for (const id of gone) expect(Array.from(after.ids)).not.toContain(id);
    const flat = new FlatIndex({ dim, metric: 'cosine' });
    flat.add(data);
    flat.remove(gone);
    expect(Array.from(after.ids)).toEqual(Array.from(flat.search(q.subarray(0, dim), 5).ids));
  });

  it('validates encoding and rerank', () => {
    expect(codeOf(() => new IVFIndex({ dim, nlist: 8, encoding: 'pq' as never }))).toBe('ERR_INVALID_ARGUMENT');
    expect(() => new IVFIndex({ dim, nlist: 8, encoding: 'pq' as never })).toThrow(/encoding must be one of 'f32', 'sq8'/);
    for (const rerank of [-1, 1.5, 2 ** 21]) {
      expect(codeOf(() => new IVFIndex({ dim, nlist: 8, encoding: 'sq8', rerank }))).toBe('ERR_INVALID_ARGUMENT');
    }
    const ivf = new IVFIndex({ dim, nlist: 8, encoding: 'sq8' });
    ivf.train(data);
    ivf.add(data.subarray(0, 100 * dim));
    expect(codeOf(() => ivf.search(queries.subarray(0, dim), 3, { rerank: -2 }))).toBe('ERR_INVALID_ARGUMENT');
    expect(() => (ivf.rerank = 0.5)).toThrow(/rerank/);
    ivf.rerank = 8;
    expect(ivf.rerank).toBe(8);
    expect(new IVFIndex({ dim, nlist: 8 }).encoding).toBe('f32');
  });

  it('saves and loads as format 3 with identical results, loaded or mapped; float indexes too', async () => {
    const ivf = sq8Of('l2', { rerank: 12 });
    ivf.remove([3, 4, 5]);
    const path = join(dir, 'ivf-sq8.svx');
    await ivf.saveAsync(path);
    const bytes = readFileSync(path);
    expect(bytes.readUInt16LE(8)).toBe(3);
    const want = ivf.searchBatch(queries.subarray(0, 10 * dim), 7, { nprobe: 3 });
    const copies = [IVFIndex.load(path), await IVFIndex.loadAsync(path), IVFIndex.fromBuffer(bytes), IVFIndex.open(path), await IVFIndex.openAsync(path)];
    for (const c of copies) {
      expect([c.encoding, c.rerank, c.size]).toEqual(['sq8', 12, 5997]);
      expect(c.searchBatch(queries.subarray(0, 10 * dim), 7, { nprobe: 3 })).toEqual(want);
      expect(c.searchBatch(queries.subarray(0, 10 * dim), 7, { nprobe: 3, rerank: 0 })).toEqual(
        ivf.searchBatch(queries.subarray(0, 10 * dim), 7, { nprobe: 3, rerank: 0 }),
      );
    }
    const f32 = new IVFIndex({ dim, nlist: 4 });
    f32.train(data.subarray(0, 100 * dim));
    expect(Buffer.from(f32.toBuffer()).readUInt16LE(8)).toBe(3);
    const bad = Buffer.from(bytes);
    bad[bad.length - 30]! ^= 1;
    expect(codeOf(() => IVFIndex.fromBuffer(bad))).toBe('ERR_CORRUPT_FILE');
  });

  it('reads the format 2 golden file', () => {
    const golden = fileURLToPath(new URL('fixtures/ivf-sq8-v2.svx', import.meta.url));
    const ivf = IVFIndex.load(golden);
    expect([ivf.encoding, ivf.rerank, ivf.size, ivf.nlist, ivf.nprobe, ivf.nextId]).toEqual(['sq8', 2, 3, 2, 1, 41]);
    const r = ivf.search([1, 0, 0], 3, { nprobe: 2 });
    expect(Array.from(r.ids)).toEqual([10, 30, 40]);
    expect(Array.from(r.scores)).toEqual([0, 2, 4.3125]);
    expect(IVFIndex.fromBuffer(readFileSync(golden)).toBuffer().readUInt16LE(8)).toBe(3); // saved again as format 3
  });
});

describe('IVF defaults and limits, read from the native core', () => {
  it('exports the values the core defines: rerank 64, training 10 iterations / 64 points per centroid / random init', () => {
    expect(DEFAULT_RERANK).toBe(64);
    expect({ ...IVF_TRAINING_DEFAULTS }).toEqual({ iterations: 10, maxPointsPerCentroid: 64, init: 'random' });
    expect(JSON.stringify(IVF_TRAINING_DEFAULTS)).toBe('{"iterations":10,"maxPointsPerCentroid":64,"init":"random"}');
    // One home: the exported object is the core's, and nobody can change it.
    expect(IVF_TRAINING_DEFAULTS).toBe(native().constants.defaults.ivfTraining);
    expect(Object.isFrozen(IVF_TRAINING_DEFAULTS)).toBe(true);
    expect(native().constants.limits).toMatchObject({ maxDim: 65536, maxNlist: 1 << 20, maxRerank: 1 << 20 });
  });

  it('an index made without nprobe or rerank probes min(8, nlist) lists and re-ranks DEFAULT_RERANK', () => {
    expect(new IVFIndex({ dim, nlist: 4 }).nprobe).toBe(4);
    expect(new IVFIndex({ dim, nlist: 100 }).nprobe).toBe(8);
    expect(new IVFIndex({ dim, nlist: 4, encoding: 'sq8' }).rerank).toBe(DEFAULT_RERANK);
    expect(codeOf(() => new IVFIndex({ dim, nlist: (1 << 20) + 1 }))).toBe('ERR_INVALID_ARGUMENT');
  });

  it('native training falls back to the IVF training defaults, not to k-means\'s, for options not given', () => {
    const nat = native();
    // 1000 points, 4 lists: 64 points per centroid train on 256; k-means's 256 would take all 1000.
    const x = data.subarray(0, 1000 * dim);
    const ivf = new nat.IvfIndex(dim, 'l2', 4, undefined, 'f32', undefined);
    expect(ivf.train(x, {} as never).trainingPoints).toBe(256);
    expect(nat.kmeans(x, dim, { k: 4 } as never).trainingPoints).toBe(1000);
    expect(nat.kmeans(x, dim, { k: 2, maxPointsPerCentroid: 100 } as never).trainingPoints).toBe(200);
  });
});

describe('reading IVF state across the native boundary', () => {
  it('fixed facts are read once; getters and searches never walk the lists; memoryUsage() does', () => {
    const nat = native();
    const Real = nat.IvfIndex;
    const calls = { info: 0, memoryUsage: 0 };
    class Counting extends (Real as unknown as new (...args: unknown[]) => NativeIvfIndex) {
      override info() {
        calls.info++;
        return super.info();
      }
      override memoryUsage() {
        calls.memoryUsage++;
        return super.memoryUsage();
      }
    }
    (nat as { IvfIndex: unknown }).IvfIndex = Counting;
    try {
      const ivf = new IVFIndex({ dim, nlist: 16, encoding: 'sq8' });
      const atConstruction = calls.info;
      ivf.train(data);
      ivf.add(data.subarray(0, 500 * dim));
      const q = queries.subarray(0, dim);
      for (let i = 0; i < 3; i++) {
        ivf.search(q, 3, { nprobe: 4, rerank: 8 });
        ivf.searchBatch(queries.subarray(0, 4 * dim), 3, { nprobe: 16 });
        expect([ivf.nlist, ivf.nprobe, ivf.rerank, ivf.encoding, ivf.isTrained, ivf.size, ivf.nextId]).toEqual([16, 8, 64, 'sq8', true, 500, 500]);
      }
      expect(calls).toEqual({ info: atConstruction, memoryUsage: 0 });
      expect(ivf.memoryUsage()).toBeGreaterThan(500 * dim);
      expect(calls.memoryUsage).toBe(1);
    } finally {
      (nat as { IvfIndex: unknown }).IvfIndex = Real;
    }
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
