/**
 * Collections whose index snapshot is mapped (Client.open's `mmap`, on by
 * default): the snapshot's pages are shared, the changes since it live in
 * a delta and a hidden set (src/collection/layered-index.ts). Whatever was
 * written since the snapshot, a mapped collection answers every query
 * exactly as one whose index is all in memory (mmap: false) does; writers
 * fold a grown delta into a new snapshot; readers move to the new
 * snapshot and let the old one go.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { Client, type Collection, type Metric, type Where } from '../../src/index.js';
import { randomVectors } from '../helpers/data.js';
import { expectRejects } from '../helpers/errors.js';
import { tempDir } from '../helpers/temp.js';

const DIM = 8;
const rows = (v: Float32Array, from: number, n: number) => Array.from({ length: n }, (_, i) => Array.from(v.subarray((from + i) * DIM, (from + i + 1) * DIM)));
const ids = (from: number, n: number) => Array.from({ length: n }, (_, i) => `r${from + i}`);
const metas = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ n: from + i, tenth: (from + i) % 10 === 0 }));

/** The snapshot files this process maps (from /proc/self/maps). */
function mappedSnapshots(dir: string): string[] {
  const lines = readFileSync('/proc/self/maps', 'utf8').split('\n');
  return [...new Set(lines.filter((l) => l.includes(join(dir, 'indexes'))).map((l) => l.slice(l.indexOf('/'))))];
}

/** A query's hits as "distance id" pairs, in order of distance and then id (ties of equal distance may come in either order). */
const pairs = (hits: { id: string; distance: number }[]) =>
  hits.map((h) => [h.distance, h.id] as const).sort((x, y) => x[0] - y[0] || (x[1] < y[1] ? -1 : 1));

/** Query results of two collections, side by side, for the same queries and filters. */
async function expectSameAnswers(a: Collection, b: Collection, queries: number[][], nResults: number): Promise<void> {
  const filters: (Where | undefined)[] = [undefined, { tenth: true }, { n: { $lt: 300 } }];
  for (const where of filters) {
    const [ra, rb] = await Promise.all([a.query({ queryEmbeddings: queries, nResults, where, include: [] }), b.query({ queryEmbeddings: queries, nResults, where, include: [] })]);
    expect(ra.map((hits) => hits.map((h) => h.distance)), `where ${JSON.stringify(where)}`).toEqual(rb.map((hits) => hits.map((h) => h.distance)));
    expect(ra.map(pairs), `where ${JSON.stringify(where)}`).toEqual(rb.map(pairs));
  }
}

