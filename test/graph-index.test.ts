import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { Client, FlatIndex, GRAPH_DEFAULTS, GraphIndex, recallAtK, SemvecError, type Metric } from '../src/index.js';
import { blobs, randomVectors } from './helpers/data.js';
import { codeOf } from './helpers/errors.js';
import { reseal } from './helpers/format3.js';

const dir = mkdtempSync(join(tmpdir(), 'semvec-graph-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const dim = 24;
const data = blobs(5000, dim, 60, 0.35, 1);
const queries = blobs(100, dim, 60, 0.35, 2);

function pair(metric: Metric): { graph: GraphIndex; flat: FlatIndex } {
  const graph = new GraphIndex({ dim, metric });
  graph.add(data);
  const flat = new FlatIndex({ dim, metric });
  flat.add(data);
  return { graph, flat };
}

describe('GraphIndex against the exact index', () => {
  for (const metric of ['l2', 'ip', 'cosine'] as Metric[]) {
    it(`${metric}: recall@10 is high at ef 128, and single, batch and async searches agree`, async () => {
      const { graph, flat } = pair(metric);
      const exact = flat.searchBatch(queries, 10);
      const got = graph.searchBatch(queries, 10, { ef: 128 });
      expect(recallAtK(got, exact, 10)).toBeGreaterThanOrEqual(0.95);
      expect(graph.search(queries.subarray(0, dim), 10, { ef: 128 })).toEqual(got[0]);
      expect(await graph.searchAsync(queries.subarray(dim, 2 * dim), 10, { ef: 128 })).toEqual(got[1]);
      expect((await graph.searchBatchAsync(queries, 10, { ef: 128 })).map((r) => Array.from(r.ids))).toEqual(got.map((r) => Array.from(r.ids)));
    });
  }

  it('recall does not fall as ef grows, and ef set on the index is the default of every search', () => {
    const { graph, flat } = pair('l2');
    const exact = flat.searchBatch(queries, 10);
    const recalls = [10, 20, 40, 80, 160].map((ef) => recallAtK(graph.searchBatch(queries, 10, { ef }), exact, 10));
    expect(recalls.at(-1)!).toBeGreaterThanOrEqual(recalls[0]!);
    graph.ef = 160;
    expect(graph.ef).toBe(160);
    expect(graph.searchBatch(queries, 10)).toEqual(graph.searchBatch(queries, 10, { ef: 160 }));
  });

  it('an allow-list returns only allowed ids, near the exact filtered results, at 1% and at 30%', () => {
    const { graph, flat } = pair('cosine');
    for (const every of [100, 3]) {
      const allowIds = Array.from({ length: Math.ceil(5000 / every) }, (_, i) => i * every);
      const got = graph.searchBatch(queries, 10, { allowIds });
      const exact = flat.searchBatch(queries, 10, { allowIds });
      for (const r of got) {
        expect(r.ids.length).toBe(10);
        for (const id of r.ids) expect(id % every).toBe(0);
      }
      expect(recallAtK(got, exact, 10)).toBeGreaterThanOrEqual(0.9);
    }
  });
});

describe('GraphIndex with nprobe (a k-means partition starts the walk)', () => {
  // Structureless data: 20,480 random directions in 32 dimensions, where a
  // narrow walk misses neighbours. 80 groups of about 256.
  const n = 20480;
  const d = 32;
  const rows = randomVectors(n, d, 7);
  const qs = randomVectors(200, d, 8);
  const graph = new GraphIndex({ dim: d, metric: 'cosine' });
  graph.add(rows);
  const flat = new FlatIndex({ dim: d, metric: 'cosine' });
  flat.add(rows);
  const exact = flat.searchBatch(qs, 10);

  it('every group scored (nprobe >= the groups) finds the exact top 10 where the walk alone does not', () => {
    const walk = recallAtK(graph.searchBatch(qs, 10, { ef: 16 }), exact, 10);
    const all = recallAtK(graph.searchBatch(qs, 10, { ef: 16, nprobe: 1000 }), exact, 10);
    expect(walk).toBeLessThan(0.97);
    expect(all).toBeGreaterThanOrEqual(0.99);
    const some = recallAtK(graph.searchBatch(qs, 10, { ef: 16, nprobe: 4 }), exact, 10);
    expect(some).toBeGreaterThan(walk);
  });

  it('single, batch and async searches agree; a loaded copy trains the same partition and searches the same', async () => {
    const opts = { ef: 24, nprobe: 3 };
    const got = graph.searchBatch(qs, 10, opts);
    expect(graph.search(qs.subarray(0, d), 10, opts)).toEqual(got[0]);
    expect(await graph.searchAsync(qs.subarray(d, 2 * d), 10, opts)).toEqual(got[1]);
    const path = join(dir, 'nprobe.svx');
    graph.save(path);
    for (const copy of [GraphIndex.load(path), GraphIndex.open(path)]) expect(copy.searchBatch(qs, 10, opts)).toEqual(got);
  });

  it('vectors added after the partition was trained join it; removed ones are never returned; allow-lists hold', () => {
    const g = new GraphIndex({ dim: d, metric: 'cosine' });
    g.add(rows.subarray(0, 4096 * d));
    g.search(qs.subarray(0, d), 1, { nprobe: 1 }); // trains 16 groups
    // Near copies of the queries, added late: every group scored must find each as its query's best.
    const late = new Float32Array(qs.subarray(0, 50 * d));
    for (let i = 0; i < late.length; i++) late[i] = late[i]! + 1e-3;
    g.add(late, Array.from({ length: 50 }, (_, i) => 100000 + i));
    const found = g.searchBatch(qs.subarray(0, 50 * d), 1, { ef: 1, rerank: 1, nprobe: 100 });
    expect(found.map((r) => r.ids[0])).toEqual(Array.from({ length: 50 }, (_, i) => 100000 + i));
    g.remove([100000, 100001]);
    const after = g.searchBatch(qs.subarray(0, 2 * d), 5, { nprobe: 100 });
    for (const r of after) expect(Array.from(r.ids)).not.toContain(100000);
    for (const r of after) expect(Array.from(r.ids)).not.toContain(100001);
    const allow = Array.from({ length: 400 }, (_, i) => i * 10);
    for (const r of g.searchBatch(qs.subarray(0, 5 * d), 10, { nprobe: 2, allowIds: allow })) for (const id of r.ids) expect(id % 10).toBe(0);
  });

  it('a saved index keeps a trained partition (format 5.0): its copies search with it untrained; a bad group is a corrupt file', () => {
    const g = new GraphIndex({ dim: d, metric: 'cosine' });
    g.add(rows.subarray(0, 4096 * d));
    const before = g.toBuffer();
    expect(before.readUInt16LE(8)).toBe(4); // no partition yet: format 4.0
    const barePath = join(dir, 'partition-none.svx');
    g.save(barePath);
    const opts = { ef: 8, nprobe: 2 };
    const got = g.searchBatch(qs, 10, opts); // trains 16 groups
    const path = join(dir, 'partition.svx');
    g.save(path);
    const bytes = g.toBuffer();
    expect(bytes.readUInt16LE(8)).toBe(5);
    const readers = [(p: string) => GraphIndex.load(p), (p: string) => GraphIndex.open(p), (p: string) => GraphIndex.open(p, { verify: false }), (p: string) => GraphIndex.fromBuffer(readFileSync(p))];
    for (const read of readers) {
      const copy = read(path);
      // The partition came with the file: 4 bytes a vector and 16 centroids more than a copy without, before any nprobe search.
      expect(copy.memoryUsage() - read(barePath).memoryUsage()).toBeGreaterThanOrEqual(4096 * 4 + 16 * d * 4);
      expect(copy.searchBatch(qs, 10, opts)).toEqual(got);
      expect(copy.toBuffer().equals(bytes)).toBe(true);
    }
    // A slot in a group past the last: corrupt, even mapped without verify (a search follows the groups).
    const table = 64 + 128;
    let groups = -1;
    for (let i = 0; i < bytes.readUInt32LE(table); i++) if (bytes.readUInt32LE(table + 8 + 24 * i) === 28) groups = Number(bytes.readBigUInt64LE(table + 8 + 24 * i + 8));
    expect(groups).toBeGreaterThan(0);
    const bad = Buffer.from(bytes);
    bad.writeUInt32LE(16, groups + 4 * 7);
    reseal(bad);
    const file = join(dir, 'partition-bad.svx');
    writeFileSync(file, bad);
    for (const open of [() => GraphIndex.load(file), () => GraphIndex.open(file, { verify: false }), () => GraphIndex.fromBuffer(bad)]) {
      expect(codeOf(open)).toBe('ERR_CORRUPT_FILE');
      expect(open).toThrow(/slot 7 is in partition group 16 of 16/);
    }
  });

  it('rejects a bad nprobe with ERR_INVALID_ARGUMENT', () => {
    for (const bad of [-1, 1.5, 65537, 'x', Number.NaN]) expect(codeOf(() => graph.search(qs.subarray(0, d), 1, { nprobe: bad as never }))).toBe('ERR_INVALID_ARGUMENT');
  });
});

describe('GraphIndex lifecycle', () => {
  it('has the documented defaults, and its settings can be chosen', () => {
    const g = new GraphIndex({ dim: 4 });
    expect(GRAPH_DEFAULTS).toEqual({ degree: 32, buildEf: 96, alpha: 1, ef: 64, rerank: 'auto', seed: 1234 });
    expect([g.degree, g.buildEf, g.ef, g.rerank, g.seed, g.metric]).toEqual([32, 96, 64, 'auto', 1234, 'cosine']);
    const h = new GraphIndex({ dim: 4, metric: 'l2', degree: 8, buildEf: 20, alpha: 1, ef: 10, rerank: 0, seed: 3 });
    expect([h.degree, h.buildEf, h.alpha, h.ef, h.rerank, h.seed]).toEqual([8, 20, 1, 10, 0, 3]);
  });

  it("rerank 'auto' re-scores min(max(32, ef), 256) candidates: an explicit count can be set, saved and taken back", () => {
    const { graph } = pair('l2');
    const q = queries.subarray(0, 20 * dim);
    const at = (options: object, k = 40) => graph.searchBatch(q, k, options).map((r) => Array.from(r.ids));
    const all = at({ ef: 200, rerank: 200 });
    // The test can tell the counts apart: re-scoring 40 (k) candidates ranks differently,
    // and so does re-scoring 150 of 200 when 150 are asked for.
    expect(at({ ef: 200, rerank: 40 })).not.toEqual(all);
    expect(at({ ef: 200, rerank: 150 }, 150)).not.toEqual(at({ ef: 200, rerank: 200 }, 150));
    expect(at({ ef: 200 }, 150)).toEqual(at({ ef: 200, rerank: 200 }, 150));
    expect(at({ ef: 200 })).toEqual(all);
    // Up to 256: at ef 400, 'auto' re-scores 256, and re-scoring all 400 ranks differently.
    expect(at({ ef: 400 }, 250)).toEqual(at({ ef: 400, rerank: 256 }, 250));
    expect(at({ ef: 400 }, 250)).not.toEqual(at({ ef: 400, rerank: 400 }, 250));
    expect(at({ ef: 200, rerank: 'auto' })).toEqual(all);
    expect(at({ ef: 40 })).toEqual(at({ ef: 40, rerank: 32 }));
    graph.rerank = 40;
    expect(graph.rerank).toBe(40);
    expect(at({ ef: 200 })).toEqual(at({ ef: 200, rerank: 40 }));
    const path = join(dir, 'rerank.svx');
    graph.save(path);
    expect(GraphIndex.load(path).rerank).toBe(40);
    graph.rerank = 'auto';
    graph.save(path);
    expect(GraphIndex.open(path).rerank).toBe('auto');
    expect(codeOf(() => (graph.rerank = 'all' as never))).toBe('ERR_INVALID_ARGUMENT');
    expect(() => graph.search(q.subarray(0, dim), 1, { rerank: -1 })).toThrow(/rerank must be an integer from 0 to \d+ or 'auto'; received the number -1/);
    expect(graph.rerank).toBe('auto');
  });

  it('rejects bad settings and inputs with SemvecError and changes nothing', () => {
    expect(codeOf(() => new GraphIndex({ dim: 4, degree: 2 }))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => new GraphIndex({ dim: 4, alpha: 3 }))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => new GraphIndex({ dim: 4, ef: 0 }))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => new GraphIndex(null as never))).toBe('ERR_INVALID_ARGUMENT');
    const g = new GraphIndex({ dim: 2, metric: 'l2' });
    g.add([[0, 0], [1, 1]]);
    expect(codeOf(() => g.add([[0, Number.NaN]]))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => g.add([[0, 1]], [1]))).toBe('ERR_DUPLICATE_ID');
    expect(codeOf(() => g.search([0, 0, 0], 1))).toBe('ERR_DIMENSION_MISMATCH');
    expect(codeOf(() => g.search([0, 0], 1, { ef: 0 }))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => g.search([0, 0], 1, 'x' as never))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => (g.ef = -1))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => g.remove([0, 7]))).toBe('ERR_NOT_FOUND');
    expect(codeOf(() => g.neighbours(9))).toBe('ERR_NOT_FOUND');
    expect(g.size).toBe(2);
    expect(() => g.search([0, 0], 0)).toThrow(SemvecError);
  });

  it('removed ids are never returned; past a tenth of tombstones the graph is compacted', async () => {
    const { graph, flat } = pair('l2');
    const gone = Array.from({ length: 100 }, (_, i) => i * 50);
    expect(graph.remove(gone)).toBe(100);
    flat.remove(gone);
    expect([graph.size, graph.slots]).toEqual([4900, 5000]);
    for (const r of graph.searchBatch(queries, 10)) for (const id of r.ids) expect(id % 50).not.toBe(0);
    const more = Array.from({ length: 500 }, (_, i) => i * 10 + 1);
    expect(await graph.removeAsync(more)).toBe(500);
    flat.remove(more);
    expect([graph.size, graph.slots]).toEqual([4400, 4400]);
    const got = graph.searchBatch(queries, 10, { ef: 128 });
    expect(recallAtK(got, flat.searchBatch(queries, 10), 10)).toBeGreaterThanOrEqual(0.95);
    expect(graph.has(1)).toBe(false);
    expect(graph.neighbours(2).every((id) => graph.has(id))).toBe(true);
  });

  it('save, load, fromBuffer and open search exactly as the original; a mapped index is read-only', async () => {
    const { graph } = pair('cosine');
    graph.remove([5, 6]);
    const want = graph.searchBatch(queries, 10);
    const path = join(dir, 'g.svx');
    graph.save(path);
    await graph.saveAsync(join(dir, 'g2.svx'));
    const copies = [GraphIndex.load(path), await GraphIndex.loadAsync(join(dir, 'g2.svx')), GraphIndex.fromBuffer(graph.toBuffer()), GraphIndex.open(path), await GraphIndex.openAsync(path, { verify: false })];
    for (const c of copies) {
      expect(c.searchBatch(queries, 10)).toEqual(want);
      expect([c.size, c.nextId, c.has(5), c.degree, c.ef]).toEqual([4998, 5000, false, 32, 64]);
    }
    const mapped = copies[3]!;
    expect(mapped.readOnly).toBe(true);
    expect(mapped.mappedBytes()).toBe(graph.toBuffer().length);
    expect(codeOf(() => mapped.add(queries.subarray(0, dim)))).toBe('ERR_READ_ONLY');
    expect(codeOf(() => mapped.remove([1]))).toBe('ERR_READ_ONLY');
    mapped.ef = 100; // search settings may change
    expect(mapped.ef).toBe(100);
    expect(codeOf(() => FlatIndex.load(path))).toBe('ERR_WRONG_INDEX_KIND');
    const buf = graph.toBuffer();
    buf[buf.length - 20] = buf[buf.length - 20]! ^ 0xff;
    expect(codeOf(() => GraphIndex.fromBuffer(buf))).toBe('ERR_CORRUPT_FILE');
  });
});

