/**
 * Walkthrough 9: a bi-encoder trained for search (MS MARCO) embeds the query
 * and the passages separately; the best passage is the most similar one.
 *
 * Run: npx tsx examples/09-bi-encoder.ts
 * Model: msmarco-distilbert-base-v4 (or the directory in SEMVEC_MODEL_DIR).
 */
import { similarityMatrix } from 'semvec';

import { loadModel } from './_shared.js';

const biEncoder = await loadModel('msmarco-distilbert-base-v4');

const passages = [
  'LoRA stands for Low-Rank Adaptation and is used for efficient fine-tuning.',
  'The Eiffel Tower is a famous landmark in Paris, France.',
  'Python was created by Guido van Rossum and first released in 1991.',
];
const query = 'What is LoRA?';

const queryEmb = await biEncoder.embedOne(query);
const passageEmbs = await biEncoder.embed(passages);
// One row (the query) against every passage: cosine similarities.
const sims = Array.from(similarityMatrix(queryEmb, passageEmbs, { dim: biEncoder.dim }));
const top = sims.indexOf(Math.max(...sims));

console.log(`Query: '${query}'`);
console.log(`Best match [${sims[top]!.toFixed(3)}]: '${passages[top]}'`);
console.log('\nAll passages:');
sims.forEach((s, i) => console.log(`  [${s.toFixed(3)}] ${passages[i]}`));
await biEncoder.close();
