// Loads the MiniLM-shaped int8 export with engine 'auto' and 'semvec' under
// the SEMVEC_SIMD the parent set; prints what ran, and how far the two agree.
import { Embedder } from '../../src/index.js';
import { agreement } from '../../src/embedder/engines.js';
import { miniLmShapeQ8Dir } from './models.js';

const dir = miniLmShapeQ8Dir();
const texts = ['a short query', 'a longer sentence about vector search and the engines that run it', 'x'];
const auto = await Embedder.load(dir, { dtype: 'q8', threads: 2 });
const mine = await Embedder.load(dir, { dtype: 'q8', threads: 2, engine: 'semvec' });
const a = await auto.embed(texts);
const b = await mine.embed(texts);
console.log(JSON.stringify({ auto: auto.engine, note: auto.engineNote, semvec: mine.engine, agreement: agreement(a, b, auto.dim) }));
await auto.close();
await mine.close();
