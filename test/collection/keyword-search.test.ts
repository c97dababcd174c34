import { join } from 'node:path';

import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Client, type Collection, type Where } from '../../src/index.js';
import { keywordPhrases } from '../../src/collection/keyword-index.js';
import { FILTER_IN_SQL } from '../../src/collection/keyword-search.js';
import { mulberry32 } from '../../src/random.js';
import { tempDir } from '../helpers/temp.js';

// A collection large enough that a filter of 90% of it is ranked by the
// bound-pruned path (more than FILTER_IN_SQL records) and one of 1% by the
// rowid-list path, with words of very different frequencies.
const N = Math.ceil(FILTER_IN_SQL / 0.9) + 500;
const GROUPS = 100;
const VOCAB = Array.from({ length: 400 }, (_, i) => `w${i}`);

/** A word drawn with probability falling with its index (Zipf-like), so w0 is in most documents and w399 in few. */
function word(rand: () => number): string {
  return VOCAB[Math.min(VOCAB.length - 1, Math.floor(Math.exp(rand() * Math.log(VOCAB.length + 1)) - 1))] as string;
}

function documentOf(rand: () => number): string {
  const n = 3 + Math.floor(rand() * 20);
  return Array.from({ length: n }, () => word(rand)).join(' ');
}

let dir: string;
let client: Client;
let col: Collection;
let db: Database.Database;
const groupOf = new Map<string, number>();

/** Every match of the whole index, best BM25 first (ties: lower rowid), as [id, score]: the reference ranking. */
function reference(text: string): [string, number][] {
  const match = (keywordPhrases(text) as string[]).join(' OR ');
  const rows = db.prepare('SELECT r.id AS id, -bm25(fts_1) AS s FROM fts_1 JOIN records r ON r.rid = fts_1.rowid WHERE fts_1 MATCH ? ORDER BY bm25(fts_1), fts_1.rowid').raw(true).all(match) as [string, number][];
  return rows;
}

async function keyword(text: string, nResults: number, where?: Where): Promise<[string, number][]> {
  const [ms] = await col.query({ mode: 'keyword', queryTexts: text, nResults, include: [], ...(where ? { where } : {}) });
  return ms!.map((m) => [m.id, m.score]);
}

beforeAll(async () => {
  dir = tempDir();
  client = await Client.open(dir);
  col = await client.createCollection('words', { metric: 'cosine' });
  const rand = mulberry32(11);
  for (let i = 0; i < N; i += 5000) {
    const n = Math.min(5000, N - i);
    const ids = Array.from({ length: n }, (_, j) => `d${i + j}`);
    ids.forEach((id, j) => groupOf.set(id, (i + j) % GROUPS));
    await col.add({
      ids,
      documents: ids.map(() => documentOf(rand)),
      embeddings: ids.map((_, j) => [Math.cos(i + j), Math.sin(i + j)]),
      metadatas: ids.map((id) => ({ g: groupOf.get(id) as number })),
    });
  }
  db = new Database(join(dir, 'semvec.db'), { readonly: true });
}, 120_000);

afterAll(async () => {
  db?.close();
  await client?.close();
});

const QUERIES = (() => {
  const rand = mulberry32(5);
  return Array.from({ length: 12 }, (_, i) => Array.from({ length: 2 + (i % 6) }, () => word(rand)).join(' ')).concat(['w0 w1 w2 w398', 'w0 w0 w3', 'w399 nothing-matches-this', 'w1']);
})();

describe('keyword search ranks with the filter applied before ranking', () => {
  it('the top k under a selective where equals the top k of the full ranking restricted to the allowed records', async () => {
    let deepAllowed = 0;
    for (const text of QUERIES) {
      const all = reference(text);
      const allowed = all.filter(([id]) => groupOf.get(id) === 7);
      expect(await keyword(text, 10, { g: 7 })).toEqual(allowed.slice(0, 10));
      // The allowed records found lie deep in the full ranking: a filter applied to a truncated ranking would miss them.
      const tenth = allowed[Math.min(9, allowed.length - 1)];
      if (tenth && all.findIndex(([id]) => id === tenth[0]) >= 500) deepAllowed++;
    }
    expect(deepAllowed).toBeGreaterThan(QUERIES.length / 2);
  });

  it('a filter admitting most records (pruned by score bounds) gives the top k of the full ranking restricted to them', async () => {
    for (const text of QUERIES) {
      const allowed = reference(text).filter(([id]) => (groupOf.get(id) as number) < 90);
      for (const k of [1, 10, 60]) expect(await keyword(text, k, { g: { $lt: 90 } })).toEqual(allowed.slice(0, k));
    }
  });

  it('without a filter the pruned ranking equals the full one, scores and ties included', async () => {
    for (const text of QUERIES) {
      const all = reference(text);
      for (const k of [1, 10, 100]) expect(await keyword(text, k)).toEqual(all.slice(0, k));
    }
  });
});
