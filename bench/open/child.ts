/**
 * bench/open/child.ts: one reader process of bench:open's memory test.
 * Opens (maps) or loads the index file it is given, searches it, then reads
 * every stored vector once with getVector, so every page of the file has
 * been touched; prints one JSON line and waits, alive, until its standard
 * input closes, so the parent can read its memory while all readers are
 * running.
 */
import { writeSync } from 'node:fs';

import { FlatIndex, IVFIndex, type VectorIndex } from '../../src/index.js';
import { option, parseCommand, runMain } from '../lib/args.js';
import { CLUSTERED, SEEDS, makeMixture, sample } from '../lib/data.js';
import { now } from '../lib/timing.js';
import { CHILD_KINDS, CHILD_MODES, CHILD_QUERIES, type ChildReport } from './memory.js';

const COMMAND = {
  script: 'bench/open/child.ts',
  summary: 'maps or loads one index file, touches all of it and waits (run by bench/open.ts)',
  options: {
    path: option.path('the index file'),
    kind: option.choice('index class', CHILD_KINDS, 'flat'),
    mode: option.choice('open (map, without verify) or load (read into memory)', CHILD_MODES, 'open'),
  },
};

function openIndex(path: string, kind: (typeof CHILD_KINDS)[number], mode: (typeof CHILD_MODES)[number]): VectorIndex {
  if (kind === 'flat') return mode === 'open' ? FlatIndex.open(path, { verify: false }) : FlatIndex.load(path);
  return mode === 'open' ? IVFIndex.open(path, { verify: false }) : IVFIndex.load(path);
}

async function main(): Promise<void> {
  const { path, kind, mode } = parseCommand(COMMAND);
  const t0 = now();
  const index = openIndex(path, kind, mode);
  const queries = sample(makeMixture(index.dim, SEEDS.mixture, CLUSTERED), CHILD_QUERIES, SEEDS.queries);
  let checksum = 0;
  const results = index instanceof IVFIndex ? index.searchBatch(queries, 10, { nprobe: index.nlist }) : (index as FlatIndex).searchBatch(queries, 10);
  for (const r of results) checksum += r.ids[0] ?? 0;
  // Every stored vector once: the sq8 lists' floats are otherwise read only for re-ranked candidates.
  const ids = index.size;
  for (let id = 0; id < ids; id++) checksum += index.getVector(id)[0]!;
  const report: ChildReport = { size: index.size, mappedBytes: index.mappedBytes(), memoryUsage: index.memoryUsage(), readyMs: (now() - t0) * 1e3, checksum };
  writeSync(1, `${JSON.stringify(report)}\n`);
  await new Promise<void>((resolve) => {
    process.stdin.on('end', resolve);
    process.stdin.resume();
  });
}

await runMain(COMMAND.script, main);
