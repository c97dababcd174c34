/**
 * Clients own collections: `new Client()` keeps everything in memory;
 * `await Client.open(dir)` persists to `dir/semvec.db` (SQLite, the source
 * of truth) with each collection's native index snapshotted to
 * `dir/indexes/` as a cache. At open an index is loaded from its snapshot and
 * caught up with the changes logged after it; a missing, stale or corrupt
 * snapshot is rebuilt from the database.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

import type { Embedder } from '../embedder/embedder.js';
import { ErrorCode, NotFoundError, SemvecError, ValidationError } from '../errors.js';
import { FlatIndex } from '../flat-index.js';
import { IVFIndex } from '../ivf-index.js';
import { checkOneOf, checkPath, describe, fail } from '../validate.js';
import { METRICS, type Metric } from '../vector-index.js';
import { Collection, type CollectionInfo, type IndexKind } from './collection.js';
import { openDatabase, type Db } from './database.js';
import { checkMetadata, type Metadata } from './filter.js';
import { CollectionStore, type CollectionRow } from './store.js';

export interface CreateCollectionOptions {
  /** Default 'cosine'. */
  metric?: Metric;
  /** Embeds documents and queryTexts; also fixes the dimension. */
  embedder?: Embedder;
  /** 'flat' (default, exact) or 'ivf' (exact until 10,000 records, then IVF). */
  index?: IndexKind;
  metadata?: Metadata;
}

export interface GetCollectionOptions {
  embedder?: Embedder;
}

export interface CollectionSummary {
  name: string;
  metric: Metric;
  dim: number | undefined;
  index: IndexKind;
  count: number;
  metadata: Metadata | null;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{1,61}[a-zA-Z0-9]$/;

/** Collection names: 3 to 63 characters of letters, digits, '.', '_' and '-', starting and ending with a letter or digit, without '..'. */
export function checkCollectionName(name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name) || name.includes('..')) {
    fail(
      ErrorCode.INVALID_ARGUMENT,
      `collection names must be 3-63 characters of letters, digits, '.', '_' and '-', start and end with a letter or digit, and not contain '..'; received ${describe(name)}`,
    );
  }
  return name;
}

export class Client {
  readonly #db: Db;
  readonly #store: CollectionStore;
  readonly #dir: string | undefined;
  readonly #open = new Map<string, Collection>();
  /** Collections whose index was rebuilt or caught up: their snapshot is stale even with no pending change. */
  readonly #stale = new Set<number>();
  #closed = false;

  /** An in-memory client: nothing is persisted. */
  constructor();
  /** @internal */
  constructor(db: Db, dir: string);
  constructor(db?: Db, dir?: string) {
    this.#db = db ?? openDatabase(':memory:');
    this.#store = new CollectionStore(this.#db);
    this.#dir = dir;
  }

  /**
   * Opens (creating if needed) a persistent client in `dir`. Only one
   * process may have a directory open: another gets ERR_LOCKED.
   *
   * @example
   * const client = await Client.open('./vectors');
   */
  static async open(dir: string): Promise<Client> {
    const root = resolve(checkPath(dir, 'dir'));
    try {
      mkdirSync(join(root, 'indexes'), { recursive: true });
    } catch (err) {
      throw new SemvecError(ErrorCode.IO, `cannot create the client directory ${root}: ${(err as Error).message}`, { cause: err });
    }
    return new Client(openDatabase(join(root, 'semvec.db')), root);
  }

  /** The directory of a persistent client; undefined in memory. */
  get path(): string | undefined {
    return this.#dir;
  }

  #check(): void {
    if (this.#closed) fail(ErrorCode.INVALID_ARGUMENT, 'the client is closed');
  }

