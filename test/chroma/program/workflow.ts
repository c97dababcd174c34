/**
 * A typical program written against the official `chromadb` JS client
 * (3.x): its types are the reference. test/chroma/compat.test.ts changes
 * only the import line to 'semvec/chroma', type-checks the result and runs
 * both: this one through chromadb's client against `semvec serve`, the
 * other in process. Both must print the same lines.
 */
import { ChromaNotFoundError, type ChromaClient, type Collection, type EmbeddingFunction, type Metadata } from 'chromadb';

/** A toy embedding function: how often each of the letters a-h occurs, plus one half. */
export class LetterCounts implements EmbeddingFunction {
  name = 'letter-counts';
  async generate(texts: string[]): Promise<number[][]> {
    return texts.map((t) => Array.from('abcdefgh', (ch) => [...t.toLowerCase()].filter((c) => c === ch).length + 0.5));
  }
}

const round = (_key: string, v: unknown) => (typeof v === 'number' ? Math.round(v * 1e4) / 1e4 : v);

export async function workflow(client: ChromaClient, out: (line: string) => void): Promise<void> {
  const show = (label: string, value: unknown) => out(`${label}: ${JSON.stringify(value, round)}`);
  show('heartbeat', typeof (await client.heartbeat()));
  const embeddingFunction = new LetterCounts();
  const papers: Collection = await client.createCollection({
    name: 'papers',
    metadata: { topic: 'ml' },
    configuration: { hnsw: { space: 'l2' } },
    embeddingFunction,
  });
  const metadatas: Metadata[] = [
    { year: 2017, kind: 'paper' },
    { year: 2018, kind: 'paper' },
    { year: 2020, kind: 'paper' },
    { year: 1992, kind: 'book' },
  ];
  await papers.add({
    ids: ['p1', 'p2', 'p3', 'p4'],
    documents: ['Attention is all you need', 'BERT: deep bidirectional encoders', 'Scaling laws for language models', 'Database systems: the complete book'],
    metadatas,
  });
  await papers.add({ ids: ['v1'], embeddings: [[1, 1, 1, 1, 1, 1, 1, 1]], metadatas: [{ year: 2021, kind: 'vector' }] });
  show('count', await papers.count());
  show('peek', (await papers.peek({ limit: 2 })).ids);
  const recent = await papers.get({ where: { year: { $gte: 2018 } }, include: ['metadatas', 'documents'] });
  show('recent', recent.rows());
  const byText = await papers.query({ queryTexts: ['attention heads'], nResults: 3, include: ['distances', 'documents', 'metadatas'] });
  show('query ids', byText.ids);
  show('query distances', byText.distances);
  const filtered = await papers.query({
    queryEmbeddings: [[2, 1, 1, 1, 3, 0.5, 0.5, 0.5]],
    nResults: 2,
    where: { $and: [{ kind: 'paper' }, { year: { $lt: 2020 } }] },
    whereDocument: { $contains: 'e' },
  });
  show('filtered', filtered.rows()[0]?.map((r) => [r.id, r.distance, r.metadata?.year]));
  await papers.update({ ids: ['p2'], metadatas: [{ year: 2019 }] });
  await papers.upsert({ ids: ['p5'], documents: ['Retrieval augmented generation'], metadatas: [{ year: 2020, kind: 'paper' }] });
  show('after update', (await papers.get({ ids: ['p2', 'p5'], include: ['metadatas'] })).metadatas);
  show('deleted', (await papers.delete({ where: { kind: 'vector' } })).deleted);
  await papers.modify({ name: 'papers-2024', metadata: { topic: 'ml', reviewed: true } });
  show('modified', [papers.name, papers.metadata]);
  show('collections', await client.countCollections());
  const again = await client.getCollection({ name: 'papers-2024', embeddingFunction });
  show('same collection', [again.id === papers.id, await again.count()]);
  show('embeddings', (await again.get({ ids: ['p1'], include: ['embeddings'] })).embeddings);
  show('listed', (await client.listCollections()).map((c) => c.name));
  await client.deleteCollection({ name: 'papers-2024' });
  try {
    await client.getCollection({ name: 'papers-2024', embeddingFunction });
    show('deleted collection found', true);
  } catch (err) {
    show('deleted collection missing', err instanceof ChromaNotFoundError);
  }
  show('collections at the end', await client.countCollections());
}
