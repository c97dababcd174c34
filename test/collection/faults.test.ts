/**
 * Faults of the file system under a collection directory: a full disk
 * during a checkpoint and a read-only file system are typed errors, and
 * nothing acknowledged is lost. They run on a small tmpfs mounted for the
 * test (root only: skipped, saying so, where mounting is not allowed).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { Client } from '../../src/index.js';
import { randomVectors } from '../helpers/data.js';
import { expectRejects } from '../helpers/errors.js';
import { tempDir } from '../helpers/temp.js';

const mountPoint = tempDir('semvec-tmpfs-');
const mounted = (() => {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mountPoint], { stdio: 'ignore' });
    return true;
  } catch {
    console.log('faults.test.ts: skipped: mounting a tmpfs is not allowed here (it needs root)');
    return false;
  }
})();
afterAll(() => {
  if (mounted) execFileSync('umount', ['-l', mountPoint]);
});

const dim = 128;
const n = 2000;
const flat = randomVectors(n, dim, 7);
const embeddings = Array.from({ length: n }, (_, i) => Array.from(flat.subarray(i * dim, (i + 1) * dim)));
const ids = embeddings.map((_, i) => `r${i}`);
const freeBytes = () => {
  const s = statfsSync(mountPoint);
  return s.bavail * s.bsize;
};

describe.runIf(mounted)('file system faults', () => {
  it('a full disk during a checkpoint is ERR_IO naming the file; records stay, no partial file is left, and a later checkpoint succeeds', async () => {
    const dir = join(mountPoint, 'full');
    const client = await Client.open(dir);
    const col = await client.createCollection('docs', { metric: 'l2' });
    await col.add({ ids, embeddings });
    const filler = join(mountPoint, 'filler');
    writeFileSync(filler, Buffer.alloc(Math.max(0, freeBytes() - 64 * 1024)));
    await expectRejects(client.checkpoint(), 'ERR_IO', /cannot write index file .*No space left on device/);
    expect(readdirSync(join(dir, 'indexes'))).toEqual([]);
    expect(await col.count()).toBe(n);
    const [hits] = await col.query({ queryEmbeddings: [embeddings[5] as number[]], nResults: 1, include: [] });
    expect(hits?.[0]?.id).toBe('r5');
    rmSync(filler);
    await client.close(); // checkpoints, now with room
    expect(readdirSync(join(dir, 'indexes'))).toHaveLength(1);
    const again = await Client.open(dir);
    expect(await (await again.getCollection('docs')).count()).toBe(n);
    await again.close();
    rmSync(dir, { recursive: true });
  });

  it('a read-only file system: a writer gets ERR_IO, a reader ERR_IO saying what it needs', async () => {
    const dir = join(mountPoint, 'ro');
    mkdirSync(dir);
    const client = await Client.open(dir);
    await (await client.createCollection('docs')).add({ ids: ['a'], embeddings: [[1, 0]] });
    await client.close();
    execFileSync('mount', ['-o', 'remount,ro', mountPoint]);
    try {
      await expectRejects(Client.open(dir), 'ERR_IO', /read-only file system/i);
      await expectRejects(Client.open(dir, { readOnly: true }), 'ERR_IO', /read-only file system, and a reader needs to create SQLite's shared-memory file/);
    } finally {
      execFileSync('mount', ['-o', 'remount,rw', mountPoint]);
    }
  });
});
