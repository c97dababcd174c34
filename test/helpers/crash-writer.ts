/**
 * A writer for the crash tests: opens the collection directory argv[2] and
 * writes forever from record argv[3], printing a line before each step
 * starts and after it is acknowledged:
 *   add? <n>    record k<n> is being added          ack <n>   it was added
 *   del? <n>    record k<n> is being deleted        del <n>   it was deleted
 *   ckpt?       a checkpoint starts                 ckpt      it finished
 *   close?      the client is being closed          open      it was closed and reopened
 *   save?       a standalone index file is saved    saved     it was saved
 * The parent kills it with SIGKILL at random points.
 */
import { join } from 'node:path';

import { Client, FlatIndex } from '../../src/index.js';

export const DIM = 6;

/** The embedding of record k<n> (deterministic). */
export function vectorOf(n: number): number[] {
  return Array.from({ length: DIM }, (_, c) => Math.sin(n * 0.37 + c * 1.3) + (n % 7) * 0.1);
}

/** The standalone index file the writer saves now and then. */
export function standaloneFile(dir: string): string {
  return join(dir, 'standalone.svx');
}

const isMain = process.argv[1]?.endsWith('crash-writer.ts');
if (isMain) {
  const dir = process.argv[2] as string;
  let n = Number(process.argv[3]);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  let client = await Client.open(dir);
  let col = await client.getOrCreateCollection('crash', { metric: 'l2' });
  const standalone = new FlatIndex({ dim: DIM, metric: 'l2' });
  out('ready');
  for (;;) {
    const batch = 1 + (n % 3);
    const ids = Array.from({ length: batch }, (_, j) => n + j);
    for (const i of ids) out(`add? ${i}`);
    await col.add({ ids: ids.map((i) => `k${i}`), embeddings: ids.map(vectorOf), documents: ids.map((i) => `doc ${i}`), metadatas: ids.map((i) => ({ i })) });
    for (const i of ids) out(`ack ${i}`);
    standalone.add(ids.map(vectorOf), ids);
    n += batch;
    if (n % 5 === 0) {
      const victim = n - 4;
      out(`del? ${victim}`);
      if ((await col.delete({ ids: [`k${victim}`] })) === 1) out(`del ${victim}`);
    }
    if (n % 40 < 3) {
      out('ckpt?');
      await client.checkpoint();
      out('ckpt');
    }
    if (n % 97 < 3) {
      out('close?');
      await client.close();
      client = await Client.open(dir);
      col = await client.getCollection('crash');
      out('open');
    }
    if (n % 61 < 3) {
      out('save?');
      await standalone.saveAsync(standaloneFile(dir));
      out('saved');
    }
  }
}
