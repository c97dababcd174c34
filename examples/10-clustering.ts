/**
 * Walkthrough 10: k-means on sentence embeddings groups sentences by topic.
 *
 * Run: npx tsx examples/10-clustering.ts
 * Model: all-MiniLM-L6-v2 (or the directory in SEMVEC_MODEL_DIR).
 */
import { clusterTexts } from 'semvec';

import { loadModel } from './_shared.js';

const sentences = [
  'Python is great for data science.',
  'R is used for statistical computing.',
  'Machine learning requires lots of data.',
  'Deep learning uses neural networks.',
  'Java is widely used in enterprise software.',
  'JavaScript powers the web frontend.',
  'Supervised learning uses labeled data.',
  'Unsupervised learning finds hidden patterns.',
];

const model = await loadModel('all-MiniLM-L6-v2');
// Spherical k-means (cosine) with a fixed seed: the same clusters every run.
const { clusters } = await clusterTexts(sentences, { k: 3, seed: 42, metric: 'cosine', model });

console.log('\nClustered sentences:');
for (const cluster of clusters) {
  console.log(`\nCluster ${cluster.label}:`);
  for (const sentence of cluster.members) console.log(`  - ${sentence}`);
}
await model.close();
