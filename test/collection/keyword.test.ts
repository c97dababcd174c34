import { join } from 'node:path';

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { Client, MAX_KEYWORD_TERMS, type Collection, type QueryMatch } from '../../src/index.js';
import { keywordQuery } from '../../src/collection/keyword-index.js';
import { fuse } from '../../src/collection/fusion.js';
import { mulberry32 } from '../../src/random.js';
import { expectRejects } from '../helpers/errors.js';
import { tempDir } from '../helpers/temp.js';

const DOCS: Record<string, string | null> = {
  a: 'The quick brown fox jumps over the lazy dog',
  b: 'Error E1234: disk quota exceeded in module storage',
  c: 'Café au lait and croissants for breakfast',
  d: 'Running shoes for the marathon runner',
  e: null,
  f: 'A lazy afternoon with a brown dog',
};
const IDS = Object.keys(DOCS);
const EMB = IDS.map((_, i) => [Math.cos(i), Math.sin(i)]);
const META = IDS.map((_, i) => ({ n: i, even: i % 2 === 0 }));

async function filled(client: Client, name = 'docs', tokenizer?: 'unicode61' | 'porter' | 'trigram'): Promise<Collection> {
  const col = await client.createCollection(name, { metric: 'cosine', tokenizer });
  await col.add({ ids: IDS, embeddings: EMB, documents: IDS.map((id) => DOCS[id]), metadatas: META });
  return col;
}

const idsOf = (ms: QueryMatch[] | undefined) => (ms ?? []).map((m) => m.id);
const keyword = async (col: Collection, text: string, extra: object = {}) => idsOf((await col.query({ mode: 'keyword', queryTexts: text, nResults: 10, ...extra }))[0]);

