/**
 * Child process for test/format.test.ts: saves an index to argv[2] over and
 * over (synchronously, so a save is nearly always in progress) until killed.
 * Prints "saving" once the first save has begun.
 */
import { FlatIndex } from '../../src/index.js';
import { randomVectors } from './data.js';

const path = process.argv[2]!;
const index = new FlatIndex({ dim: 64 });
index.add(randomVectors(40_000, 64, 3));
console.log('saving');
for (;;) index.save(path);
