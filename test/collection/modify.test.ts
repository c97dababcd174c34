/**
 * Renaming a collection, replacing its metadata and counting collections:
 * all or nothing, persistent, and followed by the handles already open.
 */
import { describe, expect, it } from 'vitest';

import { Client } from '../../src/index.js';
import { expectRejects } from '../helpers/errors.js';
import { tempDir } from '../helpers/temp.js';

const rows = [
  [1, 0, 0],
  [0, 1, 0],
];

describe('Client.modifyCollection and Collection.modify', () => {
  it('renames a collection: the open handle follows, the old name is free, records stay', async () => {
    const client = new Client();
    const col = await client.createCollection('drafts', { metadata: { owner: 'a' } });
    await col.add({ ids: ['x', 'y'], embeddings: rows });
    await col.modify({ name: 'articles' });
    expect(col.name).toBe('articles');
    expect(col.metadata).toEqual({ owner: 'a' });
    expect(await client.getCollection('articles')).toBe(col);
    await expectRejects(client.getCollection('drafts'), 'ERR_NOT_FOUND');
    const [hits] = await col.query({ queryEmbeddings: [[1, 0, 0]], nResults: 1 });
    expect(hits!.map((h) => h.id)).toEqual(['x']);
    const again = await client.createCollection('drafts');
    expect(again).not.toBe(col);
    expect((await client.listCollections()).map((c) => c.name)).toEqual(['articles', 'drafts']);
  });

  it('replaces the metadata (not a merge); null removes it', async () => {
    const client = new Client();
    const col = await client.createCollection('docs', { metadata: { a: 1, b: 'two' } });
    await client.modifyCollection('docs', { metadata: { c: true } });
    expect(col.metadata).toEqual({ c: true });
    expect((await client.listCollections())[0]!.metadata).toEqual({ c: true });
    await col.modify({ metadata: null });
    expect(col.metadata).toBeNull();
  });

  it('refuses a taken name, a bad name, bad metadata and unknown options, changing nothing', async () => {
    const client = new Client();
    const a = await client.createCollection('alpha', { metadata: { k: 1 } });
    await client.createCollection('beta');
    await expectRejects(a.modify({ name: 'beta', metadata: { k: 2 } }), 'ERR_DUPLICATE_ID', /"beta" already exists/);
    await expectRejects(a.modify({ name: 'x' }), 'ERR_INVALID_ARGUMENT', /3-63 characters/);
    await expectRejects(a.modify({ metadata: { k: [1] } as never }), 'ERR_INVALID_ARGUMENT');
    await expectRejects(a.modify({ configuration: {} } as never), 'ERR_INVALID_ARGUMENT', /"configuration"/);
    await expectRejects(client.modifyCollection('gamma', { name: 'delta' }), 'ERR_NOT_FOUND');
    expect(a.name).toBe('alpha');
    expect(a.metadata).toEqual({ k: 1 });
  });

  it('keeps the metric: hnsw:space must agree, other hnsw:* keys are refused', async () => {
    const client = new Client();
    const col = await client.createCollection('l2s', { metadata: { 'hnsw:space': 'l2' } });
    expect(col.metric).toBe('l2');
    await expectRejects(col.modify({ metadata: { 'hnsw:space': 'cosine' } }), 'ERR_INVALID_ARGUMENT', /cannot change/);
    await expectRejects(col.modify({ metadata: { 'hnsw:M': 32 } }), 'ERR_INVALID_ARGUMENT', /HNSW/);
    await col.modify({ metadata: { 'hnsw:space': 'l2', note: 'ok' } });
    await col.modify({ metadata: { note: 'no space key' } });
    expect(col.metric).toBe('l2');
  });

  it('a deleted collection cannot be modified', async () => {
    const client = new Client();
    const col = await client.createCollection('gone');
    await client.deleteCollection('gone');
    await expectRejects(col.modify({ name: 'back' }), 'ERR_NOT_FOUND');
  });

  it('counts collections', async () => {
    const client = new Client();
    expect(await client.countCollections()).toBe(0);
    await client.createCollection('one');
    await client.createCollection('two');
    expect(await client.countCollections()).toBe(2);
    await client.deleteCollection('one');
    expect(await client.countCollections()).toBe(1);
  });

  it('a rename and new metadata persist, and the index snapshot still serves the renamed collection', async () => {
    const dir = tempDir('semvec-modify-');
    let client = await Client.open(dir);
    const col = await client.createCollection('before', { metric: 'l2' });
    await col.add({ ids: ['x', 'y'], embeddings: rows });
    await client.checkpoint();
    await col.modify({ name: 'after', metadata: { v: 2 } });
    await client.close();
    const warnings: string[] = [];
    client = await Client.open(dir, { onWarning: (w) => warnings.push(w.code) });
    const reopened = await client.getCollection('after');
    expect(reopened.metadata).toEqual({ v: 2 });
    expect(reopened.metric).toBe('l2');
    expect(await reopened.count()).toBe(2);
    const [hits] = await reopened.query({ queryEmbeddings: [[0, 1, 0]], nResults: 1 });
    expect(hits!.map((h) => h.id)).toEqual(['y']);
    expect(warnings).toEqual([]);
    expect(await client.countCollections()).toBe(1);
    await client.close();
  });
});
