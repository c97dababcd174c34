/**
 * Concurrent unfiltered queries of a collection share one search: the
 * first runs at once, those that arrive meanwhile run as one batch after
 * it, each getting exactly what it would have got alone.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

import { Client, FlatIndex, type SearchResult } from '../../src/index.js';
import { MAX_BATCH_QUERIES, SearchBatcher } from '../../src/collection/search-batcher.js';
import { randomVectors } from '../helpers/data.js';

afterEach(() => vi.restoreAllMocks());

/** A fake search: query i's results are ids i*100 + 0..k-1 with descending scores. */
function fakeSearch(calls: { nq: number; k: number }[], dim: number) {
  return async (queries: Float32Array, k: number): Promise<SearchResult[]> => {
    const nq = queries.length / dim;
    calls.push({ nq, k });
    await new Promise((resolve) => setImmediate(resolve));
    return Array.from({ length: nq }, (_, i) => {
      const base = queries[i * dim] as number;
      return { ids: Float64Array.from({ length: k }, (_, j) => base * 100 + j), scores: Float32Array.from({ length: k }, (_, j) => -j) };
    });
  };
}

describe('SearchBatcher', () => {
  it('runs a lone search at once, batches the ones that wait, and gives each its own top k', async () => {
    const calls: { nq: number; k: number }[] = [];
    const b = new SearchBatcher(fakeSearch(calls, 2));
    const q = (v: number, n = 1) => Float32Array.from({ length: 2 * n }, (_, i) => (i % 2 === 0 ? v + i / 2 : 0));
    const results = await Promise.all([b.search(q(1), 1, 3), b.search(q(2, 2), 2, 5), b.search(q(7), 1, 1)]);
    expect(calls).toEqual([
      { nq: 1, k: 3 },
      { nq: 3, k: 5 },
    ]);
    expect(results.map((r) => r.map((x) => Array.from(x.ids)))).toEqual([[[100, 101, 102]], [[200, 201, 202, 203, 204], [300, 301, 302, 303, 304]], [[700]]]);
  });

  it('rejects every search of a failed batch, and goes on with the next', async () => {
    let n = 0;
    const b = new SearchBatcher(async (queries, k) => {
      n++;
      await new Promise((resolve) => setImmediate(resolve));
      if (n === 2) throw new Error('boom');
      return [{ ids: new Float64Array(k), scores: new Float32Array(k) }].concat(Array.from({ length: queries.length - 1 }, () => ({ ids: new Float64Array(k), scores: new Float32Array(k) })));
    });
    const one = Float32Array.of(1);
    const outcomes = await Promise.allSettled([b.search(one, 1, 1), b.search(one, 1, 1), b.search(one, 1, 1)]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
    expect((await b.search(one, 1, 2))[0]!.ids).toHaveLength(2);
  });

  it(`caps a batch at ${MAX_BATCH_QUERIES} queries`, async () => {
    const calls: { nq: number; k: number }[] = [];
    const b = new SearchBatcher(fakeSearch(calls, 1));
    await Promise.all(Array.from({ length: MAX_BATCH_QUERIES + 11 }, (_, i) => b.search(Float32Array.of(i), 1, 1)));
    expect(calls.map((c) => c.nq)).toEqual([1, MAX_BATCH_QUERIES, 10]);
  });
});

describe('collection queries in parallel', () => {
  it('return what each returns alone, from fewer native searches', async () => {
    const dim = 16;
    const client = new Client();
    const col = await client.createCollection('many', { metric: 'l2' });
    const data = randomVectors(500, dim, 3);
    await col.add({ ids: Array.from({ length: 500 }, (_, i) => `r${i}`), embeddings: data, metadatas: Array.from({ length: 500 }, (_, i) => ({ even: i % 2 === 0 })) });
    const queries = Array.from({ length: 12 }, (_, i) => Array.from(randomVectors(1, dim, 100 + i)));
    const alone = [];
    for (const [i, q] of queries.entries()) alone.push(await col.query({ queryEmbeddings: [q], nResults: 1 + (i % 5), include: [] }));
    const spy = vi.spyOn(FlatIndex.prototype, 'searchBatchAsync');
    const together = await Promise.all(queries.map((q, i) => col.query({ queryEmbeddings: [q], nResults: 1 + (i % 5), include: [] })));
    expect(together).toEqual(alone);
    expect(spy.mock.calls.length).toBeLessThan(queries.length);
    expect(spy.mock.calls.length).toBeGreaterThanOrEqual(1);
    // Filtered queries take their own path (each has its own allow-list).
    const filtered = await Promise.all(queries.slice(0, 3).map((q) => col.query({ queryEmbeddings: [q], nResults: 3, where: { even: true }, include: ['metadatas'] })));
    for (const matches of filtered) expect(matches[0]!.every((m) => m.metadata?.even === true)).toBe(true);
    await client.close();
  });
});
