/**
 * SQL over the collection tables (see database.ts). Writes are programs run
 * by the client's writer (writer.ts) in one transaction each, logging every
 * change to a record in `changes` so the native index can be caught up from
 * its last snapshot. Reads run on the main connection: point lookups at
 * once, large scans in chunks that yield to the event loop between them.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';

import { createError, ErrorCode } from '../errors.js';
import type { IVFEncoding } from '../native.js';
import type { Metric } from '../vector-index.js';
import type BetterSqlite3 from 'better-sqlite3';

import type { Db } from './database.js';
import { createStatements, dropStatements, keywordTable, type Tokenizer } from './keyword-index.js';
import { searchKeywords } from './keyword-search.js';
import type { Matching } from './matching.js';
import type { Metadata } from './metadata.js';
import { ProgramFailure, type Param, type ProgramResults, type SqlWriter, type Step } from './writer.js';

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
  index_kind: 'flat' | 'ivf' | 'graph';
  metadata: string | null;
  embedder: string | null;
  tokenizer: Tokenizer;
  /** 'ivf' collections: the list encoding (null: 'f32'). */
  ivf_encoding: IVFEncoding | null;
}

export interface SnapshotRow {
  seq: number;
  file: string;
  bytes: number | null;
  crc: number | null;
  /** Changes up to this sequence number have been dropped. */
  pruned_seq: number;
}

/** Change log operations. */
export const Op = { DELETE: 0, PUT: 1, META: 2 } as const;

const CHUNK = 500; // bound parameters per IN (...) query
/** Rows per chunk of a scan: a few milliseconds of work between yields. */
export const SCAN_ROWS = 2000;

type RawRow = { rid: number; id: string; document: string | null; metadata: string | null; embedding?: Buffer };

const COLLECTION_COLUMNS = 'cid, name, metric, dim, index_kind, metadata, embedder, tokenizer, ivf_encoding';

/** A statement run once with these values. */
function once(sql: string, values: readonly unknown[], extra: Partial<Step> = {}): Step {
  return { sql, count: 1, params: values.map((value) => ({ v: value })), ...extra };
}
/** The same value in every run. */
const val = (value: unknown): Param => ({ v: value });
/** One value per run. */
const col = (values: readonly unknown[]): Param => ({ c: values });

function vectorOf(b: Buffer, dim: number | undefined): Float32Array {
  const v = new Float32Array(b.byteLength / 4);
  new Uint8Array(v.buffer).set(b);
  if (dim !== undefined && v.length !== dim) {
    throw createError(ErrorCode.CORRUPT_FILE, `a stored embedding has ${v.length} values; the collection's dim is ${dim}`);
  }
  return v;
}

function docColumn(ids: readonly string[], documents: readonly (string | null | undefined)[] | undefined): (string | null)[] {
  return ids.map((_, i) => documents?.[i] ?? null);
}

function metadataColumn(metas: readonly (Metadata | null)[]): (string | null)[] {
  return metas.map((m) => (m ? JSON.stringify(m) : null));
}

export function parseMetadata(text: string | null): Metadata | null {
  return text === null ? null : (JSON.parse(text) as Metadata);
}

function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** True when every value of v is finite (a NaN or an infinity has every exponent bit set). */
function allFinite(bits: Uint32Array): boolean {
  for (let i = 0; i < bits.length; i++) if ((bits[i]! & 0x7f800000) === 0x7f800000) return false;
  return true;
}

/** Embeddings read for an index, and the records whose stored embedding cannot be used. */
export interface EmbeddingScan {
  rids: number[];
  vectors: Float32Array;
  /** rid and reason of each record left out. */
  skipped: { rid: number; reason: string }[];
}

/** How a failed write program maps to the caller's error. */
export type FailureMap = (failure: ProgramFailure['failure']) => Error | undefined;

export class CollectionStore {
  readonly db: Db;
  readonly writer: SqlWriter;
  readonly file: string;
  readonly #statements = new Map<string, BetterSqlite3.Statement>();

  constructor(db: Db, writer: SqlWriter, file: string) {
    this.db = db;
    this.writer = writer;
    this.file = file;
  }