describe('keyword index', () => {
  it('keyword queries find documents by their words, case and diacritics folded, best BM25 first', async () => {
    const col = await filled(new Client());
    expect(await keyword(col, 'fox')).toEqual(['a']);
    expect(await keyword(col, 'CAFE')).toEqual(['c']);
    expect(await keyword(col, 'e1234')).toEqual(['b']);
    // 'lazy dog brown': a and f match all three words; a is longer, so f ranks first.
    expect(await keyword(col, 'lazy dog brown')).toEqual(['f', 'a']);
    const [m] = (await col.query({ mode: 'keyword', queryTexts: 'fox' }))[0]!;
    expect(m!.score).toBeGreaterThan(0);
    expect(m!.distance).toBe(-m!.score);
    expect(m!.scores).toEqual({ keyword: m!.score, keywordRank: 1 });
  });

  it('the keyword index follows add, upsert, update and delete, and survives reopening', async () => {
    const dir = tempDir();
    let client = await Client.open(dir);
    let col = await filled(client);
    await col.upsert({ ids: ['a', 'g'], embeddings: [[1, 0], [0, 1]], documents: ['a slow tortoise', 'another fox appears'] });
    await col.update({ ids: ['b'], documents: ['quota restored'], embeddings: [[1, 1]] });
    await col.update({ ids: ['d'], metadatas: [{ n: 40 }] }); // metadata only: document unchanged
    await col.delete({ ids: ['c'] });
    expect(await keyword(col, 'fox')).toEqual(['g']);
    expect(await keyword(col, 'tortoise')).toEqual(['a']);
    expect(await keyword(col, 'e1234')).toEqual([]);
    expect(await keyword(col, 'quota')).toEqual(['b']);
    expect(await keyword(col, 'marathon')).toEqual(['d']);
    expect(await keyword(col, 'croissants')).toEqual([]);
    await client.close();
    client = await Client.open(dir);
    col = await client.getCollection('docs');
    expect(await keyword(col, 'fox')).toEqual(['g']);
    expect(await keyword(col, 'quota')).toEqual(['b']);
    await client.close();
    const rw = new Database(join(dir, 'semvec.db'));
    rw.prepare("INSERT INTO fts_1 (fts_1, rank) VALUES ('integrity-check', 1)").run(); // throws SQLITE_CORRUPT_VTAB when out of step
    rw.close();
  });

  it('a write that fails leaves the keyword index as it was (same transaction)', async () => {
    const col = await filled(new Client());
    await expectRejects(col.add({ ids: ['z', 'a'], embeddings: [[1, 0], [0, 1]], documents: ['zebra crossing', 'zebra again'] }), 'ERR_DUPLICATE_ID');
    expect(await keyword(col, 'zebra')).toEqual([]);
    await expectRejects(col.update({ ids: ['a', 'missing'], documents: ['zebra', 'zebra'], embeddings: [[1, 0], [0, 1]] }), 'ERR_NOT_FOUND');
    expect(await keyword(col, 'zebra')).toEqual([]);
    expect(await keyword(col, 'fox')).toEqual(['a']);
  });

  it('a missing keyword index is rebuilt when the writing client opens the directory', async () => {
    const dir = tempDir();
    const client = await Client.open(dir);
    await filled(client);
    await client.close();
    const db = new Database(join(dir, 'semvec.db'));
    db.exec('DROP TRIGGER fts_1_update'); // a partial index is rebuilt whole
    db.exec('DROP TABLE fts_1');
    db.close();
    const again = await Client.open(dir);
    const col = await again.getCollection('docs');
    expect(await keyword(col, 'fox')).toEqual(['a']);
    await col.update({ ids: ['a'], documents: ['zebra'], embeddings: [[1, 0]] });
    expect(await keyword(col, 'fox')).toEqual([]);
    expect(await keyword(col, 'zebra')).toEqual(['a']);
    await again.close();
  });

  it('a database of schema 2 is migrated: its collections get a keyword index over their records', async () => {
    const dir = tempDir();
    const client = await Client.open(dir);
    await filled(client);
    await client.close();
    // Make it a schema-2 database: no tokenizer column, no keyword tables, no record counts, no IVF encoding.
    const db = new Database(join(dir, 'semvec.db'));
    for (const t of ['insert', 'delete', 'update']) db.exec(`DROP TRIGGER fts_1_${t}`);
    db.exec('DROP TABLE fts_1');
    db.exec('DROP TRIGGER records_counted_in');
    db.exec('DROP TRIGGER records_counted_out');
    db.exec('ALTER TABLE collections DROP COLUMN tokenizer');
    db.exec('ALTER TABLE collections DROP COLUMN records');
    db.exec('ALTER TABLE collections DROP COLUMN ivf_encoding');
    db.exec("UPDATE meta SET value = '2' WHERE key = 'schema_version'");
    db.close();
    await expectRejects(Client.open(dir, { readOnly: true }), 'ERR_UNSUPPORTED_VERSION');
    const again = await Client.open(dir);
    const col = await again.getCollection('docs');
    expect(col.tokenizer).toBe('unicode61');
    expect(await keyword(col, 'breakfast')).toEqual(['c']);
    expect(await col.count()).toBe((await col.get({ include: [] })).length); // counted by the migration
    await again.close();
    const check = new Database(join(dir, 'semvec.db'), { readonly: true });
    expect(check.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get()).toBe('3');
    check.close();
  });

  it('a read-only client queries the keyword index and sees the writer\'s commits', async () => {
    const dir = tempDir();
    const writer = await Client.open(dir);
    const col = await filled(writer);
    const reader = await Client.open(dir, { readOnly: true, refreshMs: 0 });
    const rcol = await reader.getCollection('docs');
    expect(await keyword(rcol, 'fox')).toEqual(['a']);
    await col.add({ ids: ['h'], embeddings: [[0.5, 0.5]], documents: ['fox den'] });
    await rcol.refresh({ atLeast: col.seq });
    expect((await keyword(rcol, 'fox')).sort()).toEqual(['a', 'h']);
    // The reader evaluates regex and case-insensitive document filters too.
    expect((await rcol.get({ whereDocument: { $regex: '^fox' } })).map((r) => r.id)).toEqual(['h']);
    expect((await rcol.get({ whereDocument: { $icontains: 'CAFÉ' } })).map((r) => r.id)).toEqual(['c']);
    await reader.close();
    await writer.close();
  });

  it('tokenizers: porter stems, trigram matches substrings; a bad one is refused', async () => {
    const client = new Client();
    const porter = await filled(client, 'stemmed', 'porter');
    expect(porter.tokenizer).toBe('porter');
    expect(await keyword(porter, 'runs')).toEqual(['d']);
    const plain = await filled(client, 'plain');
    expect(await keyword(plain, 'runs')).toEqual([]);
    const trigram = await filled(client, 'substrings', 'trigram');
    expect(await keyword(trigram, 'rror')).toEqual(['b']);
    expect(await keyword(trigram, 'afe')).toEqual(['c']); // diacritics removed: Café
    await expectRejects(client.createCollection('bad', { tokenizer: 'whitespace' as never }), 'ERR_INVALID_ARGUMENT', /tokenizer must be one of/);
    expect(await client.listCollections().then((l) => l.map((c) => c.name).sort())).toEqual(['plain', 'stemmed', 'substrings']);
  });

  it('deleting a collection drops its keyword table and triggers', async () => {
    const dir = tempDir();
    const client = await Client.open(dir);
    await filled(client, 'gone');
    await client.deleteCollection('gone');
    const col = await filled(client, 'kept');
    expect(await keyword(col, 'fox')).toEqual(['a']);
    await client.close();
    const db = new Database(join(dir, 'semvec.db'), { readonly: true });
    const names = db.prepare("SELECT name FROM sqlite_master WHERE name LIKE 'fts%' AND type IN ('table', 'trigger') ORDER BY name").pluck().all() as string[];
    db.close();
    expect(names.filter((n) => n.startsWith('fts_1'))).toEqual([]);
    expect(names.filter((n) => /^fts_2(_insert|_delete|_update)?$/.test(n)).sort()).toEqual(['fts_2', 'fts_2_delete', 'fts_2_insert', 'fts_2_update']);
  });
});

