/**
 * bench/collection/child.ts: the catch-up child of bench:collection. Opens
 * the collection directory it is given, adds CATCHUP_RECORDS records (ids
 * c0, c1, ...; embeddings drawn with the catch-up seed), prints the timings
 * as one JSON line, then kills itself (SIGKILL) without closing: a crash the
 * next open must catch up from the change log.
 */
import { writeSync } from 'node:fs';

import { Client } from '../../src/index.js';
import { option, parseCommand, runMain } from '../lib/args.js';
import { CLUSTERED, makeMixture, sample } from '../lib/data.js';
import { now } from '../lib/timing.js';
import { CATCHUP_RECORDS, COLLECTION, SEEDS, makeAttributes, recordsInput } from './records.js';

const CHILD_SCRIPT = 'bench/collection/child.ts';

const COMMAND = {
  script: CHILD_SCRIPT,
  summary: 'adds records to a collection and dies without close (run by bench/collection.ts)',
  options: {
    dir: option.path('the collection directory', undefined, { arg: 'DIR' }),
    dim: option.int('dimensions'),
  },
};

async function main(): Promise<void> {
  const { dir, dim } = parseCommand(COMMAND);
  const mixture = makeMixture(dim, SEEDS.mixture, CLUSTERED);
  const data = sample(mixture, CATCHUP_RECORDS, SEEDS.catchup);
  const attrs = makeAttributes(CATCHUP_RECORDS, SEEDS.catchup);
  const t0 = now();
  const client = await Client.open(dir);
  const col = await client.getCollection(COLLECTION);
  const t1 = now();
  await col.add(recordsInput(attrs, data, dim, 0, CATCHUP_RECORDS, 'c', 'Late record'));
  const t2 = now();
  writeSync(1, `${JSON.stringify({ openAndGetMs: (t1 - t0) * 1e3, addMs: (t2 - t1) * 1e3 })}\n`);
  process.kill(process.pid, 'SIGKILL'); // no close, no checkpoint: a crash
}

await runMain(CHILD_SCRIPT, main);