describe("collections with index: 'graph'", () => {
  const n = 600;
  const cdim = 8;
  const emb = blobs(n, cdim, 12, 0.3, 5);
  const rows = (i: number) => Array.from(emb.subarray(i * cdim, (i + 1) * cdim));

  it('query and where-filtered query agree with a flat collection, and a reopened client loads the graph snapshot', async () => {
    const path = join(dir, 'db');
    mkdirSync(path);
    let client = await Client.open(path);
    const cols = await Promise.all([client.createCollection('graph-docs', { metric: 'l2', index: 'graph' }), client.createCollection('flat-docs', { metric: 'l2' })]);
    for (const col of cols) {
      await col.add({ ids: Array.from({ length: n }, (_, i) => `r${i}`), embeddings: Array.from({ length: n }, (_, i) => rows(i)), metadatas: Array.from({ length: n }, (_, i) => ({ cat: i % 20 === 0 ? 'rare' : 'common' })) });
    }
    const [g, f] = cols as [NonNullable<(typeof cols)[0]>, NonNullable<(typeof cols)[1]>];
    expect(g.indexKind).toBe('graph');
    const ask = async (col: typeof g, where?: { cat: string }) =>
      (await col.query({ queryEmbeddings: [rows(3), rows(300)], nResults: 5, where })).map((hits) => hits.map((h) => h.id));
    for (const where of [undefined, { cat: 'rare' }, { cat: 'common' }]) expect(await ask(g, where)).toEqual(await ask(f, where));
    // nprobe reaches the graph: every group scored agrees too; a bad one is refused.
    const probed = (await g.query({ queryEmbeddings: [rows(3), rows(300)], nResults: 5, nprobe: 1000 })).map((hits) => hits.map((h) => h.id));
    expect(probed).toEqual(await ask(f));
    await expect(g.query({ queryEmbeddings: [rows(3)], nResults: 5, nprobe: -1 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await g.delete({ ids: ['r3'] });
    expect((await ask(g))[0]).not.toContain('r3');
    await client.close();
    client = await Client.open(path);
    const back = await client.getCollection('graph-docs');
    expect(back.indexKind).toBe('graph');
    expect(await back.count()).toBe(n - 1);
    expect((await back.query({ queryEmbeddings: [rows(300)], nResults: 1 }))[0]![0]!.id).toBe('r300');
    await client.close();
  });

  it('an unknown index kind is refused', async () => {
    await expect(new Client().createCollection('x', { index: 'hnsw' as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
});
