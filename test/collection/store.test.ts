/**
 * The store on its own (in memory, writes run inline): write programs commit
 * whole or not at all, failures map to typed errors, the change log records
 * every change, and scans read everything in chunks.
 */
import { describe, expect, it } from 'vitest';

import { openDatabase } from '../../src/collection/database.js';
import { CollectionStore, Op, SCAN_ROWS } from '../../src/collection/store.js';
import { runProgram } from '../../src/collection/sql-runner.js';
import { InlineWriter } from '../../src/collection/writer.js';
import { expectRejects } from '../helpers/errors.js';

function store(): CollectionStore {
  const db = openDatabase(':memory:');
  return new CollectionStore(db, new InlineWriter(db), ':memory:');
}

const vectors = (n: number, dim: number) => Float32Array.from({ length: n * dim }, (_, i) => i);

describe('write programs: a step naming a value an earlier step returned', () => {
  it('{{value}} becomes that integer; a value that is not one fails the program, which then changes nothing', () => {
    const db = openDatabase(':memory:');
    const cache = new Map();
    const made = runProgram(db, cache, [
      { sql: 'SELECT 7', count: 1, params: [], returning: true },
      { sql: 'CREATE TABLE t_{{value}} (x)', count: 1, params: [], from: 0 },
    ]);
    expect(made.ok).toBe(true);
    expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 't_7'").pluck().get()).toBe(1);
    const refused = runProgram(db, cache, [
      { sql: 'CREATE TABLE u (x)', count: 1, params: [] },
      { sql: "SELECT 'x; DROP TABLE t_7'", count: 1, params: [], returning: true },
      { sql: 'CREATE TABLE v_{{value}} (x)', count: 1, params: [], from: 1 },
    ]);
    expect(refused).toMatchObject({ ok: false, failure: { step: 2, message: expect.stringMatching(/did not return as an integer/) } });
    expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE name IN ('u', 't_7')").pluck().get()).toBe(1); // u rolled back, t_7 kept
    db.close();
  });
});