  /**
   * Runs `fn` in one read transaction of the main connection, so that every
   * read it makes, across the chunks of a scan, sees the same committed
   * state (another process may be writing meanwhile).
   */
  async consistent<T>(fn: () => Promise<T>): Promise<T> {
    if (this.db.inTransaction) return fn();
    this.db.exec('BEGIN');
    try {
      return await fn();
    } finally {
      if (this.db.inTransaction) this.db.exec('COMMIT');
    }
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

  /** Runs a write program; a failure becomes the error `map` gives, else a generic one. */
  async write(steps: Step[], map: FailureMap = () => undefined): Promise<ProgramResults> {
    try {
      return await this.writer.run(steps);
    } catch (err) {
      if (!(err instanceof ProgramFailure)) throw err;
      const mapped = map(err.failure);
      if (mapped) throw mapped;
      const f = err.failure;
      const code = f.code ?? '';
      if (code.startsWith('SQLITE_FULL')) throw createError(ErrorCode.IO, `the disk holding ${this.file} is full; nothing was written`, { cause: err });
      if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
        throw createError(ErrorCode.CORRUPT_FILE, `the database ${this.file} is damaged: ${f.message}`, { cause: err });
      }
      throw createError(ErrorCode.IO, `cannot write the database ${this.file}: ${f.message}`, { cause: err });
    }
  }

  // ---- collections ----

  collection(name: string): CollectionRow | undefined {
    return this.#sql(`SELECT ${COLLECTION_COLUMNS} FROM collections WHERE name = ?`).get(name) as CollectionRow | undefined;
  }

  collectionById(cid: number): CollectionRow | undefined {
    return this.#sql(`SELECT ${COLLECTION_COLUMNS} FROM collections WHERE cid = ?`).get(cid) as CollectionRow | undefined;
  }

  collections(): CollectionRow[] {
    return this.#sql(`SELECT ${COLLECTION_COLUMNS} FROM collections ORDER BY name`).all() as CollectionRow[];
  }

  /** Creates a collection and returns its cid (never one used before); ERR_DUPLICATE_ID if the name is taken. */
  async createCollection(
    name: string,
    metric: Metric,
    dim: number | undefined,
    index: string,
    metadata: Metadata | null,
    embedder: string | null,
    tokenizer: Tokenizer = 'unicode61',
    encoding: IVFEncoding | null = null,
  ): Promise<number> {
    const [rows] = await this.write(
      [
        once(
          "INSERT INTO collections (cid, name, metric, dim, index_kind, metadata, created_at, embedder, tokenizer, ivf_encoding) VALUES ((SELECT max(CAST(value AS INTEGER), (SELECT coalesce(max(cid), 0) + 1 FROM collections)) FROM meta WHERE key = 'next_cid'), ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING cid",
          [name, metric, dim ?? null, index, metadata === null ? null : JSON.stringify(metadata), new Date().toISOString(), embedder, tokenizer, encoding],
          { returning: true },
        ),
        once("UPDATE meta SET value = (SELECT max(cid) + 1 FROM collections) WHERE key = 'next_cid'", []),
        // The keyword index, in the same transaction (its name holds the new cid).
        ...createStatements('{{value}}', tokenizer).map((sql) => once(sql, [], { from: 0 })),
      ],
      (f) =>
        f.code === 'SQLITE_CONSTRAINT_UNIQUE'
          ? createError(ErrorCode.DUPLICATE_ID, `a collection named ${JSON.stringify(name)} already exists; use getCollection or getOrCreateCollection`)
          : undefined,
    );
    return (rows as unknown[][])[0]![0] as number;
  }

  /** Deletes a collection, its records, change log and snapshot row. */
  async deleteCollection(cid: number): Promise<void> {
    await this.write([
      ...dropStatements(cid).map((sql) => once(sql, [])),
      once('DELETE FROM embeddings WHERE rid IN (SELECT rid FROM records WHERE cid = ?)', [cid]),
      once('DELETE FROM records WHERE cid = ?', [cid]),
      once('DELETE FROM changes WHERE cid = ?', [cid]),
      once('DELETE FROM snapshots WHERE cid = ?', [cid]),
      once('DELETE FROM collections WHERE cid = ?', [cid]),
    ]);
  }