describe('keyword query parsing', () => {
  it('user text becomes quoted phrases joined by OR; control characters are dropped', () => {
    expect(keywordQuery('fox  "den" NOT\u0000x')).toBe('"fox" OR """den""" OR "NOT" OR "x"');
    expect(keywordQuery('  \n\t ')).toBeUndefined();
  });

  it('random user strings never raise an FTS5 syntax error, with any tokenizer', async () => {
    const client = new Client();
    const cols = [await filled(client, 'u61'), await filled(client, 'prt', 'porter'), await filled(client, 'tri', 'trigram')];
    const rand = mulberry32(19);
    const alphabet = ['"', "'", '*', '^', ':', '(', ')', '{', '}', '-', '+', 'NOT', 'AND', 'OR', 'NEAR', 'NEAR(', ' ', '\t', '\u0000', '\u0001', '\\', 'fox', 'é', '😀', '\ud800', 'ß', 'document:', 'rank', ',', '.', '[', ']', '~', '0', 'x'];
    for (let i = 0; i < 400; i++) {
      const len = 1 + Math.floor(rand() * 12);
      let text = '';
      for (let j = 0; j < len; j++) text += alphabet[Math.floor(rand() * alphabet.length)];
      for (const col of cols) {
        const results = await col.query({ mode: 'keyword', queryTexts: text });
        expect(results).toHaveLength(1);
      }
    }
  });

  it('more than MAX_KEYWORD_TERMS terms are refused', async () => {
    const col = await filled(new Client());
    const text = Array.from({ length: MAX_KEYWORD_TERMS + 1 }, (_, i) => `w${i}`).join(' ');
    await expectRejects(col.query({ mode: 'keyword', queryTexts: text }), 'ERR_INVALID_ARGUMENT', /at most 256 terms/);
    expect(await col.query({ mode: 'keyword', queryTexts: text.slice(0, text.lastIndexOf(' ')) })).toHaveLength(1);
  });
});