describe('collection store', () => {
  it('inserts records with their embeddings and logs a put per record', async () => {
    const s = store();
    const cid = await s.createCollection('docs', 'l2', undefined, 'flat', null, null);
    const { rids, seq } = await s.put(false, cid, 'docs', 2, ['a', 'b'], ['doc a', null], [{ k: 1 }, null], vectors(2, 2));
    expect(rids).toHaveLength(2);
    expect(seq).toBe(s.lastSeq());
    expect(s.count(cid)).toBe(2);
    expect(s.collectionById(cid)!.dim).toBe(2);
    const rows = s.rows(rids, true, 2);
    expect(rows.get(rids[0]!)).toMatchObject({ id: 'a', document: 'doc a', metadata: { k: 1 } });
    expect(Array.from(rows.get(rids[1]!)!.embedding!)).toEqual([2, 3]);
    expect(s.pendingChanges(cid)).toBe(2);
    expect([...(await s.changesBetween(cid, 0, s.lastSeq()))]).toEqual([[rids[0], Op.PUT], [rids[1], Op.PUT]]);
  });

  it('a failed program changes nothing: a duplicate id rolls back the whole insert', async () => {
    const s = store();
    const cid = await s.createCollection('docs', 'l2', undefined, 'flat', null, null);
    await s.put(false, cid, 'docs', 2, ['a'], undefined, [null], vectors(1, 2));
    await expectRejects(s.put(false, cid, 'docs', 2, ['b', 'a'], undefined, [null, null], vectors(2, 2)), 'ERR_DUPLICATE_ID', /"a"/);
    expect(s.count(cid)).toBe(1);
    expect(s.ridsOf(cid, ['b'])).toEqual([undefined]);
    expect(s.pendingChanges(cid)).toBe(1);
  });

  it('guards: a wrong dimension and a deleted collection are typed errors', async () => {
    const s = store();
    const cid = await s.createCollection('docs', 'l2', undefined, 'flat', null, null);
    await s.put(false, cid, 'docs', 2, ['a'], undefined, [null], vectors(1, 2));
    await expectRejects(s.put(true, cid, 'docs', 3, ['b'], undefined, [null], vectors(1, 3)), 'ERR_DIMENSION_MISMATCH');
    await s.deleteCollection(cid);
    await expectRejects(s.put(false, cid, 'docs', 2, ['c'], undefined, [null], vectors(1, 2)), 'ERR_NOT_FOUND', /was deleted/);
    const again = await s.createCollection('docs', 'l2', undefined, 'flat', null, null);
    expect(again).not.toBe(cid); // collection ids are never reused
  });

  it('update merges metadata patches (null removes a key) and logs metadata-only changes apart', async () => {
    const s = store();
    const cid = await s.createCollection('docs', 'l2', undefined, 'flat', null, null);
    const {
      rids: [rid],
    } = await s.put(false, cid, 'docs', 2, ['a'], ['old'], [{ x: 1, y: 2 }], vectors(1, 2));
    const seq = s.lastSeq();
    const { metadatas } = await s.update(cid, 'docs', 2, ['a'], [undefined], [{ y: null, z: 'new' }], undefined);
    expect(metadatas).toEqual([{ x: 1, z: 'new' }]);
    expect(s.rows([rid!], false, 2).get(rid!)!.document).toBe('old');
    expect(s.lastSeq()).toBe(seq + 1);
    // A metadata-only change is logged apart from vector changes.
    expect([...(await s.changesBetween(cid, seq, s.lastSeq()))]).toEqual([[rid, Op.META]]);
    await expectRejects(s.update(cid, 'docs', 2, ['a', 'missing'], undefined, [undefined, undefined], undefined), 'ERR_NOT_FOUND', /"missing"/);
    expect(Op.META).not.toBe(Op.PUT);
  });

  it('delete logs deletes and returns how many records it removed', async () => {
    const s = store();
    const cid = await s.createCollection('docs', 'l2', undefined, 'flat', null, null);
    const { rids } = await s.put(false, cid, 'docs', 2, ['a', 'b', 'c'], undefined, [null, null, null], vectors(3, 2));
    const seq = s.lastSeq();
    expect((await s.delete(cid, 'docs', [rids[0]!, rids[2]!, 999])).deleted).toBe(2);
    expect([...(await s.changesBetween(cid, seq, s.lastSeq()))]).toEqual([[rids[0], Op.DELETE], [rids[2], Op.DELETE]]);
    expect(s.count(cid)).toBe(1);
  });

  it('scans read every row in chunks; damaged embeddings are reported, not fatal', async () => {
    const s = store();
    const cid = await s.createCollection('docs', 'l2', undefined, 'flat', null, null);
    const n = SCAN_ROWS * 2 + 7;
    const ids = Array.from({ length: n }, (_, i) => `r${i}`);
    const { rids } = await s.put(false, cid, 'docs', 2, ids, undefined, ids.map((_, i) => ({ i })), vectors(n, 2));
    let seen = 0;
    await s.forEachMetadata(cid, () => void seen++);
    expect(seen).toBe(n);
    expect((await s.page(cid, Infinity, 5, false, 2)).length).toBe(n - 5);
    s.db.pragma('query_only = OFF');
    s.db.prepare('UPDATE embeddings SET embedding = ? WHERE rid = ?').run(Buffer.from(new Float32Array([NaN, 1]).buffer), rids[3]);
    const scan = await s.embeddings(cid, 2);
    expect(scan.rids.length).toBe(n - 1);
    expect(scan.skipped).toEqual([{ rid: rids[3], reason: expect.stringMatching(/NaN/) }]);
    expect(Array.from(scan.vectors.subarray(0, 4))).toEqual([0, 1, 2, 3]);
  });
});
