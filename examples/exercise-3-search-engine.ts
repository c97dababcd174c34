/**
 * Exercise 3 (the walkthrough's level 3): a persistent search engine over 200+
 * documents with metadata (category, date, author), with plain semantic
 * search, filtered search ("documents from category X similar to Y") and a
 * similarity threshold that rejects everything below it.
 *
 * Run: npx tsx examples/exercise-3-search-engine.ts
 * Model: all-MiniLM-L6-v2 from the cache or the Hugging Face hub, or the
 * directory in SEMVEC_MODEL_DIR (model.onnx + tokenizer files).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Client, type Collection, type Metadata, type QueryMatch } from 'semvec';

import { loadModel } from './_shared.js';

// ---- a generated corpus: 4 categories x 60 documents ----

const topics: Record<string, { subjects: string[]; facts: string[] }> = {
  ml: {
    subjects: ['gradient descent', 'a transformer', 'overfitting', 'a decision tree', 'k-means clustering', 'a neural network'],
    facts: ['learns from labelled examples', 'minimises a loss function', 'can memorise noise in the training data', 'groups similar points together', 'is evaluated on held-out data'],
  },
  databases: {
    subjects: ['an index', 'a transaction', 'SQL', 'a query planner', 'write-ahead logging', 'a B-tree'],
    facts: ['keeps data consistent after a crash', 'speeds up lookups by key', 'joins rows from several tables', 'chooses how a query runs', 'stores sorted keys on disk'],
  },
  cooking: {
    subjects: ['bread dough', 'a tomato sauce', 'a risotto', 'caramel', 'a vinaigrette', 'roast vegetables'],
    facts: ['needs slow stirring over low heat', 'gets its flavour from browning', 'should rest before serving', 'balances acid with oil', 'rises when yeast ferments sugar'],
  },
  travel: {
    subjects: ['a night train', 'a mountain hike', 'a city museum', 'a ferry crossing', 'a desert road trip', 'a coastal village'],
    facts: ['is best booked weeks ahead', 'rewards an early start', 'offers views you will not forget', 'is quieter outside the summer season', 'needs a good map and water'],
  },
};
const authors = ['Ada', 'Grace', 'Linus', 'Margaret', 'Edsger'];

interface Doc {
  id: string;
  text: string;
  metadata: Metadata;
}

function corpus(): Doc[] {
  const docs: Doc[] = [];
  for (const [category, { subjects, facts }] of Object.entries(topics)) {
    for (let i = 0; i < 60; i++) {
      const subject = subjects[i % subjects.length]!;
      const fact = facts[(i * 7) % facts.length]!;
      const day = 1 + ((i * 11) % 28);
      const month = 1 + (i % 12);
      docs.push({
        id: `${category}-${i}`,
        text: `In practice, ${subject} ${fact}. (${category} note ${i})`,
        metadata: {
          category,
          author: authors[(i + category.length) % authors.length]!,
          date: `2024-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`,
          year: 2024,
          month,
        },
      });
    }
  }
  return docs;
}

// ---- the engine ----

function show(title: string, matches: QueryMatch[]): void {
  console.log(`\n${title}`);
  if (matches.length === 0) console.log('  (no result above the threshold)');
  matches.forEach((m, i) => console.log(`  ${i + 1}. [${m.score.toFixed(3)}] ${m.document}  (${m.metadata?.category}, ${m.metadata?.author}, ${m.metadata?.date})`));
}

/** Semantic search: the top k documents for a question. */
async function search(col: Collection, query: string, k = 3): Promise<QueryMatch[]> {
  return (await col.query({ queryTexts: query, nResults: k }))[0] ?? [];
}

/** Filtered search: documents from one category that are similar to the query. */
async function searchIn(col: Collection, category: string, query: string, k = 3): Promise<QueryMatch[]> {
  return (await col.query({ queryTexts: query, nResults: k, where: { category } }))[0] ?? [];
}

/** Only results at or above a similarity threshold; everything below is rejected. */
async function searchAbove(col: Collection, query: string, minScore: number, k = 10): Promise<QueryMatch[]> {
  return (await col.query({ queryTexts: query, nResults: k, minScore }))[0] ?? [];
}

const model = await loadModel('all-MiniLM-L6-v2');
const dir = mkdtempSync(join(tmpdir(), 'semvec-exercise3-'));
try {
  const client = await Client.open(dir);
  const col = await client.getOrCreateCollection('notes', { metric: 'cosine', embedder: model });
  const docs = corpus();
  const started = performance.now();
  await col.add({ ids: docs.map((d) => d.id), documents: docs.map((d) => d.text), metadatas: docs.map((d) => d.metadata) });
  console.log(`indexed ${await col.count()} documents in ${((performance.now() - started) / 1000).toFixed(2)} s with ${model.name} (${model.dim}-d)`);

  show('Semantic search: "why does my model fail on new data?"', await search(col, 'why does my model fail on new data?'));
  show('Filtered: cooking notes similar to "slow heat"', await searchIn(col, 'cooking', 'slow heat'));
  show('Filtered: travel notes by Ada from the summer', (await col.query({ queryTexts: 'a trip with great views', nResults: 3, where: { $and: [{ category: 'travel' }, { author: 'Ada' }, { month: { $in: [6, 7, 8] } }] } }))[0] ?? []);
  show('Threshold 0.5: "crash recovery in storage engines"', await searchAbove(col, 'crash recovery in storage engines', 0.5));
  show('Threshold 0.99 rejects everything weaker', await searchAbove(col, 'something nobody wrote about', 0.99));
  await client.close();
} finally {
  await model.close();
  rmSync(dir, { recursive: true, force: true });
}