describe('query modes', () => {
  it('hybrid with reciprocal rank fusion: each match carries its ranks and scores on both sides', async () => {
    const col = await filled(new Client());
    const q = [Math.cos(5), Math.sin(5)]; // nearest: f (i = 5)
    const [ms] = await col.query({ mode: 'hybrid', queryTexts: 'lazy dog', queryEmbeddings: [q], nResults: 6, fusion: { method: 'rrf', k: 10 } });
    const [vec] = await col.query({ queryEmbeddings: [q], nResults: 50 });
    const [kw] = await col.query({ mode: 'keyword', queryTexts: 'lazy dog', nResults: 50 });
    for (const m of ms!) {
      const vr = idsOf(vec).indexOf(m.id) + 1;
      const kr = idsOf(kw).indexOf(m.id) + 1;
      const expected = (vr ? 1 / (10 + vr) : 0) + (kr ? 1 / (10 + kr) : 0);
      expect(m.score).toBeCloseTo(expected, 12);
      expect(m.scores!.fused).toBe(m.score);
      expect(m.scores!.vectorRank).toBe(vr || undefined);
      expect(m.scores!.keywordRank).toBe(kr || undefined);
    }
    expect(ms![0]!.id).toBe('f'); // first on both sides
    expect(ms!.map((m) => m.score)).toEqual([...ms!.map((m) => m.score)].sort((x, y) => y - x));
  });

  it('weighted fusion: alpha 1 is the vector ranking, alpha 0 the keyword one', async () => {
    const col = await filled(new Client());
    const q = [Math.cos(2), Math.sin(2)];
    const [vec] = await col.query({ queryEmbeddings: [q], nResults: 6 });
    const [byVec] = await col.query({ mode: 'hybrid', queryTexts: 'brown', queryEmbeddings: [q], nResults: 6, fusion: { method: 'weighted', alpha: 1 } });
    expect(idsOf(byVec)).toEqual(idsOf(vec));
    const [byKw] = await col.query({ mode: 'hybrid', queryTexts: 'brown', queryEmbeddings: [q], nResults: 2, fusion: { method: 'weighted', alpha: 0 } });
    expect(idsOf(byKw).sort()).toEqual(['a', 'f']);
  });

  it('fuse: ties broken by the lower id; min-max scaling per list', () => {
    const out = fuse({ ids: [3, 1], scores: [0.9, 0.1] }, { ids: [1, 2], scores: [5, 1] }, { method: 'weighted', alpha: 0.5 });
    expect(out.map((f) => [f.id, f.score])).toEqual([[1, 0.5], [3, 0.5], [2, 0]]);
  });

  it('keyword and hybrid honour where, whereDocument and ids before ranking', async () => {
    const col = await filled(new Client());
    // 'lazy dog': a (n 0, even) and f (n 5, odd)
    expect(await keyword(col, 'lazy dog', { where: { even: false } })).toEqual(['f']);
    expect(await keyword(col, 'lazy dog', { whereDocument: { $contains: 'fox' } })).toEqual(['a']);
    expect(await keyword(col, 'lazy dog', { ids: ['f', 'b'] })).toEqual(['f']);
    expect(await keyword(col, 'lazy dog', { where: { n: { $gt: 100 } } })).toEqual([]);
    const [h] = await col.query({ mode: 'hybrid', queryTexts: 'lazy dog', queryEmbeddings: [[1, 0]], nResults: 10, where: { even: true } });
    expect(h!.every((m) => (m.metadata as { even: boolean }).even)).toBe(true);
    expect(idsOf(h).sort()).toEqual(['a', 'c', 'e']); // every even record: a by both sides, c and e by the vector side
  });

  it('hybrid uses the collection embedder when no queryEmbeddings are given; keyword needs none', async () => {
    const col = await filled(new Client());
    await expectRejects(col.query({ mode: 'hybrid', queryTexts: 'fox' }), 'ERR_INVALID_ARGUMENT', /needs vectors/);
    expect(await keyword(col, 'fox')).toEqual(['a']);
  });

  it('bad mode, fusion and candidates options are refused with ERR_INVALID_ARGUMENT', async () => {
    const col = await filled(new Client());
    const bad = async (options: object, message: RegExp) => expectRejects(col.query({ queryTexts: 'fox', ...options } as never), 'ERR_INVALID_ARGUMENT', message);
    await bad({ mode: 'bm25' }, /mode must be one of 'vector', 'keyword', 'hybrid'/);
    await bad({ mode: 'keyword', fusion: { method: 'rrf' } }, /fusion applies to mode 'hybrid'/);
    await bad({ mode: 'keyword', candidates: 5 }, /candidates applies to mode 'hybrid'/);
    await bad({ mode: 'keyword', queryEmbeddings: [[1, 0]] }, /remove queryEmbeddings/);
    await bad({ mode: 'keyword', queryTexts: [] }, /queryTexts must be a string or a non-empty array/);
    await bad({ mode: 'keyword', queryTexts: [3] }, /queryTexts must be a string or a non-empty array/);
    await bad({ mode: 'keyword', queryTexts: undefined }, /needs queryTexts/);
    const hybrid = { mode: 'hybrid', queryEmbeddings: [[1, 0]] };
    await bad({ ...hybrid, fusion: { method: 'max' } }, /fusion.method must be 'rrf' or 'weighted'/);
    await bad({ ...hybrid, fusion: { method: 'rrf', k: -1 } }, /fusion.k must be a finite number >= 0/);
    await bad({ ...hybrid, fusion: { method: 'weighted', alpha: 2 } }, /fusion.alpha must be a number in \[0, 1\]/);
    await bad({ ...hybrid, fusion: { method: 'rrf', alpha: 0.5 } }, /unknown key "alpha"/);
    await bad({ ...hybrid, fusion: 'rrf' }, /fusion must be an object/);
    await bad({ ...hybrid, candidates: 0 }, /candidates/);
    await bad({ ...hybrid, queryEmbeddings: [[1, 0], [0, 1]] }, /2 vectors for 1 queryTexts/);
  });
});
