/**
 * Walkthrough 7: encoding a large corpus in batches, with a progress bar
 * and the throughput in documents per second.
 *
 * Run: npx tsx examples/07-batch-encoding.ts
 * Model: all-MiniLM-L6-v2 (or the directory in SEMVEC_MODEL_DIR).
 * SEMVEC_EXAMPLE_QUICK=1 encodes 200 documents instead of 5,000.
 */
import cliProgress from 'cli-progress';

import { loadModel, quick } from './_shared.js';

const model = await loadModel('all-MiniLM-L6-v2');
const count = quick ? 200 : 5000;
const largeCorpus = Array.from({ length: count }, (_, i) => `This is document number ${i} about topic ${i % 10}.`);

// A live bar on a terminal; otherwise (a pipe, a log file) a line every 25%.
const bar = process.stdout.isTTY
  ? new cliProgress.SingleBar(
      { format: 'Batches |{bar}| {percentage}% | {value}/{total} docs | ETA {eta}s', stream: process.stdout, hideCursor: true },
      cliProgress.Presets.shades_classic,
    )
  : undefined;
let nextReport = 0.25;
const onProgress = (done: number, total: number): void => {
  if (bar) {
    bar.update(done);
  } else if (done / total >= nextReport) {
    console.log(`  ${done}/${total} documents encoded`);
    while (done / total >= nextReport) nextReport += 0.25;
  }
};

console.log(`Encoding ${count} documents...`);
bar?.start(count, 0);
const started = performance.now();
const embeddings = await model.embed(largeCorpus, {
  batchSize: 64, // process 64 at a time
  normalize: true, // L2-normalise for cosine similarity (the default)
  onProgress,
});
const elapsed = (performance.now() - started) / 1000;
bar?.stop();

console.log(`\nDone in ${elapsed.toFixed(1)}s`);
console.log(`Speed: ${Math.round(count / elapsed)} docs/second`);
console.log(`Embeddings shape: (${embeddings.length / model.dim}, ${model.dim})`);
await model.close();
