/**
 * SQL over the collection tables (see database.ts). Every write runs in one
 * transaction and logs its puts and deletes in `changes`, so the native
 * index can be caught up from its last snapshot.
 */
import { ErrorCode, NotFoundError, SemvecError, ValidationError } from '../errors.js';
import type { Metric } from '../vector-index.js';
import type BetterSqlite3 from 'better-sqlite3';

import type { Db } from './database.js';
import type { Metadata } from './filter.js';

export interface StoredRow {
  rid: number;
  id: string;
  document: string | null;
  metadata: Metadata | null;
  embedding?: Float32Array;
}

export interface CollectionRow {
  cid: number;
  name: string;
  metric: Metric;
  dim: number | null;
  index_kind: 'flat' | 'ivf';
  metadata: string | null;
}

const PUT = 1;
const DELETE = 0;
const CHUNK = 500; // bound parameters per IN (...) query

type RawRow = { rid: number; id: string; document: string | null; metadata: string | null; embedding?: Buffer };

function blob(vectors: Float32Array, i: number, dim: number): Buffer {
  return Buffer.from(vectors.buffer, vectors.byteOffset + i * dim * 4, dim * 4);
}

function vectorOf(b: Buffer, dim: number | undefined): Float32Array {
  const v = new Float32Array(b.byteLength / 4);
  new Uint8Array(v.buffer).set(b);
  if (dim !== undefined && v.length !== dim) {
    throw new SemvecError(ErrorCode.CORRUPT_FILE, `a stored embedding has ${v.length} values; the collection's dim is ${dim}`);
  }
  return v;
}

function parseMetadata(text: string | null): Metadata | null {
  return text === null ? null : (JSON.parse(text) as Metadata);
}

