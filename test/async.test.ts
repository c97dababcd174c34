/**
 * Async twins run on worker threads: the event loop keeps turning while they
 * work, and concurrent searches and adds are safe.
 */
import { Worker } from 'node:worker_threads';

import { describe, expect, it } from 'vitest';

import { FlatIndex, IVFIndex, kmeansAsync, SemvecError } from '../src/index.js';
import { addonPath, native } from '../src/native.js';
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

describe('a worker thread torn down during async work', () => {
  // Runs `body` (CommonJS, with `addon`, `x` of n * dim values and `ready()`)
  // in a worker thread and terminates the worker once it calls ready().
  async function terminateDuring(body: string): Promise<number> {
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const addon = require(workerData);
      const dim = 32, n = 20000;
      const x = new Float32Array(n * dim);
      for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 12.9898) * 43758.5453 % 1;
      const ready = () => parentPort.postMessage('ready');
      ${body}`;
    const worker = new Worker(code, { eval: true, workerData: addonPath });
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
    await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    return exited;
  }

  it('kmeansAsync waiting on onProgress neither crashes nor hangs the process', async () => {
    for (let round = 0; round < 3; round++) {
      // Each iteration's report reaches the worker's event loop while it is
      // being stopped: the pending report is answered without running it.
      await terminateDuring(`addon.kmeansAsync(x, dim, { k: 64, iterations: 1000, seed: 1, maxPointsPerCentroid: 0, init: 'random' }, () => ready());`);
    }
    const clusters = await kmeansAsync(randomVectors(2_000, 8, 5), { k: 4, dim: 8, onProgress: () => true });
    expect(clusters.assignments).toHaveLength(2_000);
  });

  it('a pending searchAsync neither crashes nor hangs the process', async () => {
    await terminateDuring(`const ix = new addon.FlatIndex(dim, 'ip'); ix.add(x); ix.searchAsync(x.subarray(0, 500 * dim), 10); ready();`);
    const index = new FlatIndex({ dim: 8 });
    await index.addAsync(randomVectors(100, 8, 6));
    expect(index.size).toBe(100);
  });
});

describe('async calls refuse memory that could shrink under them', () => {
  const dim = 8;
  const n = 256;
  const data = randomVectors(n, dim, 61);
  /** A Float32Array over a resizable ArrayBuffer (or growable SharedArrayBuffer) holding `data`. */
  function resizableCopy(shared = false): Float32Array {
    const bytes = data.byteLength;
    // (The TypeScript lib here predates the maxByteLength option.)
    type Resizable = new (bytes: number, options: { maxByteLength: number }) => ArrayBufferLike;
    const Buffer = (shared ? SharedArrayBuffer : ArrayBuffer) as unknown as Resizable;
    const buffer = new Buffer(bytes, { maxByteLength: 2 * bytes });
    const view = new Float32Array(buffer);
    view.set(data);
    return view;
  }
  async function rejection(run: () => Promise<unknown>): Promise<SemvecError> {
    const err = await run().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SemvecError);
    return err as SemvecError;
  }

  it('rejects them with ERR_INVALID_ARGUMENT saying to copy, in TypeScript and in the binding', async () => {
    const flat = new FlatIndex({ dim, metric: 'l2' });
    flat.add(data);
    const ivf = new IVFIndex({ dim, metric: 'l2', nlist: 4 });
    ivf.train(data);
    ivf.add(data);
    const nat = native();
    const natFlat = new nat.FlatIndex(dim, 'l2');
    const natIvf = new nat.IvfIndex(dim, 'l2', 4, 4, 'f32', 0);
    natIvf.train(data, { iterations: 3, seed: 1, maxPointsPerCentroid: 0, init: 'random' });
    for (const shared of [false, true]) {
      const x = resizableCopy(shared);
      const q = new Float32Array(x.buffer, 0, dim);
      const calls: [string, () => Promise<unknown>][] = [
        ['flat.addAsync', () => flat.addAsync(x)],
        ['flat.searchAsync', () => flat.searchAsync(q, 3)],
        ['flat.searchBatchAsync', () => flat.searchBatchAsync(x, 3)],
        ['ivf.trainAsync', () => new IVFIndex({ dim, nlist: 4 }).trainAsync(x)],
        ['ivf.addAsync', () => ivf.addAsync(x)],
        ['ivf.searchAsync', () => ivf.searchAsync(q, 3)],
        ['ivf.searchBatchAsync', () => ivf.searchBatchAsync(x, 3)],
        ['kmeansAsync', () => kmeansAsync(x, { k: 4, dim })],
        // The binding checks again (throwing as it parses its arguments),
        // for callers that bypass TypeScript.
        ['native flat addAsync', async () => natFlat.addAsync(x)],
        ['native flat searchAsync', async () => natFlat.searchAsync(x, 3)],
        ['native ivf addAsync', async () => natIvf.addAsync(x)],
        ['native ivf trainAsync', async () => natIvf.trainAsync(x, { iterations: 3, seed: 1, maxPointsPerCentroid: 0, init: 'random' })],
        ['native ivf searchAsync', async () => natIvf.searchAsync(x, 3)],
        ['native kmeansAsync', async () => nat.kmeansAsync(x, dim, { k: 4, iterations: 3, seed: 1, maxPointsPerCentroid: 0, init: 'random' })],
      ];
      for (const [name, run] of calls) {
        const err = await rejection(run);
        expect(err.code, name).toBe('ERR_INVALID_ARGUMENT');
        expect(err.message, name).toMatch(shared ? /growable SharedArrayBuffer/ : /resizable ArrayBuffer/);
        expect(err.message, name).toMatch(/new Float32Array\(/);
      }
      // Nothing was added; shrinking the buffer now cannot hurt.
      (x.buffer as ArrayBuffer & { resize?: (n: number) => void }).resize?.(0);
    }
    expect(flat.size).toBe(n);
    expect(ivf.size).toBe(n);
    // The process goes on: async work on a copy completes.
    expect((await flat.searchBatchAsync(new Float32Array(data), 1)).map((r) => r.ids[0])).toEqual(
      Array.from({ length: n }, (_, i) => i),
    );
  });

  it('synchronous calls still read them in place', () => {
    const x = resizableCopy();
    const flat = new FlatIndex({ dim, metric: 'l2' });
    flat.add(x);
    expect(flat.search(new Float32Array(x.buffer, dim * 4, dim), 1).ids[0]).toBe(1);
    expect(flat.searchBatch(x, 1)).toHaveLength(n);
  });
});
