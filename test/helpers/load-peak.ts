/**
 * Child process for test/format.test.ts: loads an index file (argv[2]: its
 * path; argv[3]: 'flat' or 'ivf'; argv[4]: 'load', the default, or 'open'
 * to map it) and prints, as JSON, how much the peak resident set grew
 * during the load, and the error code if it was refused.
 */
import { FlatIndex, IVFIndex, type SemvecError } from '../../src/index.js';

const [path, kind, how = 'load'] = process.argv.slice(2) as [string, string, string?];
// Load the addon and settle the heap first, so that only the load is measured.
new FlatIndex({ dim: 2 }).add([[1, 2]]);
const before = process.resourceUsage().maxRSS;
let code: string | undefined;
try {
  if (kind === 'flat') (how === 'open' ? FlatIndex.open : FlatIndex.load)(path);
  else (how === 'open' ? IVFIndex.open : IVFIndex.load)(path);
} catch (err) {
  code = (err as SemvecError).code;
}
const after = process.resourceUsage().maxRSS;
console.log(JSON.stringify({ grownKiB: after - before, code }));
