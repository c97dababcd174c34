/**
 * Walkthrough 2: cosine similarity between sentence embeddings. Same
 * meaning, different words: high; unrelated topics: low.
 *
 * Run: npx tsx examples/02-pairwise-similarity.ts
 * Model: all-MiniLM-L6-v2 (or the directory in SEMVEC_MODEL_DIR).
 */
import { cosineSimilarity } from 'semvec';

import { loadModel } from './_shared.js';

const model = await loadModel('all-MiniLM-L6-v2');

const sentences = [
  'The cat sat on the mat.',
  'A feline rested on the rug.',
  'Dogs love to play fetch.',
  'Machine learning is a subset of AI.',
  'Artificial intelligence includes ML.',
];
const embeddings = model.rows(await model.embed(sentences));

const pairs: [number, number, string][] = [
  [0, 1, 'cat on mat vs feline on rug'],
  [0, 2, 'cat on mat vs dogs play fetch'],
  [3, 4, 'ML subset AI vs AI includes ML'],
  [0, 3, 'cat on mat vs ML is AI'],
];

console.log('Cosine similarity between sentences:');
console.log(`${'Pair'.padEnd(55)} Similarity`);
console.log('-'.repeat(70));
for (const [i, j, desc] of pairs) {
  const sim = cosineSimilarity(embeddings[i]!, embeddings[j]!);
  console.log(`${desc.padEnd(55)} ${sim.toFixed(4)}`);
}
await model.close();