describe('mapped collection indexes', () => {
  for (const metric of ['cosine', 'l2', 'ip'] as Metric[]) {
    it(`${metric}: a reopened collection maps its snapshot and, after adds, upserts and deletes, answers as an index in memory does`, async () => {
      const dir = tempDir();
      const v = randomVectors(1400, DIM, 5);
      const writer = await Client.open(dir);
      const col = await writer.createCollection('docs', { metric });
      await col.add({ ids: ids(0, 1000), embeddings: rows(v, 0, 1000), metadatas: metas(0, 1000) });
      await writer.close();

      const mapped = await Client.open(dir);
      const mcol = await mapped.getCollection('docs');
      expect(mappedSnapshots(dir)).toHaveLength(1);
      // Since the snapshot: new records, rewritten ones (old vectors hidden, new ones in the delta), deleted ones.
      await mcol.add({ ids: ids(1000, 300), embeddings: rows(v, 1000, 300), metadatas: metas(1000, 300) });
      await mcol.upsert({ ids: ids(0, 100), embeddings: rows(v, 1300, 100), metadatas: metas(0, 100) });
      await mcol.upsert({ ids: ids(1000, 50), embeddings: rows(v, 0, 50), metadatas: metas(1000, 50) });
      await mcol.delete({ ids: [...ids(100, 100), ...ids(1100, 20)] });
      await mcol.delete({ where: { n: { $gte: 900, $lt: 950 } } });

      const inMemory = await Client.open(dir, { readOnly: true, mmap: false, refreshMs: 0 });
      const icol = await inMemory.getCollection('docs');
      expect(await icol.count()).toBe(await mcol.count());
      const queries = rows(randomVectors(20, DIM, 9), 0, 20);
      await expectSameAnswers(mcol, icol, queries, 10);
      await expectSameAnswers(mcol, icol, queries, 1200); // more than the snapshot holds live
      // The query for a rewritten record's new vector finds it (with a metric under which a vector is its own nearest).
      const [hit] = await mcol.query({ queryEmbeddings: rows(v, 1300, 1), nResults: 1, include: [] });
      if (metric !== 'ip') expect(hit?.[0]?.id).toBe('r0');
      await inMemory.close();
      await mapped.close();
    });
  }

  it('an ivf collection maps its IVF snapshot and adds to a delta with the same centroids', async () => {
    const dir = tempDir();
    const n = 50_000;
    const v = randomVectors(n + 2000, DIM, 11);
    const writer = await Client.open(dir);
    const col = await writer.createCollection('big', { metric: 'l2', index: 'ivf' });
    for (let from = 0; from < n; from += 10_000) await col.add({ ids: ids(from, 10_000), embeddings: rows(v, from, 10_000), metadatas: metas(from, 10_000) });
    await writer.close();

    const mapped = await Client.open(dir);
    const mcol = await mapped.getCollection('big');
    await mcol.add({ ids: ids(n, 2000), embeddings: rows(v, n, 2000), metadatas: metas(n, 2000) });
    await mcol.delete({ ids: ids(0, 500) });
    const inMemory = await Client.open(dir, { readOnly: true, mmap: false, refreshMs: 0 });
    const icol = await inMemory.getCollection('big');
    await expectSameAnswers(mcol, icol, rows(randomVectors(10, DIM, 12), 0, 10), 10);
    await inMemory.close();
    await mapped.close();
  });

  it('a writer folds a grown delta into a new snapshot, and a reader moves to it', async () => {
    const dir = tempDir();
    const v = randomVectors(13_000, DIM, 21);
    const writer = await Client.open(dir);
    const col = await writer.createCollection('docs', { metric: 'cosine' });
    await col.add({ ids: ids(0, 1000), embeddings: rows(v, 0, 1000), metadatas: metas(0, 1000) });
    await writer.checkpoint();
    const first = readdirSync(join(dir, 'indexes'));
    expect(first).toHaveLength(1);

    const reader = await Client.open(dir, { readOnly: true, refreshMs: 0 });
    const rcol = await reader.getCollection('docs');
    expect(mappedSnapshots(dir)).toEqual([join(dir, 'indexes', first[0] as string)]);

    // 12,000 changes since the snapshot: more than the 10,000 (and a tenth of the records) that make a checkpoint due.
    await col.add({ ids: ids(1000, 12_000), embeddings: rows(v, 1000, 12_000), metadatas: metas(1000, 12_000) });
    const second = readdirSync(join(dir, 'indexes'));
    expect(second).toHaveLength(1);
    expect(second).not.toEqual(first);

    await rcol.refresh();
    expect(await rcol.count()).toBe(13_000);
    // The reader maps the new snapshot only (the old file, unlinked by the writer, is let go).
    expect(mappedSnapshots(dir)).toEqual([join(dir, 'indexes', second[0] as string)]);
    const inMemory = await Client.open(dir, { readOnly: true, mmap: false, refreshMs: 0 });
    await expectSameAnswers(rcol, await inMemory.getCollection('docs'), rows(randomVectors(10, DIM, 22), 0, 10), 10);
    await Promise.all([inMemory.close(), reader.close(), writer.close()]);
  });

  it('mmap and verify are booleans', async () => {
    const dir = tempDir();
    await expectRejects(Client.open(dir, { mmap: 'yes' as never }), 'ERR_INVALID_ARGUMENT', /mmap must be a boolean/);
    await expectRejects(Client.open(dir, { verify: 1 as never }), 'ERR_INVALID_ARGUMENT', /verify must be a boolean/);
  });
});