  #info(row: CollectionRow): CollectionInfo {
    return {
      cid: row.cid,
      name: row.name,
      metric: row.metric,
      dim: row.dim ?? undefined,
      index: row.index_kind,
      metadata: row.metadata === null ? null : (JSON.parse(row.metadata) as Metadata),
    };
  }

  /**
   * Creates a collection; ERR_DUPLICATE_ID if the name is taken.
   *
   * @example
   * const docs = await client.createCollection('docs', { metric: 'cosine', embedder });
   */
  async createCollection(name: string, options: CreateCollectionOptions = {}): Promise<Collection> {
    this.#check();
    checkCollectionName(name);
    if (options === null || typeof options !== 'object') fail(ErrorCode.INVALID_ARGUMENT, `options must be an object; received ${describe(options)}`);
    const metric = checkOneOf(options.metric ?? 'cosine', 'metric', METRICS);
    const index = checkOneOf(options.index ?? 'flat', 'index', ['flat', 'ivf'] as const);
    const metadata = checkMetadata(options.metadata, 'metadata');
    if (this.#store.collection(name)) {
      throw new ValidationError(ErrorCode.DUPLICATE_ID, `a collection named ${JSON.stringify(name)} already exists; use getCollection or getOrCreateCollection`);
    }
    this.#store.createCollection(name, metric, options.embedder?.dim, index, metadata);
    const col = new Collection(this.#store, this.#info(this.#store.collection(name) as CollectionRow), undefined, options.embedder);
    this.#open.set(name, col);
    return col;
  }

  /** An existing collection; ERR_NOT_FOUND if there is none by that name. */
  async getCollection(name: string, options: GetCollectionOptions = {}): Promise<Collection> {
    this.#check();
    checkCollectionName(name);
    const row = this.#store.collection(name);
    if (!row) throw new NotFoundError(ErrorCode.NOT_FOUND, `no collection named ${JSON.stringify(name)}`);
    const embedder = options.embedder;
    if (embedder && row.dim !== null && embedder.dim !== row.dim) {
      throw new ValidationError(ErrorCode.DIMENSION_MISMATCH, `the embedder makes ${embedder.dim}-d vectors but the collection ${JSON.stringify(name)} holds ${row.dim}-d ones`);
    }
    const open = this.#open.get(name);
    if (open) {
      if (embedder) open.setEmbedder(embedder);
      return open;
    }
    const col = new Collection(this.#store, this.#info(row), await this.#loadIndex(row), embedder);
    await col.upgradeIndex();
    this.#open.set(name, col);
    return col;
  }

  /** The collection, created with `options` when it does not exist. */
  async getOrCreateCollection(name: string, options: CreateCollectionOptions = {}): Promise<Collection> {
    this.#check();
    return this.#store.collection(checkCollectionName(name)) ? this.getCollection(name, { embedder: options.embedder }) : this.createCollection(name, options);
  }

  /** Every collection with its record count. */
  async listCollections(): Promise<CollectionSummary[]> {
    this.#check();
    return this.#store.collections().map((row) => {
      const info = this.#info(row);
      return { name: info.name, metric: info.metric, dim: info.dim, index: info.index, metadata: info.metadata, count: this.#store.count(row.cid) };
    });
  }

  /** Deletes a collection and its records; ERR_NOT_FOUND if absent. */
  async deleteCollection(name: string): Promise<void> {
    this.#check();
    const row = this.#store.collection(checkCollectionName(name));
    if (!row) throw new NotFoundError(ErrorCode.NOT_FOUND, `no collection named ${JSON.stringify(name)}`);
    const snap = this.#store.snapshot(row.cid);
    this.#store.deleteCollection(row.cid);
    this.#open.delete(name);
    if (snap && this.#dir) rmSync(join(this.#dir, 'indexes', snap.file), { force: true });
  }

  // ---- index snapshots ----

  /** The index of a collection: its snapshot caught up, or rebuilt from the database. */
  async #loadIndex(row: CollectionRow): Promise<FlatIndex | IVFIndex | undefined> {
    if (row.dim === null) return undefined;
    const dim = row.dim;
    const snap = this.#store.snapshot(row.cid);
    let index: FlatIndex | IVFIndex | undefined;
    if (snap && this.#dir) {
      const file = join(this.#dir, 'indexes', snap.file);
      try {
        if (existsSync(file)) {
          try {
            index = await FlatIndex.loadAsync(file);
          } catch (err) {
            if ((err as SemvecError).code !== ErrorCode.WRONG_INDEX_KIND) throw err;
            index = await IVFIndex.loadAsync(file);
          }
          if (index.dim !== dim || index.metric !== row.metric) index = undefined;
        }
      } catch {
        index = undefined; // corrupt or unreadable: rebuilt below
      }
      if (index) {
        const changes = this.#store.changesSince(row.cid, snap.seq);
        const present = [...changes.keys()].filter((rid) => index!.has(rid));
        if (present.length > 0) index.remove(present);
        const puts = [...changes].filter(([, put]) => put).map(([rid]) => rid);
        const { rids, vectors } = this.#store.embeddingsOf(puts, dim);
        if (rids.length > 0) await index.addAsync(vectors, rids);
        if (changes.size > 0) this.#stale.add(row.cid);
        if (index.size !== this.#store.count(row.cid)) index = undefined; // disagrees with the database
      }
    }
    if (!index) {
      index = new FlatIndex({ dim, metric: row.metric });
      const { rids, vectors } = this.#store.allEmbeddings(row.cid, dim);
      if (rids.length > 0) await index.addAsync(vectors, rids);
      if (this.#dir) this.#stale.add(row.cid);
    }
    return index;
  }

  /**
   * Saves a snapshot of every open collection's index whose database has
   * changed since its last snapshot (persistent clients; a no-op in memory).
   * Called by close().
   */
  async checkpoint(): Promise<void> {
    this.#check();
    if (!this.#dir) return;
    for (const col of this.#open.values()) {
      const index = col.nativeIndex;
      if (!index || (this.#store.pendingChanges(col.cid) === 0 && !this.#stale.has(col.cid))) continue;
      const seq = this.#store.lastSeq();
      const file = `${col.cid}-${seq}.svx`;
      await index.saveAsync(join(this.#dir, 'indexes', file));
      const old = this.#store.snapshot(col.cid);
      this.#store.recordSnapshot(col.cid, seq, file);
      this.#stale.delete(col.cid);
      if (old && old.file !== file) rmSync(join(this.#dir, 'indexes', old.file), { force: true });
    }
    this.#removeStrayFiles();
  }

  /** Index files no snapshot row points at (a crash between save and record). */
  #removeStrayFiles(): void {
    if (!this.#dir) return;
    const keep = new Set(this.#store.collections().map((c) => this.#store.snapshot(c.cid)?.file));
    for (const f of readdirSync(join(this.#dir, 'indexes'))) if (!keep.has(f)) rmSync(join(this.#dir, 'indexes', f), { force: true });
  }

  /** Checkpoints and closes the database. The client cannot be used afterwards. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.checkpoint();
    this.#closed = true;
    this.#open.clear();
    this.#db.close();
  }
}