  /** Number of collections. */
  countCollections(): number {
    return this.#sql('SELECT count(*) FROM collections').pluck().get() as number;
  }

  /**
   * Renames a collection and/or replaces its metadata (undefined: unchanged;
   * null metadata: none). ERR_DUPLICATE_ID if the new name is taken,
   * ERR_NOT_FOUND if the collection was deleted; nothing changes then.
   */
  async modifyCollection(cid: number, oldName: string, changes: { name?: string; metadata?: Metadata | null }): Promise<void> {
    const { name, metadata } = changes;
    await this.write(
      [
        once(
          'UPDATE collections SET name = coalesce(?, name), metadata = CASE WHEN ? THEN ? ELSE metadata END WHERE cid = ?',
          [name ?? null, metadata === undefined ? 0 : 1, metadata ? JSON.stringify(metadata) : null, cid],
          { required: true },
        ),
      ],
      (f) => {
        if (f.code === 'SQLITE_CONSTRAINT_UNIQUE') return createError(ErrorCode.DUPLICATE_ID, `a collection named ${JSON.stringify(name)} already exists; choose another name`);
        if (f.kind === 'missing') return createError(ErrorCode.NOT_FOUND, `the collection ${JSON.stringify(oldName)} was deleted; get it again (or create it) to change it`);
        return undefined;
      },
    );
  }

  /** Records the embedder a collection is built with, unless one is recorded already. */
  async setEmbedder(cid: number, embedder: string): Promise<void> {
    await this.write([once('UPDATE collections SET embedder = ? WHERE cid = ? AND embedder IS NULL', [embedder, cid])]);
  }

  // ---- record writes ----

