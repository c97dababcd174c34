/**
 * Walkthrough 1: every sentence becomes one vector of the model's dimension.
 *
 * Run: npx tsx examples/01-embedding-shape.ts
 * Model: all-MiniLM-L6-v2 (or the directory in SEMVEC_MODEL_DIR).
 */
import { loadModel } from './_shared.js';

const model = await loadModel('all-MiniLM-L6-v2');

const sentences = [
  'The cat sat on the mat.',
  'A feline rested on the rug.',
  'Dogs love to play fetch.',
  'Machine learning is a subset of AI.',
  'Artificial intelligence includes ML.',
];

// One Float32Array of sentences.length * model.dim values, row i for sentence i.
const embeddings = await model.embed(sentences);
const first = model.rows(embeddings)[0]!;

console.log(`Embedding shape: (${sentences.length}, ${model.dim})`);
console.log(`Each sentence → ${model.dim}-dimensional vector`);
console.log(`\nFirst embedding (first 8 dims): [${Array.from(first.subarray(0, 8), (x) => x.toFixed(4)).join(' ')}]`);
await model.close();
