/**
 * Run in a child process with SEMVEC_SIMD set: prints the SIMD level and a
 * search result as JSON, or the load error's code and message.
 */
import { FlatIndex, SemvecError, simdLevel } from '../../src/index.js';
import { randomVectors } from './data.js';

try {
  const dim = 33;
  const index = new FlatIndex({ dim, metric: 'l2' });
  index.add(randomVectors(3000, dim, 7));
  const [r] = index.searchBatch(randomVectors(1, dim, 8), 10);
  console.log(JSON.stringify({ level: simdLevel(), ids: Array.from(r!.ids), scores: Array.from(r!.scores) }));
} catch (err) {
  const e = err as SemvecError;
  console.log(JSON.stringify({ error: e.code, name: e.name, message: e.message }));
}
