/**
 * Async twins run on worker threads: the event loop keeps turning while they
 * work, and concurrent searches and adds are safe.
 */
import { describe, expect, it } from 'vitest';

import { FlatIndex, IVFIndex, kmeansAsync } from '../src/index.js';
import { blobs, bruteForce, randomVectors } from './helpers/data.js';

/** Counts 1 ms timer ticks while `work` runs. */
async function ticksDuring(work: () => Promise<unknown>): Promise<number> {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return ticks;
}

describe('async work keeps the event loop free', () => {
  const dim = 256;
  const index = new FlatIndex({ dim, metric: 'ip' });
  const vectors = randomVectors(200_000, dim, 21);
  index.add(vectors);
  // Enough work to take a noticeable time on any machine: 2,000 queries.
  const queries = randomVectors(2_000, dim, 22);

  it('a timer keeps firing during a long searchBatchAsync, and not during searchBatch', async () => {
    const syncTicks = await ticksDuring(async () => {
      index.searchBatch(queries, 10);
    });
    const asyncTicks = await ticksDuring(() => index.searchBatchAsync(queries, 10));
    expect(syncTicks).toBe(0); // the synchronous call blocked the loop throughout
    // The timer ran again and again during the async call. How often per
    // millisecond depends on the machine's load (a starved process wakes
    // rarely), not on semvec, so only a few ticks are demanded.
    expect(asyncTicks).toBeGreaterThanOrEqual(3);
  });

  it('addAsync also leaves the loop free', async () => {
    const big = randomVectors(100_000, dim, 23);
    const target = new FlatIndex({ dim, metric: 'ip' });
    expect(await ticksDuring(() => target.addAsync(big))).toBeGreaterThan(0);
    expect(target.size).toBe(100_000);
  });
});

describe('IVF training, k-means and IVF search run off the event loop', () => {
  it('trainAsync, addAsync, searchBatchAsync and kmeansAsync leave the timer running', async () => {
    const dim = 64;
    const data = blobs(60_000, dim, 100, 0.3, 51);
    const ivf = new IVFIndex({ dim, metric: 'l2', nlist: 256 });
    const trainTicks = await ticksDuring(() => ivf.trainAsync(data, { maxPointsPerCentroid: 128 }));
    const addTicks = await ticksDuring(() => ivf.addAsync(data));
    const searchTicks = await ticksDuring(() => ivf.searchBatchAsync(data.subarray(0, 2000 * dim), 10, { nprobe: 64 }));
    const kmeansTicks = await ticksDuring(() => kmeansAsync(data, { k: 64, dim, iterations: 5 }));
    expect(ivf.size).toBe(60_000);
    for (const ticks of [trainTicks, addTicks, searchTicks, kmeansTicks]) expect(ticks).toBeGreaterThan(0);
  });
});

describe('concurrent async operations are safe', () => {
  it('searches running alongside adds see a consistent index', async () => {
    const dim = 32;
    const index = new FlatIndex({ dim, metric: 'l2' });
    const base = randomVectors(5_000, dim, 31);
    index.add(base);
    const extra = randomVectors(5_000, dim, 32);
    const queries = randomVectors(50, dim, 33);

    const ops: Promise<unknown>[] = [];
    for (let round = 0; round < 10; round++) {
      ops.push(index.searchBatchAsync(queries, 5));
      // Adds may run in any order: give each chunk its own ids.
      const chunkIds = Array.from({ length: 500 }, (_, j) => 5_000 + round * 500 + j);
      ops.push(index.addAsync(extra.subarray(round * 500 * dim, (round + 1) * 500 * dim), chunkIds));
      ops.push(index.searchAsync(queries.subarray(0, dim), 5));
    }
    const results = await Promise.all(ops);
    expect(index.size).toBe(10_000);
    // Each search returned k results sorted best first.
    for (const r of results) {
      if (Array.isArray(r)) {
        for (const one of r as { scores: Float32Array }[]) {
          expect(one.scores.length).toBe(5);
          for (let j = 1; j < 5; j++) expect(one.scores[j]!).toBeGreaterThanOrEqual(one.scores[j - 1]!);
        }
      }
    }
    // After everything settles, results are exact over all vectors.
    const all = new Float32Array(10_000 * dim);
    all.set(base);
    all.set(extra, 5_000 * dim);
    const ids = Array.from({ length: 10_000 }, (_, i) => i);
    const got = await index.searchAsync(queries.subarray(0, dim), 5);
    const want = bruteForce(all, ids, queries.subarray(0, dim), dim, 'l2', 5);
    expect(Array.from(got.ids)).toEqual(want.map((h) => h.id));
  });

  it('many concurrent searches agree with the synchronous result', async () => {
    const dim = 48;
    const index = new FlatIndex({ dim, metric: 'cosine' });
    index.add(randomVectors(20_000, dim, 41));
    const q = randomVectors(1, dim, 42);
    const want = index.search(q, 10);
    const got = await Promise.all(Array.from({ length: 16 }, () => index.searchAsync(q, 10)));
    for (const r of got) expect(r).toEqual(want);
  });
});
