/**
 * One writer, many readers: read-only clients open a directory beside its
 * writing client (in this process or others), refuse writes, and catch up
 * with the writer's commits: on a timer, on refresh(), and to a sequence
 * number the writer handed over (read-your-writes across processes).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { Client } from '../../src/index.js';
import { expectRejects } from '../helpers/errors.js';
import { tempDir } from '../helpers/temp.js';

const vec = (i: number) => [Math.cos(i), Math.sin(i), (i % 7) / 7];
const records = (from: number, n: number) => ({
  ids: Array.from({ length: n }, (_, i) => `r${from + i}`),
  embeddings: Array.from({ length: n }, (_, i) => vec(from + i)),
  metadatas: Array.from({ length: n }, (_, i) => ({ n: from + i, even: (from + i) % 2 === 0 })),
});

async function nearest(col: Awaited<ReturnType<Client['getCollection']>>, i: number): Promise<string | undefined> {
  const [hits] = await col.query({ queryEmbeddings: [vec(i)], nResults: 1, include: [] });
  return hits?.[0]?.id;
}

describe('read-only clients', () => {
  it('open beside the writer, refuse writes, and catch up on refresh()', async () => {
    const dir = tempDir();
    const writer = await Client.open(dir);
    const wcol = await writer.createCollection('docs', { metric: 'l2' });
    await wcol.add(records(0, 20));

    const reader = await Client.open(dir, { readOnly: true, refreshMs: 0 });
    expect(reader.readOnly).toBe(true);
    const rcol = await reader.getCollection('docs');
    expect(rcol.seq).toBe(wcol.seq);
    expect(await rcol.count()).toBe(20);

    await expectRejects(rcol.add(records(100, 1)), 'ERR_READ_ONLY');
    await expectRejects(rcol.delete({ ids: ['r1'] }), 'ERR_READ_ONLY');
    await expectRejects(reader.createCollection('other'), 'ERR_READ_ONLY');
    await expectRejects(reader.deleteCollection('docs'), 'ERR_READ_ONLY');

    // The writer adds, updates metadata and deletes; the reader sees none of it until it catches up.
    await wcol.add(records(20, 10));
    await wcol.update({ ids: ['r3'], metadatas: [{ even: true }] });
    await wcol.delete({ ids: ['r5'] });
    expect(await nearest(rcol, 25)).not.toBe('r25');
    expect(await rcol.refresh()).toBe(wcol.seq);
    expect(await nearest(rcol, 25)).toBe('r25');
    expect(await nearest(rcol, 5)).not.toBe('r5');
    expect(await rcol.count()).toBe(29);
    const evens = await rcol.get({ where: { even: true }, include: [] });
    expect(evens.map((r) => r.id)).toContain('r3');
    expect(evens.length).toBe(16); // 0, 2, ..., 28 (r5 was odd) and r3

    await reader.close();
    await writer.close();
  });

  it('catch up across checkpoints that drop old changes (the reader reloads the newer snapshot)', async () => {
    const dir = tempDir();
    const writer = await Client.open(dir);
    const wcol = await writer.createCollection('docs', { metric: 'l2' });
    await wcol.add(records(0, 10));
    await writer.checkpoint();
    const reader = await Client.open(dir, { readOnly: true, refreshMs: 0 });
    const rcol = await reader.getCollection('docs');
    // Two checkpoints: the changes since the reader's state are dropped by the second.
    await wcol.add(records(10, 10));
    await writer.checkpoint();
    await wcol.delete({ ids: ['r0'] });
    await wcol.add(records(20, 10));
    await writer.checkpoint();
    await rcol.refresh();
    expect(rcol.seq).toBe(wcol.seq);
    expect(await rcol.count()).toBe(29);
    for (const i of [1, 15, 29]) expect(await nearest(rcol, i)).toBe(`r${i}`);
    expect(await nearest(rcol, 0)).not.toBe('r0');
    await reader.close();
    await writer.close();
  });

  it('reads catch up on their own after refreshMs; a deleted collection is ERR_NOT_FOUND', async () => {
    const dir = tempDir();
    const writer = await Client.open(dir);
    const wcol = await writer.createCollection('docs', { metric: 'l2' });
    await wcol.add(records(0, 5));
    const reader = await Client.open(dir, { readOnly: true, refreshMs: 1 });
    const rcol = await reader.getCollection('docs');
    await wcol.add(records(5, 5));
    await new Promise((r) => setTimeout(r, 5));
    expect(await rcol.count()).toBe(10);
    await writer.deleteCollection('docs');
    await new Promise((r) => setTimeout(r, 5));
    await expectRejects(rcol.query({ queryEmbeddings: [vec(1)] }), 'ERR_NOT_FOUND', /was deleted/);
    await reader.close();
    await writer.close();
  });

  it('a second writer waits with lockTimeoutMs; a reader needs an existing directory', async () => {
    const dir = tempDir();
    const first = await Client.open(dir);
    await expectRejects(Client.open(dir), 'ERR_LOCKED', /readOnly/);
    const waiting = Client.open(dir, { lockTimeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 20));
    await first.close();
    const second = await waiting;
    await second.close();
    await expectRejects(Client.open(tempDir(), { readOnly: true }), 'ERR_NOT_FOUND', /not a semvec collection directory/);
    await expectRejects(Client.open(dir, { readOnly: 'yes' as never }), 'ERR_INVALID_ARGUMENT');
  });

  it('read your writes across processes: a reader process waits for the sequence number the writer returned', async () => {
    const dir = tempDir();
    const writer = await Client.open(dir);
    const wcol = await writer.createCollection('docs', { metric: 'l2' });
    await wcol.add(records(0, 3));
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../helpers/reader-child.ts', import.meta.url)), dir], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let buf = '';
    let err = '';
    const next = () =>
      new Promise<string>((resolve, reject) => {
        const poll = setInterval(() => {
          if (lines.length > 0) {
            clearInterval(poll);
            resolve(lines.shift() as string);
          }
        }, 5);
        child.once('exit', (code) => {
          clearInterval(poll);
          reject(new Error(`reader exited (${code}): ${err}`));
        });
      });
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        lines.push(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    expect(await next()).toBe('ready');
    for (let round = 0; round < 3; round++) {
      const from = 3 + round * 4;
      await wcol.add(records(from, 4));
      child.stdin.write(`${wcol.seq} r${from + 3}\n`);
      expect(await next()).toBe(`seen r${from + 3} at ${wcol.seq}`);
    }
    child.stdin.end();
    await new Promise((r) => child.once('exit', r));
    await writer.close();
  });
});