  /** Steps every record write begins with: the collection still exists, and (with vectors) has this dim. */
  #guard(cid: number, dim: number | undefined): Step[] {
    const steps: Step[] = [once('SELECT 1 FROM collections WHERE cid = ?', [cid], { returning: true, required: true })];
    if (dim !== undefined) {
      steps.push(once('UPDATE collections SET dim = ? WHERE cid = ? AND (dim IS NULL OR dim = ?)', [dim, cid, dim], { required: true }));
    }
    return steps;
  }

  /** The error of a failed guard step, or undefined for a failure elsewhere. */
  #guardFailure(f: ProgramFailure['failure'], name: string, dim: number | undefined): Error | undefined {
    if (f.kind !== 'missing') return undefined;
    if (f.step === 0) return createError(ErrorCode.NOT_FOUND, `the collection ${JSON.stringify(name)} was deleted; get it again (or create it) to write to it`);
    if (f.step === 1) return createError(ErrorCode.DIMENSION_MISMATCH, `embeddings must have the collection's dimension; received ${dim}-d ones`);
    return undefined;
  }

  /** The last step of a record write: the sequence number of its last change (to return it). */
  static readonly #seqStep: Step = once("SELECT seq FROM sqlite_sequence WHERE name = 'changes'", [], { returning: true });

  /** The sequence number the last step of a program returned. */
  static #seqOf(results: ProgramResults): number {
    return ((results[results.length - 1] as unknown[][])[0]?.[0] as number | undefined) ?? 0;
  }

  #logSteps(cid: number, ids: readonly string[], op: number): Step {
    return { sql: 'INSERT INTO changes (cid, rid, op) SELECT cid, rid, ? FROM records WHERE cid = ? AND id = ?', count: ids.length, params: [val(op), val(cid), col(ids)] };
  }

  /**
   * Writes records with their embeddings and returns their rids. Without
   * `replace` (add), ids must be new: ERR_DUPLICATE_ID (nothing written) if
   * one exists; with it (upsert), an existing record keeps its rid and has
   * its document, metadata and embedding replaced.
   */
  async put(replace: boolean, cid: number, name: string, dim: number, ids: readonly string[], documents: readonly (string | null | undefined)[] | undefined, metas: readonly (Metadata | null)[], vectors: Float32Array): Promise<{ rids: number[]; seq: number }> {
    const steps = this.#guard(cid, dim);
    const first = steps.length;
    const onRecord = replace ? ' ON CONFLICT (cid, id) DO UPDATE SET document = excluded.document, metadata = excluded.metadata' : '';
    const onEmbedding = replace ? ' ON CONFLICT (rid) DO UPDATE SET embedding = excluded.embedding' : '';
    steps.push(
      {
        sql: `INSERT INTO records (cid, id, document, metadata) VALUES (?, ?, ?, ?)${onRecord} RETURNING rid`,
        count: ids.length,
        params: [val(cid), col(ids), col(docColumn(ids, documents)), col(metadataColumn(metas))],
        returning: true,
      },
      {
        sql: `INSERT INTO embeddings (rid, embedding) VALUES ((SELECT rid FROM records WHERE cid = ? AND id = ?), ?)${onEmbedding}`,
        count: ids.length,
        params: [val(cid), col(ids), { f32: vectors, dim }],
      },
      this.#logSteps(cid, ids, Op.PUT),
      CollectionStore.#seqStep,
    );
    const results = await this.write(steps, (f) => {
      if (f.step === first && f.code === 'SQLITE_CONSTRAINT_UNIQUE') {
        return createError(ErrorCode.DUPLICATE_ID, `id ${JSON.stringify(ids[f.row])} is already in the collection; use upsert or update to change it`);
      }
      return this.#guardFailure(f, name, dim);
    });
    return { rids: (results[first] as unknown[][])[0] as number[], seq: CollectionStore.#seqOf(results) };
  }

  /**
   * Updates existing records; ERR_NOT_FOUND (nothing written) if an id is
   * missing. Metadata patches are merged (a null value removes the key);
   * returns the rids and the merged metadata.
   */
  async update(
    cid: number,
    name: string,
    dim: number | undefined,
    ids: readonly string[],
    documents: readonly (string | null | undefined)[] | undefined,
    patches: readonly (Record<string, Metadata[string] | null> | undefined)[],
    vectors: Float32Array | undefined,
  ): Promise<{ rids: number[]; metadatas: (Metadata | null)[]; seq: number }> {
    const steps = this.#guard(cid, vectors ? dim : undefined);
    const first = steps.length;
    steps.push({
      // (better-sqlite3 binds only anonymous or named parameters: no ?NNN)
      sql:
        'UPDATE records SET document = CASE WHEN ? THEN ? ELSE document END, ' +
        "metadata = CASE WHEN ? THEN nullif(json_patch(coalesce(metadata, '{}'), ?), '{}') ELSE metadata END " +
        'WHERE cid = ? AND id = ? RETURNING rid, metadata',
      count: ids.length,
      params: [
        col(ids.map((_, i) => (documents?.[i] === undefined ? 0 : 1))),
        col(docColumn(ids, documents)),
        col(patches.map((p) => (p ? 1 : 0))),
        col(patches.map((p) => (p ? JSON.stringify(p) : null))),
        val(cid),
        col(ids),
      ],
      returning: true,
      required: true,
    });
    if (vectors) {
      steps.push({
        sql: 'UPDATE embeddings SET embedding = ? WHERE rid = (SELECT rid FROM records WHERE cid = ? AND id = ?)',
        count: ids.length,
        params: [{ f32: vectors, dim: dim as number }, val(cid), col(ids)],
      });
    }
    steps.push(this.#logSteps(cid, ids, vectors ? Op.PUT : Op.META), CollectionStore.#seqStep);
    const results = await this.write(steps, (f) => {
      if (f.step === first && f.kind === 'missing') {
        return createError(ErrorCode.NOT_FOUND, `id ${JSON.stringify(ids[f.row])} is not in the collection; nothing was updated (use upsert to add it)`);
      }
      return this.#guardFailure(f, name, dim);
    });
    const [rids, metadatas] = results[first] as [number[], (string | null)[]];
    return { rids, metadatas: metadatas.map(parseMetadata), seq: CollectionStore.#seqOf(results) };
  }

  /** Deletes records by rid (those still present); returns how many were deleted. */
  async delete(cid: number, name: string, rids: readonly number[]): Promise<{ deleted: number; seq: number }> {
    const steps = this.#guard(cid, undefined);
    steps.push(
      { sql: 'INSERT INTO changes (cid, rid, op) SELECT cid, rid, ? FROM records WHERE rid = ? AND cid = ?', count: rids.length, params: [val(Op.DELETE), col(rids), val(cid)] },
      { sql: 'DELETE FROM records WHERE rid = ? AND cid = ?', count: rids.length, params: [col(rids), val(cid)] },
      CollectionStore.#seqStep,
    );
    const results = await this.write(steps, (f) => this.#guardFailure(f, name, undefined));
    return { deleted: results[steps.length - 2] as number, seq: CollectionStore.#seqOf(results) };
  }

  // ---- reads ----

  count(cid: number): number {
    return (this.#sql('SELECT records FROM collections WHERE cid = ?').pluck().get(cid) as number | undefined) ?? 0;
  }

  ridsOf(cid: number, ids: readonly string[]): (number | undefined)[] {
    const find = this.#sql('SELECT rid FROM records WHERE cid = ? AND id = ?').pluck();
    return ids.map((id) => find.get(cid, id) as number | undefined);
  }

  /** The ids of records by rid. */
  idsOfRids(rids: readonly number[]): Map<number, string> {
    const out = new Map<number, string>();
    for (const part of chunks(rids)) {
      const rows = this.#sql(`SELECT rid, id FROM records WHERE rid IN (${part.map(() => '?').join(', ')})`).all(...part) as { rid: number; id: string }[];
      for (const r of rows) out.set(r.rid, r.id);
    }
    return out;
  }

  /**
   * Runs `SELECT ... WHERE <where> AND <key> > ? ORDER BY <key> LIMIT ?` in
   * chunks, yielding to the event loop between them. `sql` ends with that
   * WHERE clause's conditions; the key is the first selected column.
   */
  async *scan<T>(sql: string, key: string, params: readonly unknown[], after = -Infinity, limit = Infinity): AsyncGenerator<T[]> {
    const stmt = this.#sql(`${sql} AND ${key} > ? ORDER BY ${key} LIMIT ?`);
    let last = after;
    let left = limit;
    while (left > 0) {
      const rows = stmt.all(...params, last === -Infinity ? -1 : last, Math.min(SCAN_ROWS, left)) as T[];
      if (rows.length === 0) return;
      last = (rows[rows.length - 1] as Record<string, number>)[key.slice(key.lastIndexOf('.') + 1)] as number;
      left -= rows.length;
      yield rows;
      if (rows.length < SCAN_ROWS) return;
      await yieldToLoop();
    }
  }

  /** Row ids of the records of a collection whose document satisfies `sql`. */
  async ridsWhere(cid: number, sql: string, params: readonly unknown[]): Promise<Float64Array> {
    const out: number[] = [];
    for await (const rows of this.scan<{ rid: number }>(`SELECT rid FROM records WHERE cid = ? AND (${sql})`, 'rid', [cid, ...params])) {
      for (const r of rows) out.push(r.rid);
    }
    return Float64Array.from(out);
  }

  /**
   * The records of a collection whose document matches any of `phrases`
   * (keyword-index.ts makes them from user text), best BM25 first: at most
   * `limit` of those `allow` selects, the filter applied before ranking
   * (keyword-search.ts). Scores are BM25's, higher better; ties go to the
   * lower rowid. One read transaction, so the ranking sees one state.
   */
  keywordSearch(cid: number, phrases: readonly string[], limit: number, allow?: Matching): { rids: number[]; scores: number[] } {
    const search = () => searchKeywords((text) => this.#sql(text), keywordTable(cid), phrases, limit, allow);
    if (this.db.inTransaction) return search();
    this.db.exec('BEGIN');
    try {
      return search();
    } finally {
      if (this.db.inTransaction) this.db.exec('COMMIT');
    }
  }

  /** The bytes a collection's keyword index takes (FTS5's shadow tables; needs SQLite's dbstat, else undefined). */
  keywordIndexBytes(cid: number): number | undefined {
    try {
      return this.db.prepare("SELECT sum(pgsize) FROM dbstat WHERE name LIKE ? ESCAPE '\\'").pluck().get(`${keywordTable(cid)}\\_%`) as number;
    } catch {
      return undefined;
    }
  }

  /** Every record's metadata, in chunks. */
  async forEachMetadata(cid: number, fn: (rid: number, m: Metadata | null) => void): Promise<void> {
    for await (const rows of this.scan<{ rid: number; metadata: string | null }>('SELECT rid, metadata FROM records WHERE cid = ?', 'rid', [cid])) {
      for (const r of rows) fn(r.rid, parseMetadata(r.metadata));
    }
  }

  #row(r: RawRow, dim: number | undefined): StoredRow {
    const row: StoredRow = { rid: r.rid, id: r.id, document: r.document, metadata: parseMetadata(r.metadata) };
    if (r.embedding) row.embedding = vectorOf(r.embedding, dim);
    return row;
  }

  #select(withEmbedding: boolean): string {
    const cols = `r.rid AS rid, id, document, metadata${withEmbedding ? ', e.embedding AS embedding' : ''}`;
    const from = withEmbedding ? 'records r JOIN embeddings e ON e.rid = r.rid' : 'records r';
    return `SELECT ${cols} FROM ${from}`;
  }

  /** The records of the given rids (for query results: a few at a time). */
  rows(rids: readonly number[], withEmbedding: boolean, dim: number | undefined): Map<number, StoredRow> {
    const out = new Map<number, StoredRow>();
    for (const part of chunks(rids)) {
      const stmt = this.#sql(`${this.#select(withEmbedding)} WHERE r.rid IN (${part.map(() => '?').join(', ')})`);
      for (const r of stmt.all(...part) as RawRow[]) out.set(r.rid, this.#row(r, dim));
    }
    return out;
  }

  /** The same, reading in chunks that yield to the event loop. */
  async rowsAsync(rids: readonly number[], withEmbedding: boolean, dim: number | undefined): Promise<Map<number, StoredRow>> {
    const out = new Map<number, StoredRow>();
    for (let i = 0; i < rids.length; i += SCAN_ROWS) {
      if (i > 0) await yieldToLoop();
      for (const [rid, row] of this.rows(rids.slice(i, i + SCAN_ROWS), withEmbedding, dim)) out.set(rid, row);
    }
    return out;
  }

  /** Records in rid order from `offset`, at most `limit`. */
  async page(cid: number, limit: number, offset: number, withEmbedding: boolean, dim: number | undefined): Promise<StoredRow[]> {
    const out: StoredRow[] = [];
    let after = -Infinity;
    if (offset > 0) {
      const rid = this.#sql('SELECT rid FROM records WHERE cid = ? ORDER BY rid LIMIT 1 OFFSET ?').pluck().get(cid, offset - 1) as number | undefined;
      if (rid === undefined) return out;
      after = rid;
    }
    for await (const rows of this.scan<RawRow>(`${this.#select(withEmbedding)} WHERE r.cid = ?`, 'r.rid', [cid], after, limit)) {
      for (const r of rows) out.push(this.#row(r, dim));
    }
    return out;
  }

  /**
   * Embeddings for an index, in rid order: every record of the collection,
   * or those of `only`. A stored embedding of the wrong size or with a
   * non-finite value is skipped and reported, never fatal: one bad row must
   * not keep a collection from opening.
   */
  async embeddings(cid: number, dim: number, only?: readonly number[]): Promise<EmbeddingScan> {
    const n = only ? only.length : this.count(cid);
    const vectors = new Float32Array(n * dim);
    const rids: number[] = [];
    const skipped: EmbeddingScan['skipped'] = [];
    const take = (r: { rid: number; embedding: Buffer }) => {
      if (rids.length >= n) return;
      if (r.embedding.byteLength !== dim * 4) {
        skipped.push({ rid: r.rid, reason: `its stored embedding has ${r.embedding.byteLength / 4} values; expected ${dim}` });
        return;
      }
      const at = new Uint8Array(vectors.buffer, rids.length * dim * 4, dim * 4);
      at.set(r.embedding);
      if (!allFinite(new Uint32Array(vectors.buffer, rids.length * dim * 4, dim))) {
        skipped.push({ rid: r.rid, reason: 'its stored embedding holds NaN or Infinity' });
        at.fill(0);
        return;
      }
      rids.push(r.rid);
    };
    if (only) {
      for (let i = 0; i < only.length; i += SCAN_ROWS) {
        if (i > 0) await yieldToLoop();
        for (const part of chunks(only.slice(i, i + SCAN_ROWS))) {
          const rows = this.#sql(`SELECT rid, embedding FROM embeddings WHERE rid IN (${part.map(() => '?').join(', ')}) ORDER BY rid`).all(...part) as { rid: number; embedding: Buffer }[];
          rows.forEach(take);
        }
      }
    } else {
      const sql = 'SELECT e.rid AS rid, e.embedding AS embedding FROM records r JOIN embeddings e ON e.rid = r.rid WHERE r.cid = ?';
      for await (const rows of this.scan<{ rid: number; embedding: Buffer }>(sql, 'r.rid', [cid])) rows.forEach(take);
    }
    return { rids, vectors: vectors.subarray(0, rids.length * dim), skipped };
  }

  // ---- change log and snapshots ----

  /** The sequence number of the latest change of any collection (never reused). */
  lastSeq(): number {
    const seq = this.#sql("SELECT seq FROM sqlite_sequence WHERE name = 'changes'").pluck().get() as number | undefined;
    return seq ?? 0;
  }

  /** Changes logged for a collection since its last snapshot. */
  pendingChanges(cid: number): number {
    return this.#sql('SELECT count(*) FROM changes WHERE cid = ? AND seq > ?').pluck().get(cid, this.snapshot(cid)?.seq ?? 0) as number;
  }

  /**
   * What changed in a collection in (after, upTo]: the last operation on
   * each rid, in order: put (new vector), meta (document or metadata only)
   * or delete. A reader applies these to catch up.
   */
  async changesBetween(cid: number, after: number, upTo: number): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    const sql = 'SELECT seq, rid, op FROM changes WHERE cid = ? AND seq <= ?';
    for await (const rows of this.scan<{ seq: number; rid: number; op: number }>(sql, 'seq', [cid, upTo], after)) {
      for (const r of rows) {
        // A metadata change after a put keeps the put (the vector changed too).
        if (r.op === Op.META && out.get(r.rid) === Op.PUT) continue;
        out.set(r.rid, r.op);
      }
    }
    return out;
  }

  snapshot(cid: number): SnapshotRow | undefined {
    return this.#sql('SELECT seq, file, bytes, crc, pruned_seq FROM snapshots WHERE cid = ?').get(cid) as SnapshotRow | undefined;
  }

  /**
   * Records that `file` (of `bytes` bytes and payload checksum `crc`) holds
   * the index as of seq. The changes covered by the previous snapshot are
   * dropped (not those of this one: a reader that has caught up to the
   * previous snapshot can still catch up without reloading).
   */
  async recordSnapshot(cid: number, seq: number, file: string, bytes: number, crc: number): Promise<void> {
    const pruned = this.snapshot(cid)?.seq ?? 0;
    await this.write([
      once(
        'INSERT INTO snapshots (cid, seq, file, bytes, crc, pruned_seq) VALUES (?, ?, ?, ?, ?, ?) ' +
          'ON CONFLICT (cid) DO UPDATE SET seq = excluded.seq, file = excluded.file, bytes = excluded.bytes, crc = excluded.crc, pruned_seq = excluded.pruned_seq',
        [cid, seq, file, bytes, crc, pruned],
      ),
      once('DELETE FROM changes WHERE cid = ? AND seq <= ?', [cid, pruned]),
    ]);
  }
}
