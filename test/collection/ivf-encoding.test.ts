import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { Client, IVF_MIN_RECORDS } from '../../src/index.js';
import { randomVectors } from '../helpers/data.js';
import { codeOf } from '../helpers/errors.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'semvec-col-enc-'));
  dirs.push(d);
  return d;
}

async function rejectsCode(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(codeOf(() => {
    throw err;
  })).toBe(code);
  expect((err as Error).message).toMatch(message);
}

describe("collections with index: 'ivf' and an encoding", () => {
  it('move to an rq4 IVF index, keep filtered queries exact to the filter, and snapshot it as format 4.0', async () => {
    const dim = 8;
    const n = IVF_MIN_RECORDS;
    const vectors = randomVectors(n, dim, 5);
    const dir = tempDir();
    const client = await Client.open(dir);
    const col = await client.createCollection('rq4-docs', { metric: 'l2', index: 'ivf', encoding: 'rq4' });
    const batch = 10_000;
    for (let s = 0; s < n; s += batch) {
      const ids = Array.from({ length: batch }, (_, i) => `r${s + i}`);
      const embeddings = Array.from({ length: batch }, (_, i) => Array.from(vectors.subarray((s + i) * dim, (s + i + 1) * dim)));
      const metadatas = ids.map((_, i) => ({ odd: (s + i) % 2 }));
      await col.add({ ids, embeddings, metadatas });
    }
    const q = Array.from(vectors.subarray(3 * dim, 4 * dim));
    const [all] = await col.query({ queryEmbeddings: [q], nResults: 5 });
    expect(all![0]!.id).toBe('r3');
    const [odd] = await col.query({ queryEmbeddings: [q], nResults: 5, where: { odd: 1 } });
    expect(odd!.length).toBe(5);
    for (const hit of odd!) expect(Number(hit.id.slice(1)) % 2).toBe(1);
    const [even] = await col.query({ queryEmbeddings: [q], nResults: 5, where: { odd: 0 } });
    for (const hit of even!) expect(Number(hit.id.slice(1)) % 2).toBe(0);
    await client.close();

    const files = readdirSync(join(dir, 'indexes')).filter((f) => f.endsWith('.svx'));
    expect(files.length).toBe(1);
    expect(readFileSync(join(dir, 'indexes', files[0]!)).readUInt16LE(8)).toBe(4);

    const again = await Client.open(dir);
    const [reopened] = await (await again.getCollection('rq4-docs')).query({ queryEmbeddings: [q], nResults: 5 });
    expect(reopened!.map((h) => h.id)).toEqual(all!.map((h) => h.id));
    await again.close();
  }, 120_000);

  it('refuses an encoding without index: ivf, and unknown encodings, with ERR_INVALID_ARGUMENT', async () => {
    const client = new Client();
    await rejectsCode(client.createCollection('flat-docs', { encoding: 'rq4' }), 'ERR_INVALID_ARGUMENT', /encoding applies to index: 'ivf'/);
    await rejectsCode(client.createCollection('ivf-docs', { index: 'ivf', encoding: 'pq' as never }), 'ERR_INVALID_ARGUMENT', /encoding must be one of/);
    expect((await client.listCollections()).length).toBe(0);
    await client.close();
  });
});
