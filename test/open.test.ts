/**
 * Indexes mapped from files (FlatIndex.open, IVFIndex.open): the results of
 * loaded indexes, read-only, memory reported apart, safe when the file is
 * replaced; emptyLike companions for writes beside a mapped IVF index.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { FlatIndex, GraphIndex, IVFIndex, ValidationError, type IVFEncoding, type Metric } from '../src/index.js';
import { randomVectors } from './helpers/data.js';
import { expectCode, expectRejects } from './helpers/errors.js';
import { Section, sectionAt } from './helpers/format3.js';
import { tempDir } from './helpers/temp.js';

const dir = tempDir('semvec-open-');
const dim = 12;
const n = 1500;
const data = randomVectors(n, dim, 1);
const queries = randomVectors(20, dim, 2);
const ids = Float64Array.from({ length: n }, (_, i) => 3 * i + 1);
const allowIds = Array.from({ length: 300 }, (_, i) => 3 * (5 * i) + 1).concat([2, 999_999]);
const metrics: Metric[] = ['ip', 'cosine', 'l2'];

function flatOf(metric: Metric): FlatIndex {
  const flat = new FlatIndex({ dim, metric });
  flat.add(data, ids);
  flat.remove([4, 7]);
  return flat;
}

function ivfOf(metric: Metric, encoding: IVFEncoding): IVFIndex {
  const ivf = new IVFIndex({ dim, metric, nlist: 24, nprobe: 4, encoding, rerank: 16 });
  ivf.train(data, { seed: 3 });
  ivf.add(data, ids);
  ivf.remove([4, 7]);
  return ivf;
}

describe('FlatIndex.open', () => {
  for (const metric of metrics) {
    it(`${metric}: open and openAsync, verified or not, search exactly as load does, with allow-lists too`, async () => {
      const path = join(dir, `flat-${metric}.svx`);
      flatOf(metric).save(path);
      const loaded = FlatIndex.load(path);
      const mapped = [FlatIndex.open(path), FlatIndex.open(path, { verify: false }), await FlatIndex.openAsync(path, { verify: true })];
      for (const m of mapped) {
        expect([m.readOnly, loaded.readOnly]).toEqual([true, false]);
        expect([m.size, m.nextId, m.dim, m.metric]).toEqual([loaded.size, loaded.nextId, loaded.dim, loaded.metric]);
        expect(m.searchBatch(queries, 10)).toEqual(loaded.searchBatch(queries, 10));
        expect(await m.searchBatchAsync(queries, 10, { allowIds })).toEqual(loaded.searchBatch(queries, 10, { allowIds }));
        expect(m.search(queries.subarray(0, dim), 5, { allowIds })).toEqual(loaded.search(queries.subarray(0, dim), 5, { allowIds }));
        expect(await m.searchAsync(queries.subarray(0, dim), 3)).toEqual(loaded.search(queries.subarray(0, dim), 3));
        expect([m.has(1), m.has(4), m.has(2)]).toEqual([true, false, false]);
        expect(m.getVector(31)).toEqual(loaded.getVector(31));
        expect(m.toBuffer().equals(readFileSync(path))).toBe(true);
      }
    });
  }

  it('writes are ERR_READ_ONLY (a ValidationError saying so) and change nothing', async () => {
    const path = join(dir, 'flat-read-only.svx');
    flatOf('l2').save(path);
    const m = FlatIndex.open(path);
    const err = expectCode(() => m.add(randomVectors(1, dim, 3)), 'ERR_READ_ONLY', /mapped from a file and is read-only: load\(\) the file/);
    expect(err).toBeInstanceOf(ValidationError);
    expectCode(() => m.remove([1]), 'ERR_READ_ONLY');
    await expectRejects(m.addAsync(randomVectors(2, dim, 4), [5, 8]), 'ERR_READ_ONLY');
    await expectRejects(m.removeAsync([1]), 'ERR_READ_ONLY');
    expect([m.size, m.has(1)]).toEqual([n - 2, true]);
  });

  it('memoryUsage() counts heap bytes, mappedBytes() the file', () => {
    const path = join(dir, 'flat-memory.svx');
    flatOf('ip').save(path);
    const m = FlatIndex.open(path);
    const loaded = FlatIndex.load(path);
    expect(m.mappedBytes()).toBe(readFileSync(path).length);
    expect(loaded.mappedBytes()).toBe(0);
    expect(loaded.memoryUsage()).toBeGreaterThan(n * dim * 4);
    expect(m.memoryUsage()).toBeLessThan(4096);
  });

  it('a mapped index keeps its results when a save replaces its file, and saves over its own file', () => {
    const path = join(dir, 'flat-replaced.svx');
    flatOf('cosine').save(path);
    const m = FlatIndex.open(path);
    const before = m.searchBatch(queries, 10);
    const other = new FlatIndex({ dim, metric: 'cosine' });
    other.add(randomVectors(n, dim, 5), ids);
    other.save(path); // a new file renamed over the mapped one
    expect(m.searchBatch(queries, 10)).toEqual(before);
    expect(FlatIndex.open(path).searchBatch(queries, 10)).not.toEqual(before);
    m.save(path); // a copy of the mapped index, over the file it was mapped from
    expect(m.searchBatch(queries, 10)).toEqual(before);
    expect(FlatIndex.load(path).searchBatch(queries, 10)).toEqual(before);
  });

  it('close() unmaps at once (and with it the space of a replaced file), lets a running search finish, then throws ERR_CLOSED', async () => {
    const path = join(dir, 'flat-closed.svx');
    flatOf('l2').save(path);
    const m = FlatIndex.open(path);
    const mapsFile = () => readFileSync('/proc/self/maps', 'utf8').includes(path);
    expect(mapsFile()).toBe(true);
    const expected = FlatIndex.load(path).searchBatch(queries, 10);
    const running = m.searchBatchAsync(queries, 10);
    m.close();
    expect(m.closed).toBe(true);
    expect(await running).toEqual(expected);
    expect(mapsFile()).toBe(false);
    expectCode(() => m.search(queries.subarray(0, dim), 1), 'ERR_CLOSED');
    expectCode(() => m.size, 'ERR_CLOSED');
    await expectRejects(m.searchAsync(queries.subarray(0, dim), 1), 'ERR_CLOSED');
    m.close(); // again: nothing
    const inMemory = flatOf('l2');
    inMemory.close();
    expectCode(() => inMemory.add(data.subarray(0, dim), [1e6]), 'ERR_CLOSED');
  });

  it('refuses bad options, older formats (saying to load them), missing files and other kinds', async () => {
    const path = join(dir, 'flat-options.svx');
    flatOf('l2').save(path);
    expectCode(() => FlatIndex.open(path, { verify: 'no' as never }), 'ERR_INVALID_ARGUMENT', /verify must be true or false/);
    expectCode(() => FlatIndex.open(path, null as never), 'ERR_INVALID_ARGUMENT', /open options must be an object/);
    expectCode(() => FlatIndex.open(7 as never), 'ERR_INVALID_ARGUMENT');
    const golden = new URL('fixtures/flat-v1.svx', import.meta.url).pathname;
    expectCode(() => FlatIndex.open(golden), 'ERR_UNSUPPORTED_VERSION', /format 1\.0 cannot be mapped .*load\(\) it/);
    await expectRejects(FlatIndex.openAsync(golden), 'ERR_UNSUPPORTED_VERSION');
    expectCode(() => FlatIndex.open(join(dir, 'missing.svx')), 'ERR_NOT_FOUND');
    ivfOf('l2', 'f32').save(join(dir, 'an-ivf.svx'));
    expectCode(() => FlatIndex.open(join(dir, 'an-ivf.svx')), 'ERR_WRONG_INDEX_KIND');
  });

  it('verify checks the checksum and contents; without it a damaged vector opens, and only the structure is checked', () => {
    const path = join(dir, 'flat-damaged.svx');
    const bytes = flatOf('l2').toBuffer();
    const vectors = sectionAt(bytes, Section.vectors).offset;
    bytes.writeFloatLE(Number.NaN, vectors + 4 * 17);
    writeFileSync(path, bytes);
    expectCode(() => FlatIndex.open(path), 'ERR_CORRUPT_FILE', /checksum/);
    expectCode(() => FlatIndex.load(path), 'ERR_CORRUPT_FILE');
    const trusting = FlatIndex.open(path, { verify: false });
    const results = trusting.searchBatch(queries, 10);
    for (const r of results) for (const s of r.scores) expect(Number.isNaN(s)).toBe(false);
    // A damaged section table is refused either way.
    bytes.writeUInt32LE(99, 64 + 24 + 8 + 24);
    writeFileSync(path, bytes);
    expectCode(() => FlatIndex.open(path, { verify: false }), 'ERR_CORRUPT_FILE', /section/);
  });
});

describe('IVFIndex.open', () => {
  for (const encoding of ['f32', 'sq8'] as const) {
    for (const metric of metrics) {
      it(`${encoding} ${metric}: open searches exactly as load does (nprobe, rerank, allow-lists, async)`, async () => {
        const path = join(dir, `ivf-${encoding}-${metric}.svx`);
        ivfOf(metric, encoding).save(path);
        const loaded = IVFIndex.load(path);
        for (const m of [IVFIndex.open(path), await IVFIndex.openAsync(path, { verify: false })]) {
          expect([m.readOnly, m.nlist, m.nprobe, m.encoding, m.rerank, m.isTrained]).toEqual([true, 24, 4, encoding, 16, true]);
          expect(m.listSizes()).toEqual(loaded.listSizes());
          expect(m.centroids()).toEqual(loaded.centroids());
          for (const options of [{}, { nprobe: 24 }, { nprobe: 2, rerank: 0 }, { allowIds }, { allowIds, nprobe: 1 }]) {
            expect(m.searchBatch(queries, 10, options)).toEqual(loaded.searchBatch(queries, 10, options));
          }
          expect(await m.searchAsync(queries.subarray(0, dim), 10, { allowIds })).toEqual(
            loaded.search(queries.subarray(0, dim), 10, { allowIds }),
          );
          expect(m.toBuffer().equals(readFileSync(path))).toBe(true);
        }
      });
    }
  }

  it('add, remove and train are ERR_READ_ONLY; nprobe and rerank can change', async () => {
    const path = join(dir, 'ivf-read-only.svx');
    ivfOf('l2', 'sq8').save(path);
    const m = IVFIndex.open(path);
    expectCode(() => m.add(randomVectors(1, dim, 6)), 'ERR_READ_ONLY', /emptyLike/);
    expectCode(() => m.remove([1]), 'ERR_READ_ONLY');
    expectCode(() => m.train(data), 'ERR_READ_ONLY');
    await expectRejects(m.trainAsync(data), 'ERR_READ_ONLY');
    await expectRejects(m.addAsync(randomVectors(1, dim, 7)), 'ERR_READ_ONLY');
    await expectRejects(m.removeAsync([1]), 'ERR_READ_ONLY');
    m.nprobe = 24;
    m.rerank = 0;
    expect([m.nprobe, m.rerank, m.size]).toEqual([24, 0, n - 2]);
    expect(m.memoryUsage()).toBeLessThan(64 * 1024);
    expect(m.mappedBytes()).toBe(readFileSync(path).length);
  });
});

describe('IVFIndex.emptyLike', () => {
  for (const encoding of ['f32', 'sq8'] as const) {
    it(`${encoding}: a mapped base and its emptyLike delta together find what one index holding both finds`, () => {
      const path = join(dir, `base-${encoding}.svx`);
      ivfOf('cosine', encoding).save(path);
      const base = IVFIndex.open(path, { verify: false });
      base.nprobe = 6;
      const delta = base.emptyLike();
      expect([delta.readOnly, delta.size, delta.isTrained]).toEqual([false, 0, true]);
      expect([delta.dim, delta.metric, delta.nlist, delta.nprobe, delta.encoding, delta.rerank, delta.nextId]).toEqual([
        dim, 'cosine', 24, 6, encoding, 16, base.nextId,
      ]);
      expect(delta.centroids()).toEqual(base.centroids());
      // The delta takes new vectors, with ids after the base's.
      const extra = randomVectors(400, dim, 8);
      delta.add(extra);
      const both = IVFIndex.load(path);
      both.add(extra, Float64Array.from({ length: 400 }, (_, i) => base.nextId + i));
      const inDelta = delta.listSizes();
      both.listSizes().forEach((size, l) => expect(size).toBe(base.listSizes()[l]! + inDelta[l]!));
      // Searching both and merging: the results of the one index (all lists probed: exact).
      const all = { nprobe: 24, rerank: 5000 }; // every list, every candidate re-scored
      for (let i = 0; i < 5; i++) {
        const q = queries.subarray(i * dim, (i + 1) * dim);
        const merged = [base.search(q, 10, all), delta.search(q, 10, all)]
          .flatMap((r) => Array.from(r.ids, (id, j) => ({ id, score: r.scores[j]! })))
          .sort((a, b) => b.score - a.score || a.id - b.id)
          .slice(0, 10);
        const one = both.search(q, 10, all);
        expect(merged.map((h) => h.id)).toEqual(Array.from(one.ids));
      }
    });
  }

  it('of an index in memory, untrained too, keeps its training options', () => {
    const untrained = new IVFIndex({ dim, nlist: 8, autoTrain: true, training: { seed: 9 } });
    const like = untrained.emptyLike();
    expect(like.isTrained).toBe(false);
    like.add(data.subarray(0, 200 * dim)); // autoTrain carried over
    expect([like.isTrained, like.size, untrained.size]).toEqual([true, 200, 0]);
  });
});

describe('GraphIndex.open without verify', () => {
  // A fuzzed file (test/fuzz/load_graph.cpp) whose checksums are right but
  // whose id table maps id 0 to a slot far past the 5 stored: load and a
  // verified open refuse it; a trusted open may answer wrongly, but an
  // allow-listed search and getVector never read outside the file.
  const fixture = new URL('fixtures/graph-corrupt-id-table.svx', import.meta.url);

  it('an id table pointing past the store: allow-listed searches skip the id, getVector is ERR_CORRUPT_FILE', () => {
    expectCode(() => GraphIndex.fromBuffer(readFileSync(fixture)), 'ERR_CORRUPT_FILE', /id table/);
    expectCode(() => GraphIndex.open(fixture.pathname, { verify: true }), 'ERR_CORRUPT_FILE', /id table/);
    const g = GraphIndex.open(fixture.pathname, { verify: false });
    const r = g.search(new Float32Array(g.dim).fill(1), 4, { allowIds: [0, 1, 2, 3, 4] });
    expect([...r.ids].sort()).toEqual([1, 2, 3, 4]);
    expectCode(() => g.getVector(0), 'ERR_CORRUPT_FILE', /maps id 0 to slot \d+ of 5 \(open the file with verify\)/);
    expect(g.getVector(1)).toHaveLength(g.dim);
    g.close();
  });
});
