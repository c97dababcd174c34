/**
 * A reader process for the readers test: opens the directory argv[2]
 * read-only (never refreshing on its own), prints 'ready', then for each
 * line `<seq> <id>` on stdin waits until it has caught up to seq and checks
 * that a query for the record's vector finds it, printing
 * `seen <id> at <seq reached>`.
 */
import { createInterface } from 'node:readline';

import { Client } from '../../src/index.js';

const vec = (i: number) => [Math.cos(i), Math.sin(i), (i % 7) / 7];

const client = await Client.open(process.argv[2] as string, { readOnly: true, refreshMs: 0 });
const col = await client.getCollection('docs');
process.stdout.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  const [seq, id] = line.split(' ') as [string, string];
  const reached = await col.refresh({ atLeast: Number(seq), timeoutMs: 30_000 });
  const [hits] = await col.query({ queryEmbeddings: [vec(Number(id.slice(1)))], nResults: 1, include: [] });
  process.stdout.write(hits?.[0]?.id === id ? `seen ${id} at ${reached}\n` : `missing ${id} at ${reached}\n`);
}
await client.close();
