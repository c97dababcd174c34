/**
 * Run in a child process (so that a regression hangs only the child, which
 * the test kills): loads index paths that are not regular files, async four
 * times at once per path (as many as libuv's default pool has threads) and
 * then sync, and checks that unrelated async work still completes. Prints
 * one JSON line: the error code and message of every load, and the result of
 * the unrelated work.
 */
import { FlatIndex, IVFIndex, SemvecError } from '../../src/index.js';

const paths = process.argv.slice(2);
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'loaded',
    (e: SemvecError) => `${e.code}: ${e.message}`,
  );
const sync = (fn: () => unknown) => {
  try {
    fn();
    return 'loaded';
  } catch (err) {
    const e = err as SemvecError;
    return `${e.code}: ${e.message}`;
  }
};

const loads: Record<string, string[]> = {};
for (const path of paths) {
  loads[path] = await Promise.all([
    outcome(FlatIndex.loadAsync(path)),
    outcome(IVFIndex.loadAsync(path)),
    outcome(FlatIndex.loadAsync(path)),
    outcome(IVFIndex.loadAsync(path)),
  ]);
  loads[path]!.push(sync(() => FlatIndex.load(path)), sync(() => IVFIndex.load(path)));
}
const index = new FlatIndex({ dim: 2, metric: 'l2' });
await index.addAsync([[0, 0], [1, 1]]);
const nearest = (await index.searchAsync([0.9, 0.9], 1)).ids[0];
console.log(JSON.stringify({ loads, nearest }));
