/**
 * A writer for the crash test: opens the collection directory argv[2] and
 * writes forever, printing a line before each write starts and after it is
 * acknowledged:
 *   add? <n>    record k<n> is being added          ack <n>   it was added
 *   del? <n>    record k<n> is being deleted        del <n>   it was deleted
 *   ckpt        a checkpoint (index snapshot) finished
 * The parent kills it with SIGKILL at random points.
 */
import { Client } from '../../src/index.js';

export const DIM = 6;

/** The embedding of record k<n> (deterministic). */
export function vectorOf(n: number): number[] {
  return Array.from({ length: DIM }, (_, c) => Math.sin(n * 0.37 + c * 1.3) + (n % 7) * 0.1);
}

const isMain = process.argv[1]?.endsWith('crash-writer.ts');
if (isMain) {
  const dir = process.argv[2] as string;
  let n = Number(process.argv[3]);
  const client = await Client.open(dir);
  const col = await client.getOrCreateCollection('crash', { metric: 'l2' });
  const out = (line: string) => process.stdout.write(`${line}\n`);
  for (;;) {
    const batch = 1 + (n % 3);
    const ids = Array.from({ length: batch }, (_, j) => n + j);
    for (const i of ids) out(`add? ${i}`);
    await col.add({ ids: ids.map((i) => `k${i}`), embeddings: ids.map(vectorOf), documents: ids.map((i) => `doc ${i}`), metadatas: ids.map((i) => ({ i })) });
    for (const i of ids) out(`ack ${i}`);
    n += batch;
    if (n % 5 === 0) {
      const victim = n - 4;
      out(`del? ${victim}`);
      if ((await col.delete({ ids: [`k${victim}`] })) === 1) out(`del ${victim}`);
    }
    if (n % 40 < 3) {
      await client.checkpoint();
      out('ckpt');
    }
  }
}
