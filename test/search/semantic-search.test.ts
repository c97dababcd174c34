import { describe, expect, it, vi } from 'vitest';

import { Client, GraphIndex, SemanticSearch } from '../../src/index.js';
import { haveToyModel, useToyModel } from '../helpers/models.js';

const docs = [
  'Machine learning is a subset of artificial intelligence.',
  'BERT is a bidirectional transformer pretrained on masked language modeling.',
  'Overfitting occurs when a model learns the training data too well.',
  'Python is a versatile high-level programming language.',
  'Vector databases store embeddings for similarity search.',
  'Cross-validation estimates model performance more reliably.',
];

describe.skipIf(!haveToyModel)('SemanticSearch and collections with an embedder (toy model)', () => {
  const toy = useToyModel();

  it('indexes documents and returns the best matches with scores and positions', async () => {
    const engine = new SemanticSearch({ model: toy.model() });
    await engine.index(docs);
    expect(engine.size).toBe(6);
    expect(engine.indexKind).toBe('flat');
    // A document is its own best match (score 1).
    const hits = await engine.search(docs[2]!, { topK: 3 });
    expect(hits).toHaveLength(3);
    expect(hits[0]).toEqual({ document: docs[2], score: expect.closeTo(1, 5), index: 2 });
    expect(hits[1]!.score).toBeLessThanOrEqual(hits[0]!.score);
  });

  it('minScore keeps only results at or above the threshold', async () => {
    const engine = new SemanticSearch({ model: toy.model() });
    await engine.index(docs);
    const all = await engine.search(docs[0]!, { topK: 6 });
    const cut = all[2]!.score;
    const kept = await engine.search(docs[0]!, { topK: 6, minScore: cut });
    expect(kept.map((h) => h.index)).toEqual(all.filter((h) => h.score >= cut).map((h) => h.index));
    expect(await engine.search(docs[0]!, { topK: 6, minScore: 1.01 })).toEqual([]);
  });

  it('uses IVF when asked, with the same best match', async () => {
    const engine = new SemanticSearch({ model: toy.model(), index: 'ivf', nprobe: 2 });
    await engine.index(docs);
    expect(engine.indexKind).toBe('ivf');
    expect((await engine.search(docs[4]!, { topK: 1 }))[0]!.index).toBe(4);
  });

  it('uses a graph index when asked, with the same best match', async () => {
    const engine = new SemanticSearch({ model: toy.model(), index: 'graph' });
    await engine.index(docs);
    expect(engine.indexKind).toBe('graph');
    expect((await engine.search(docs[4]!, { topK: 1 }))[0]!.index).toBe(4);
  });

  it("passes its nprobe to a graph index's search, and none when not given", async () => {
    const probed = new SemanticSearch({ model: toy.model(), index: 'graph', nprobe: 3 });
    const plain = new SemanticSearch({ model: toy.model(), index: 'graph' });
    await probed.index(docs);
    await plain.index(docs);
    const spy = vi.spyOn(GraphIndex.prototype, 'searchAsync');
    try {
      expect((await probed.search(docs[4]!, { topK: 1 }))[0]!.index).toBe(4);
      expect((await plain.search(docs[4]!, { topK: 1 }))[0]!.index).toBe(4);
      expect(spy.mock.calls.map((c) => c[2])).toEqual([{ nprobe: 3 }, { nprobe: undefined }]);
    } finally {
      spy.mockRestore();
    }
  });

  it('rejects bad queries and returns nothing before indexing', async () => {
    const engine = new SemanticSearch({ model: toy.model() });
    expect(await engine.search('anything')).toEqual([]);
    await expect(engine.search('')).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await engine.index(docs);
    await expect(engine.search('x', { topK: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    expect(() => new SemanticSearch({ index: 'hnsw' as never })).toThrow(/index must be one of/);
  });

  it('a collection with an embedder embeds documents and queryTexts', async () => {
    const client = new Client();
    const col = await client.createCollection('texts', { embedder: toy.model() });
    expect(col.dim).toBe(toy.model().dim);
    await col.add({ ids: docs.map((_, i) => `d${i}`), documents: docs, metadatas: docs.map((_, i) => ({ topic: i < 3 ? 'ml' : 'other' })) });
    const [hits] = await col.query({ queryTexts: docs[3]!, nResults: 2 });
    expect(hits![0]!.id).toBe('d3');
    const [ml] = await col.query({ queryTexts: [docs[3]!], nResults: 2, where: { topic: 'ml' } });
    expect(ml!.map((h) => h.metadata?.topic)).toEqual(['ml', 'ml']);
    await col.update({ ids: ['d0'], documents: [docs[3]!] }); // re-embedded
    const [again] = await col.query({ queryTexts: docs[3]!, nResults: 2 });
    expect(again!.map((h) => h.id).sort()).toEqual(['d0', 'd3']);
  });
});
