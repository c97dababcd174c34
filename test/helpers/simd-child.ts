/**
 * Run in a child process with SEMVEC_SIMD set: prints the SIMD level and a
 * search result as JSON, or the load error's code and message.
 */
import { createHash } from 'node:crypto';

import { FlatIndex, GraphIndex, SemvecError, simdLevel } from '../../src/index.js';
import { randomVectors } from './data.js';

try {
  const dim = 33;
  const index = new FlatIndex({ dim, metric: 'l2' });
  index.add(randomVectors(3000, dim, 7));
  const [r] = index.searchBatch(randomVectors(1, dim, 8), 10);
  // The graph's links are chosen on exact integer code arithmetic: for ip
  // (vectors stored as given) the whole file is the same at every level.
  const graph = new GraphIndex({ dim: 384, metric: 'ip' });
  graph.add(randomVectors(2000, 384, 9));
  const graphSha = createHash('sha256').update(graph.toBuffer()).digest('hex');
  console.log(JSON.stringify({ level: simdLevel(), ids: Array.from(r!.ids), scores: Array.from(r!.scores), graphSha }));
} catch (err) {
  const e = err as SemvecError;
  console.log(JSON.stringify({ error: e.code, name: e.name, message: e.message }));
}
