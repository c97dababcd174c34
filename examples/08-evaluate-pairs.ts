/**
 * Walkthrough 8: test embedding models on your own labelled pairs before
 * committing to one (1 = similar, 0 = different), here all-MiniLM-L6-v2
 * against all-mpnet-base-v2.
 *
 * Run: npx tsx examples/08-evaluate-pairs.ts
 * Models: all-MiniLM-L6-v2 (or the directory in SEMVEC_MODEL_DIR) and
 * all-mpnet-base-v2 (or the directory in SEMVEC_MODEL_DIR_2).
 */
import { compareModels, evaluatePairs, type Pair } from 'semvec';

import { loadModel } from './_shared.js';

const testPairs: Pair[] = [
  ['cheap hotel', 'affordable accommodation', 1],
  ['machine learning', 'artificial intelligence', 1],
  ['cat on the mat', 'deep learning model', 0],
  ['how to code in python', 'python programming tutorial', 1],
  ['stock market crash', 'cooking recipes', 0],
  ['neural network', 'deep learning', 1],
  ['fix bug in code', 'debug software', 1],
  ['the weather today', 'quantum physics research', 0],
];

const models = [await loadModel('all-MiniLM-L6-v2'), await loadModel('all-mpnet-base-v2', 'SEMVEC_MODEL_DIR_2')];
// One call each first, so the speeds measured below leave out the runtime's warm-up.
for (const model of models) await model.embed('warm-up');

for (const model of models) {
  const report = await evaluatePairs(model, testPairs, { threshold: 0.5 });
  console.log(`\n${model.name}:`);
  console.log(`  Accuracy on test pairs: ${(report.accuracy * 100).toFixed(1)}%`);
  for (const p of report.pairs) {
    const status = p.correct ? 'correct' : 'WRONG';
    console.log(`  [${status}] sim=${p.similarity.toFixed(3)} | '${p.a.slice(0, 25)}' vs '${p.b.slice(0, 25)}'`);
  }
}

// Side by side, with what a fixed threshold hides: the best threshold's
// accuracy and ROC AUC (how well similarity separates the two labels).
const rows = await compareModels(models, { pairs: testPairs, threshold: 0.5 });
console.log(`\n${'Model'.padEnd(24)} ${'Dim'.padEnd(5)} ${'MB'.padEnd(7)} ${'Acc@0.5'.padEnd(8)} ${'Best acc'.padEnd(9)} ${'ROC AUC'.padEnd(8)} Texts/s`);
for (const r of rows) {
  const cells = [r.model.slice(0, 24).padEnd(24), String(r.dim).padEnd(5), r.sizeMB.toFixed(1).padEnd(7), pct(r.accuracy).padEnd(8), pct(r.bestAccuracy).padEnd(9), (r.rocAuc ?? 0).toFixed(3).padEnd(8), r.textsPerSecond.toFixed(0)];
  console.log(cells.join(' '));
}
for (const model of models) await model.close();

function pct(x: number | undefined): string {
  return `${((x ?? 0) * 100).toFixed(1)}%`;
}
