/**
 * Walkthrough 6: a Chroma-style collection: records with ids, documents and
 * metadata, embedded by the collection's model; query, filtered query
 * (where), update and delete.
 *
 * Run: npx tsx examples/06-collection.ts
 * Model: all-MiniLM-L6-v2 (or the directory in SEMVEC_MODEL_DIR).
 */
import { Client, type Metadata } from 'semvec';

import { loadModel } from './_shared.js';

const model = await loadModel('all-MiniLM-L6-v2');
const client = new Client(); // in memory; Client.open('./semvec_db') persists to disk
const collection = await client.createCollection('ml_knowledge_base', { metric: 'cosine', embedder: model });

const docs: { id: string; text: string; metadata: Metadata }[] = [
  { id: 'doc1', text: 'Python is a high-level programming language known for simplicity.', metadata: { topic: 'programming', difficulty: 'beginner' } },
  { id: 'doc2', text: 'Machine learning algorithms learn patterns from data.', metadata: { topic: 'ml', difficulty: 'intermediate' } },
  { id: 'doc3', text: 'Neural networks are inspired by biological neural networks.', metadata: { topic: 'deep_learning', difficulty: 'intermediate' } },
  { id: 'doc4', text: 'BERT is a bidirectional transformer pretrained on MLM.', metadata: { topic: 'nlp', difficulty: 'advanced' } },
  { id: 'doc5', text: 'LoRA reduces trainable parameters using low-rank decomposition.', metadata: { topic: 'fine_tuning', difficulty: 'advanced' } },
];

// The documents are embedded by the collection's model (or pass `embeddings`).
await collection.add({
  ids: docs.map((d) => d.id),
  documents: docs.map((d) => d.text),
  metadatas: docs.map((d) => d.metadata),
});
console.log(`Collection size: ${await collection.count()}`);

const [results = []] = await collection.query({ queryTexts: 'How do transformers work?', nResults: 3 });
console.log("\nQuery: 'How do transformers work?'");
// `distance` is Chroma's (1 - similarity for cosine); `score` is the similarity.
results.forEach((r, i) => console.log(`  ${i + 1}. [${r.score.toFixed(3)}] ${r.document}`));

const [filtered = []] = await collection.query({
  queryTexts: 'machine learning concepts',
  nResults: 3,
  where: { difficulty: 'advanced' }, // only return advanced documents
});
console.log('\nQuery with filter (difficulty=advanced):');
filtered.forEach((r) => console.log(`  [${r.metadata?.topic}] ${r.document}`));

// A new document is re-embedded; metadata given to update is merged.
await collection.update({ ids: ['doc1'], documents: ['Python is a versatile high-level programming language.'] });
await collection.delete({ ids: ['doc5'] });
const [doc1] = await collection.get({ ids: ['doc1'] });
console.log(`\nAfter update and delete: ${await collection.count()} documents`);
console.log(`  doc1 now reads: ${doc1?.document}`);

await client.close();
await model.close();