function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export class CollectionStore {
  readonly db: Db;
  readonly #statements = new Map<string, BetterSqlite3.Statement>();

  constructor(db: Db) {
    this.db = db;
  }

  /** A prepared statement, prepared once per SQL text. */
  #sql(text: string): BetterSqlite3.Statement {
    let stmt = this.#statements.get(text);
    if (!stmt) {
      stmt = this.db.prepare(text);
      this.#statements.set(text, stmt);
    }
    return stmt;
  }

  // ---- collections ----

  collection(name: string): CollectionRow | undefined {
    return this.db.prepare('SELECT cid, name, metric, dim, index_kind, metadata FROM collections WHERE name = ?').get(name) as CollectionRow | undefined;
  }

  collections(): CollectionRow[] {
    return this.db.prepare('SELECT cid, name, metric, dim, index_kind, metadata FROM collections ORDER BY name').all() as CollectionRow[];
  }

  createCollection(name: string, metric: Metric, dim: number | undefined, index: string, metadata: Metadata | null): number {
    const r = this.db
      .prepare('INSERT INTO collections (name, metric, dim, index_kind, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(name, metric, dim ?? null, index, metadata === null ? null : JSON.stringify(metadata), new Date().toISOString());
    return Number(r.lastInsertRowid);
  }

  deleteCollection(cid: number): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM embeddings WHERE rid IN (SELECT rid FROM records WHERE cid = ?)').run(cid);
      this.db.prepare('DELETE FROM records WHERE cid = ?').run(cid);
      this.db.prepare('DELETE FROM changes WHERE cid = ?').run(cid);
      this.db.prepare('DELETE FROM snapshots WHERE cid = ?').run(cid);
      this.db.prepare('DELETE FROM collections WHERE cid = ?').run(cid);
    })();
  }

  #setDim(cid: number, dim: number): void {
    this.db.prepare('UPDATE collections SET dim = ? WHERE cid = ? AND dim IS NULL').run(dim, cid);
  }

  // ---- writes ----

  #log(cid: number, rid: number, op: number): void {
    this.#sql('INSERT INTO changes (cid, rid, op) VALUES (?, ?, ?)').run(cid, rid, op);
  }

  #putEmbedding(rid: number, embedding: Buffer): void {
    this.#sql('INSERT INTO embeddings (rid, embedding) VALUES (?, ?) ON CONFLICT (rid) DO UPDATE SET embedding = excluded.embedding').run(rid, embedding);
  }

  /** Inserts new records; ERR_DUPLICATE_ID (and nothing written) if an id exists. */
  insert(cid: number, dim: number, ids: readonly string[], documents: readonly (string | null | undefined)[] | undefined, metas: readonly (Metadata | null)[], vectors: Float32Array): number[] {
    const exists = this.#sql('SELECT 1 FROM records WHERE cid = ? AND id = ?').pluck();
    const insert = this.#sql('INSERT INTO records (cid, id, document, metadata) VALUES (?, ?, ?, ?)');
    return this.db.transaction(() => {
      ids.forEach((id) => {
        if (exists.get(cid, id) !== undefined) {
          throw new ValidationError(ErrorCode.DUPLICATE_ID, `id ${JSON.stringify(id)} is already in the collection; use upsert or update to change it`);
        }
      });
      this.#setDim(cid, dim);
      return ids.map((id, i) => {
        const m = metas[i];
        const rid = Number(insert.run(cid, id, documents?.[i] ?? null, m ? JSON.stringify(m) : null).lastInsertRowid);
        this.#putEmbedding(rid, blob(vectors, i, dim));
        this.#log(cid, rid, PUT);
        return rid;
      });
    })();
  }

  /** Inserts or replaces records (same rid for existing ids). */
  upsert(cid: number, dim: number, ids: readonly string[], documents: readonly (string | null | undefined)[] | undefined, metas: readonly (Metadata | null)[], vectors: Float32Array): number[] {
    const find = this.#sql('SELECT rid FROM records WHERE cid = ? AND id = ?').pluck();
    const insert = this.#sql('INSERT INTO records (cid, id, document, metadata) VALUES (?, ?, ?, ?)');
    const replace = this.#sql('UPDATE records SET document = ?, metadata = ? WHERE rid = ?');
    return this.db.transaction(() => {
      this.#setDim(cid, dim);
      return ids.map((id, i) => {
        const m = metas[i];
        const meta = m ? JSON.stringify(m) : null;
        const doc = documents?.[i] ?? null;
        const old = find.get(cid, id) as number | undefined;
        let rid: number;
        if (old === undefined) {
          rid = Number(insert.run(cid, id, doc, meta).lastInsertRowid);
        } else {
          replace.run(doc, meta, old);
          rid = old;
        }
        this.#putEmbedding(rid, blob(vectors, i, dim));
        this.#log(cid, rid, PUT);
        return rid;
      });
    })();
  }

  /** Updates existing records; ERR_NOT_FOUND (nothing written) if an id is missing. */
  update(
    cid: number,
    dim: number | undefined,
    ids: readonly string[],
    documents: readonly (string | null | undefined)[] | undefined,
    patches: readonly (Record<string, Metadata[string] | null> | undefined)[],
    vectors: Float32Array | undefined,
  ): { rids: number[]; metadatas: (Metadata | null)[] } {
    const find = this.#sql('SELECT rid, metadata FROM records WHERE cid = ? AND id = ?');
    return this.db.transaction(() => {
      const found = ids.map((id) => {
        const row = find.get(cid, id) as { rid: number; metadata: string | null } | undefined;
        if (!row) throw new NotFoundError(ErrorCode.NOT_FOUND, `id ${JSON.stringify(id)} is not in the collection; nothing was updated (use upsert to add it)`);
        return row;
      });
      if (vectors && dim !== undefined) this.#setDim(cid, dim);
      const metadatas = found.map((row, i) => {
        const merged: Record<string, unknown> = { ...(parseMetadata(row.metadata) ?? {}) };
        const patch = patches[i];
        if (patch) for (const [k, v] of Object.entries(patch)) v === null ? delete merged[k] : (merged[k] = v);
        const m = Object.keys(merged).length > 0 ? (merged as Metadata) : null;
        const sets: string[] = [];
        const params: unknown[] = [];
        if (patch) {
          sets.push('metadata = ?');
          params.push(m ? JSON.stringify(m) : null);
        }
        if (documents && documents[i] !== undefined) {
          sets.push('document = ?');
          params.push(documents[i]);
        }
        if (sets.length > 0) this.#sql(`UPDATE records SET ${sets.join(', ')} WHERE rid = ?`).run(...params, row.rid);
        if (vectors) {
          this.#putEmbedding(row.rid, blob(vectors, i, dim as number));
          this.#log(cid, row.rid, PUT);
        }
        return m;
      });
      return { rids: found.map((r) => r.rid), metadatas };
    })();
  }

  delete(cid: number, rids: readonly number[]): void {
    const del = this.#sql('DELETE FROM records WHERE rid = ? AND cid = ?');
    this.db.transaction(() => {
      for (const rid of rids) {
        del.run(rid, cid);
        this.#log(cid, rid, DELETE);
      }
    })();
  }

  // ---- reads ----

  count(cid: number): number {
    return this.#sql('SELECT count(*) FROM records WHERE cid = ?').pluck().get(cid) as number;
  }

  ridsOf(cid: number, ids: readonly string[]): (number | undefined)[] {
    const find = this.#sql('SELECT rid FROM records WHERE cid = ? AND id = ?').pluck();
    return ids.map((id) => find.get(cid, id) as number | undefined);
  }

  ridsWhere(cid: number, sql: string, params: readonly unknown[]): Float64Array {
    const rids = this.db.prepare(`SELECT rid FROM records WHERE cid = ? AND ${sql}`).pluck().all(cid, ...params) as number[];
    return Float64Array.from(rids);
  }

  forEachMetadata(cid: number, fn: (rid: number, m: Metadata | null) => void): void {
    for (const row of this.db.prepare('SELECT rid, metadata FROM records WHERE cid = ?').iterate(cid) as Iterable<{ rid: number; metadata: string | null }>) {
      fn(row.rid, parseMetadata(row.metadata));
    }
  }

  #row(r: RawRow, dim: number | undefined): StoredRow {
    const row: StoredRow = { rid: r.rid, id: r.id, document: r.document, metadata: parseMetadata(r.metadata) };
    if (r.embedding) row.embedding = vectorOf(r.embedding, dim);
    return row;
  }

  rows(rids: readonly number[], withEmbedding: boolean, dim: number | undefined): Map<number, StoredRow> {
    const cols = `r.rid AS rid, id, document, metadata${withEmbedding ? ', e.embedding AS embedding' : ''}`;
    const from = withEmbedding ? 'records r JOIN embeddings e ON e.rid = r.rid' : 'records r';
    const out = new Map<number, StoredRow>();
    for (const part of chunks(rids)) {
      const stmt = this.#sql(`SELECT ${cols} FROM ${from} WHERE r.rid IN (${part.map(() => '?').join(', ')})`);
      for (const r of stmt.all(...part) as RawRow[]) {
        out.set(r.rid, this.#row(r, dim));
      }
    }
    return out;
  }

  page(cid: number, limit: number, offset: number, withEmbedding: boolean, dim: number | undefined): StoredRow[] {
    const cols = `r.rid AS rid, id, document, metadata${withEmbedding ? ', e.embedding AS embedding' : ''}`;
    const from = withEmbedding ? 'records r JOIN embeddings e ON e.rid = r.rid' : 'records r';
    const rows = this.#sql(`SELECT ${cols} FROM ${from} WHERE cid = ? ORDER BY r.rid LIMIT ? OFFSET ?`)
      .all(cid, limit === Infinity ? -1 : limit, offset) as RawRow[];
    return rows.map((r) => this.#row(r, dim));
  }

  /** Every embedding of a collection, with its rid, in rid order. */
  allEmbeddings(cid: number, dim: number): { rids: number[]; vectors: Float32Array } {
    const n = this.count(cid);
    const vectors = new Float32Array(n * dim);
    const rids: number[] = [];
    const sql = 'SELECT e.rid AS rid, e.embedding AS embedding FROM records r JOIN embeddings e ON e.rid = r.rid WHERE r.cid = ? ORDER BY r.rid';
    for (const r of this.db.prepare(sql).iterate(cid) as Iterable<{ rid: number; embedding: Buffer }>) {
      if (r.embedding.byteLength !== dim * 4) {
        throw new SemvecError(ErrorCode.CORRUPT_FILE, `the stored embedding of record ${r.rid} has ${r.embedding.byteLength / 4} values; expected ${dim}`);
      }
      new Uint8Array(vectors.buffer, rids.length * dim * 4, dim * 4).set(r.embedding);
      rids.push(r.rid);
    }
    return { rids, vectors: vectors.subarray(0, rids.length * dim) };
  }

  /** Embeddings of the given rids that still exist. */
  embeddingsOf(rids: readonly number[], dim: number): { rids: number[]; vectors: Float32Array } {
    const found: number[] = [];
    const vectors = new Float32Array(rids.length * dim);
    for (const part of chunks(rids)) {
      const rows = this.#sql(`SELECT rid, embedding FROM embeddings WHERE rid IN (${part.map(() => '?').join(', ')})`).all(...part) as { rid: number; embedding: Buffer }[];
      for (const r of rows) {
        new Uint8Array(vectors.buffer, found.length * dim * 4, dim * 4).set(r.embedding);
        found.push(r.rid);
      }
    }
    return { rids: found, vectors: vectors.subarray(0, found.length * dim) };
  }

  // ---- change log and snapshots ----

  /** The sequence number of the latest change of any collection (never reused). */
  lastSeq(): number {
    const seq = this.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'changes'").pluck().get() as number | undefined;
    return seq ?? 0;
  }

  /** Changes logged for a collection since its last snapshot. */
  pendingChanges(cid: number): number {
    return this.db.prepare('SELECT count(*) FROM changes WHERE cid = ?').pluck().get(cid) as number;
  }

  /** The last operation on each rid changed after seq: rid -> put (true) or delete (false). */
  changesSince(cid: number, seq: number): Map<number, boolean> {
    const out = new Map<number, boolean>();
    for (const r of this.db.prepare('SELECT rid, op FROM changes WHERE cid = ? AND seq > ? ORDER BY seq').iterate(cid, seq) as Iterable<{ rid: number; op: number }>) {
      out.set(r.rid, r.op === PUT);
    }
    return out;
  }

  snapshot(cid: number): { seq: number; file: string } | undefined {
    return this.db.prepare('SELECT seq, file FROM snapshots WHERE cid = ?').get(cid) as { seq: number; file: string } | undefined;
  }

  /** Records that `file` holds the index as of seq, and drops the changes it covers. */
  recordSnapshot(cid: number, seq: number, file: string): void {
    this.db.transaction(() => {
      this.db.prepare('INSERT INTO snapshots (cid, seq, file) VALUES (?, ?, ?) ON CONFLICT (cid) DO UPDATE SET seq = excluded.seq, file = excluded.file').run(cid, seq, file);
      this.db.prepare('DELETE FROM changes WHERE cid = ? AND seq <= ?').run(cid, seq);
    })();
  }
}
