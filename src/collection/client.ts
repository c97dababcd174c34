/**
 * Clients own collections: `new Client()` keeps everything in memory;
 * `await Client.open(dir)` persists to `dir/semvec.db` (SQLite, the source
 * of truth) with each collection's native index snapshotted to
 * `dir/indexes/` as a cache. At open an index is loaded from its snapshot and
 * caught up with the changes logged after it; a missing, stale, corrupt or
 * substituted snapshot is rebuilt from the database.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

import type { Embedder } from '../embedder/embedder.js';
import { createError, ErrorCode, warn, type SemvecWarning } from '../errors.js';
import { checkInteger, checkOneOf, checkPath, describe, fail, orDefault } from '../validate.js';
import { METRICS, type Metric } from '../vector-index.js';
import { Collection, embedderIdentity, type CollectionHost, type CollectionInfo, type ModifyCollectionOptions } from './collection.js';
import { CollectionIndex } from './collection-index.js';
import { IVF_ENCODINGS } from '../ivf-index.js';
import type { IVFEncoding } from '../native.js';
import type { IndexKind } from './types.js';
import { openDatabase, openReaderDatabase, WriterLock, type Db } from './database.js';
import { checkTokenizer, type Tokenizer } from './keyword-index.js';
import { checkMetadata, type Metadata } from './metadata.js';
import { CollectionStore, type CollectionRow } from './store.js';
import { InlineWriter, ThreadWriter, WriteQueue, type SqlWriter } from './writer.js';

export interface ClientOptions {
  /**
   * Receives the warnings of this client (a damaged record left out of
   * search, a snapshot rebuilt); without it they are emitted with
   * `process.emitWarning`.
   */
  onWarning?: (warning: SemvecWarning) => void;
}

export interface OpenOptions extends ClientOptions {
  /**
   * Open for reading only: any number of processes may, while one writing
   * client holds the directory. Writes throw ERR_READ_ONLY; reads catch up
   * with the writer's commits (see `refreshMs` and `Collection.refresh`).
   */
  readOnly?: boolean;
  /** A writing client: how long to wait for another writer to close, in ms; default 0 (ERR_LOCKED at once). */
  lockTimeoutMs?: number;
  /**
   * A read-only client: a read (query, get, count) first catches up when the
   * last catch-up is older than this, in ms; default 1,000. 0: only
   * `refresh()` catches up.
   */
  refreshMs?: number;
  /**
   * Map each collection's index snapshot read-only instead of reading it
   * into memory (default true): every process that opens the directory
   * shares one copy of its pages through the page cache, and records
   * written since the snapshot sit in a small index in memory until the
   * writer folds them into a new snapshot. false: each process holds the
   * whole index in its own memory.
   */
  mmap?: boolean;
  /**
   * With `mmap`: check a snapshot's checksum and contents when mapping it
   * (default true; reads the file once, off the event loop). false maps
   * in constant time, trusting the file whose size and checksum the
   * database recorded for it.
   */
  verify?: boolean;
}

export interface CreateCollectionOptions {
  /** Default 'cosine', or the metadata's `'hnsw:space'` as Chroma reads it. */
  metric?: Metric;
  /** Embeds documents and queryTexts; also fixes the dimension. */
  embedder?: Embedder;
  /**
   * 'flat' (default, exact), 'ivf' (exact until AUTO_IVF.minVectors records,
   * 50,000, then IVF) or 'graph' (a GraphIndex from the first record).
   */
  index?: IndexKind;
  /**
   * `index: 'ivf'` only: the list encoding of the IVF index (see
   * {@link IVF_ENCODINGS}); default `'f32'`. `'rq4'` keeps 4-bit codes to
   * scan and re-ranks from the floats.
   */
  encoding?: IVFEncoding;
  metadata?: Metadata;
  /**
   * How the collection's keyword index (for `query({ mode: 'keyword' | 'hybrid' })`)
   * splits text: 'unicode61' (default: words, case and diacritics folded),
   * 'porter' (with English stemming) or 'trigram' (substrings).
   */
  tokenizer?: Tokenizer;
}

export interface GetCollectionOptions {
  /** Must be the embedder the collection was built with (same model, dimension and pooling). */
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

/** The collection metadata key Chroma reads the distance function from. */
const HNSW_SPACE = 'hnsw:space';

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

/**
 * The metric of a new collection: `metric`, or Chroma's `'hnsw:space'` in
 * its metadata. Other `'hnsw:*'` settings configure an index semvec does
 * not have: refused rather than ignored.
 */
function collectionMetric(metric: unknown, metadata: Metadata | null): Metric {
  const chosen = metric === undefined ? undefined : checkOneOf(metric, 'metric', METRICS);
  for (const key of Object.keys(metadata ?? {})) {
    if (key.startsWith('hnsw:') && key !== HNSW_SPACE) {
      fail(
        ErrorCode.INVALID_ARGUMENT,
        `metadata ${JSON.stringify(key)} configures Chroma's HNSW index, which semvec collections do not have; remove it (semvec's options are metric and index: 'flat' | 'ivf' | 'graph', and nprobe per query)`,
      );
    }
  }
  const space = metadata?.[HNSW_SPACE];
  if (space === undefined) return chosen ?? 'cosine';
  const fromSpace = checkOneOf(space, `metadata[${JSON.stringify(HNSW_SPACE)}]`, METRICS);
  if (chosen !== undefined && chosen !== fromSpace) {
    fail(ErrorCode.INVALID_ARGUMENT, `metric ${JSON.stringify(chosen)} disagrees with metadata["hnsw:space"] ${JSON.stringify(fromSpace)}; give one of them`);
  }
  return fromSpace;
}

/** Refuses an embedder other than the one the collection was built with. */
function checkEmbedder(name: string, recorded: string | null, dim: number | null, embedder: Embedder): string {
  const identity = embedderIdentity(embedder);
  if (recorded !== null && recorded !== identity) {
    throw createError(
      ErrorCode.EMBEDDER_MISMATCH,
      `the collection ${JSON.stringify(name)} was built with the embedder ${recorded}; received ${identity}. Embeddings of different models are not comparable: use the same model, or another collection`,
    );
  }
  if (dim !== null && embedder.dim !== dim) {
    throw createError(ErrorCode.DIMENSION_MISMATCH, `the embedder makes ${embedder.dim}-d vectors but the collection ${JSON.stringify(name)} holds ${dim}-d ones`);
  }
  return identity;
}

const INTERNAL = Symbol('client');

interface ClientParts {
  db: Db;
  writer: SqlWriter;
  dir: string | undefined;
  lock: WriterLock | undefined;
  options: ClientOptions;
  readOnly: boolean;
  refreshMs: number;
  mapped: { verify: boolean } | undefined;
}

/** The writer of a read-only client: refuses every program. */
class NoWriter implements SqlWriter {
  async run(): Promise<never> {
    throw createError(ErrorCode.READ_ONLY, 'this client is read-only; write through the directory\'s writing client');
  }

  async close(): Promise<void> {}
}

export class Client {
  readonly #db: Db;
  readonly #store: CollectionStore;
  readonly #dir: string | undefined;
  readonly #lock: WriterLock | undefined;
  readonly #host: CollectionHost;
  readonly #open = new Map<string, Collection>();
  #closed = false;

  /** An in-memory client: nothing is persisted. */
  constructor(options?: ClientOptions);
  /** @internal */
  constructor(parts: { [INTERNAL]: ClientParts });
  constructor(arg: ClientOptions | { [INTERNAL]: ClientParts } = {}) {
    if (arg === null || typeof arg !== 'object') fail(ErrorCode.INVALID_ARGUMENT, `options must be an object; received ${describe(arg)}`);
    let parts: ClientParts;
    if (INTERNAL in arg) {
      parts = arg[INTERNAL];
    } else {
      const db = openDatabase(':memory:');
      parts = { db, writer: new InlineWriter(db), dir: undefined, lock: undefined, options: checkClientOptions(arg), readOnly: false, refreshMs: 0, mapped: undefined };
    }
    this.#db = parts.db;
    this.#dir = parts.dir;
    this.#lock = parts.lock;
    this.#store = new CollectionStore(parts.db, parts.writer, parts.dir ? join(parts.dir, 'semvec.db') : ':memory:');
    const onWarning = parts.options.onWarning;
    this.#host = {
      store: this.#store,
      queue: new WriteQueue(),
      snapshots: parts.dir ? join(parts.dir, 'indexes') : undefined,
      readOnly: parts.readOnly,
      refreshMs: parts.refreshMs,
      mapped: parts.mapped,
      warn: (w) => warn(w, onWarning),
      modify: (cid, changes) => this.#modify(cid, undefined, changes),
    };
  }

  /**
   * Opens (creating if needed) a persistent client in `dir`. One writing
   * client at a time may have a directory open: another gets ERR_LOCKED
   * (or waits `lockTimeoutMs`). With `readOnly: true`, any number of
   * processes may open it beside the writer.
   *
   * @example
   * const client = await Client.open('./vectors');
   * const reader = await Client.open('./vectors', { readOnly: true }); // in another process
   */
  static async open(dir: string, options: OpenOptions = {}): Promise<Client> {
    const root = resolve(checkPath(dir, 'dir'));
    const opts = checkClientOptions(options);
    const readOnly = checkBoolean(opts.readOnly, 'readOnly');
    const lockTimeoutMs = checkInteger(orDefault(opts.lockTimeoutMs, 0), 'lockTimeoutMs', 0, 2 ** 31 - 1);
    const refreshMs = checkInteger(orDefault(opts.refreshMs, 1000), 'refreshMs', 0, 2 ** 31 - 1);
    const mmap = opts.mmap === undefined || checkBoolean(opts.mmap, 'mmap');
    const verify = opts.verify === undefined || checkBoolean(opts.verify, 'verify');
    const mapped = mmap ? { verify } : undefined;
    const file = join(root, 'semvec.db');
    if (readOnly) {
      const db = openReaderDatabase(file, root);
      return new Client({ [INTERNAL]: { db, writer: new NoWriter(), dir: root, lock: undefined, options: opts, readOnly, refreshMs, mapped } });
    }
    try {
      mkdirSync(join(root, 'indexes'), { recursive: true });
    } catch (err) {
      throw createError(ErrorCode.IO, `cannot use ${root} as a collection directory: ${(err as Error).message}`, { cause: err });
    }
    const lock = await WriterLock.acquire(join(root, 'semvec.lock'), root, lockTimeoutMs);
    let db: Db | undefined;
    try {
      db = openDatabase(file);
      const writer = await ThreadWriter.start(file);
      return new Client({ [INTERNAL]: { db, writer, dir: root, lock, options: opts, readOnly, refreshMs, mapped } });
    } catch (err) {
      db?.close();
      lock.release();
      throw err;
    }
  }

  /** Whether this client only reads (see {@link OpenOptions.readOnly}). */
  get readOnly(): boolean {
    return this.#host.readOnly;
  }

  /** The directory of a persistent client; undefined in memory. */
  get path(): string | undefined {
    return this.#dir;
  }

  #check(): void {
    if (this.#closed) throw createError(ErrorCode.CLOSED, 'the client is closed');
  }

  #checkWritable(what: string): void {
    this.#check();
    if (this.#host.readOnly) throw createError(ErrorCode.READ_ONLY, `${what}: this client is read-only; use the directory's writing client`);
  }

  #info(row: CollectionRow): CollectionInfo {
    return {
      cid: row.cid,
      name: row.name,
      metric: row.metric,
      dim: row.dim ?? undefined,
      index: row.index_kind,
      metadata: row.metadata === null ? null : (JSON.parse(row.metadata) as Metadata),
      embedder: row.embedder,
      tokenizer: row.tokenizer,
      encoding: row.ivf_encoding ?? 'f32',
    };
  }

  /**
   * Creates a collection; ERR_DUPLICATE_ID if the name is taken.
   *
   * @example
   * const docs = await client.createCollection('docs', { metric: 'cosine', embedder });
   */
  async createCollection(name: string, options: CreateCollectionOptions = {}): Promise<Collection> {
    this.#checkWritable('createCollection');
    checkCollectionName(name);
    if (options === null || typeof options !== 'object') fail(ErrorCode.INVALID_ARGUMENT, `options must be an object; received ${describe(options)}`);
    const metadata = checkMetadata(options.metadata, 'metadata');
    const metric = collectionMetric(options.metric, metadata);
    const index = options.index === undefined ? 'flat' : checkOneOf(options.index, 'index', ['flat', 'ivf', 'graph'] as const);
    const encoding =
      options.encoding === undefined ? null : checkOneOf(options.encoding, 'encoding', IVF_ENCODINGS.map((e) => e.name));
    if (encoding !== null && index !== 'ivf') {
      fail(ErrorCode.INVALID_ARGUMENT, `encoding applies to index: 'ivf' collections; received encoding '${encoding}' with index '${index}'`);
    }
    const identity = options.embedder === undefined ? null : embedderIdentity(options.embedder);
    const tokenizer = checkTokenizer(options.tokenizer);
    return this.#host.queue.run(async () => {
      this.#check();
      const cid = await this.#store.createCollection(name, metric, options.embedder?.dim, index, metadata, identity, tokenizer, encoding);
      const col = new Collection(this.#host, this.#info(this.#store.collectionById(cid) as CollectionRow), undefined, options.embedder);
      this.#open.set(name, col);
      return col;
    });
  }

  /**
   * An existing collection; ERR_NOT_FOUND if there is none by that name.
   * An embedder must be the one the collection was built with
   * (ERR_EMBEDDER_MISMATCH otherwise); the first one given to a collection
   * created without one is recorded.
   */
  async getCollection(name: string, options: GetCollectionOptions = {}): Promise<Collection> {
    this.#check();
    checkCollectionName(name);
    if (options === null || typeof options !== 'object') fail(ErrorCode.INVALID_ARGUMENT, `options must be an object; received ${describe(options)}`);
    const embedder = options.embedder;
    return this.#host.queue.run(async () => {
      this.#check();
      const row = this.#store.collection(name);
      if (!row) throw createError(ErrorCode.NOT_FOUND, `no collection named ${JSON.stringify(name)}`);
      if (embedder) {
        const identity = checkEmbedder(name, row.embedder, row.dim, embedder);
        if (row.embedder === null && !this.#host.readOnly) await this.#store.setEmbedder(row.cid, identity);
      }
      const open = this.#open.get(name);
      if (open) {
        if (embedder) open.setEmbedder(embedder);
        return open;
      }
      const info = this.#info(row);
      const index = await CollectionIndex.open(Collection.owner(this.#host, info), info.dim);
      const col = new Collection(this.#host, info, index, embedder);
      this.#open.set(name, col);
      return col;
    });
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

  /** @internal The name of collection number `cid`, if it exists. */
  async collectionNameOf(cid: number): Promise<string | undefined> {
    this.#check();
    return this.#store.collectionById(cid)?.name;
  }

  /** Number of collections. */
  async countCollections(): Promise<number> {
    this.#check();
    return this.#store.countCollections();
  }

  /**
   * Renames a collection and/or replaces its metadata; what is not given
   * stays as it is. A new name follows the rules of createCollection
   * (ERR_DUPLICATE_ID if taken); open handles follow the new name. The
   * metric cannot change: a `'hnsw:space'` in the new metadata must be the
   * collection's metric, and other `'hnsw:*'` keys are refused as at
   * creation. All or nothing.
   *
   * @example
   * await client.modifyCollection('drafts', { name: 'articles', metadata: { owner: 'search' } });
   */
  async modifyCollection(name: string, changes: ModifyCollectionOptions): Promise<void> {
    this.#check();
    checkCollectionName(name);
    await this.#modify(undefined, name, changes);
  }

  async #modify(cid: number | undefined, name: string | undefined, changes: ModifyCollectionOptions): Promise<void> {
    if (changes === null || typeof changes !== 'object') fail(ErrorCode.INVALID_ARGUMENT, `modify expects an object like { name, metadata }; received ${describe(changes)}`);
    for (const key of Object.keys(changes)) {
      if (key !== 'name' && key !== 'metadata') fail(ErrorCode.INVALID_ARGUMENT, `modify takes name and metadata; received the option ${JSON.stringify(key)}`);
    }
    const newName = changes.name === undefined ? undefined : checkCollectionName(changes.name);
    const metadata = changes.metadata === undefined ? undefined : checkMetadata(changes.metadata, 'metadata');
    await this.#host.queue.run(async () => {
      this.#check();
      const row = cid !== undefined ? this.#store.collectionById(cid) : this.#store.collection(name as string);
      if (!row) throw createError(ErrorCode.NOT_FOUND, name === undefined ? 'the collection was deleted; get it again (or create it) to change it' : `no collection named ${JSON.stringify(name)}`);
      if (metadata) {
        const metric = collectionMetric(undefined, metadata);
        if (metadata[HNSW_SPACE] !== undefined && metric !== row.metric) {
          fail(
            ErrorCode.INVALID_ARGUMENT,
            `the metric of the collection ${JSON.stringify(row.name)} is ${JSON.stringify(row.metric)} and cannot change; metadata["hnsw:space"] must be ${JSON.stringify(row.metric)} or absent`,
          );
        }
      }
      const rename = newName !== undefined && newName !== row.name ? newName : undefined;
      await this.#store.modifyCollection(row.cid, row.name, { name: rename, metadata });
      const open = this.#open.get(row.name);
      open?.modified({ name: rename, metadata });
      if (open && rename !== undefined) {
        this.#open.delete(row.name);
        this.#open.set(rename, open);
      }
    });
  }

  /** Deletes a collection and its records; ERR_NOT_FOUND if absent. Handles to it refuse work from then on. */
  async deleteCollection(name: string): Promise<void> {
    this.#checkWritable('deleteCollection');
    checkCollectionName(name);
    await this.#host.queue.run(async () => {
      this.#check();
      const row = this.#store.collection(name);
      if (!row) throw createError(ErrorCode.NOT_FOUND, `no collection named ${JSON.stringify(name)}`);
      const snap = this.#store.snapshot(row.cid);
      await this.#store.deleteCollection(row.cid);
      this.#open.get(name)?.invalidate('deleted');
      this.#open.delete(name);
      if (snap && this.#host.snapshots) rmSync(join(this.#host.snapshots, snap.file), { force: true });
    });
  }

  /**
   * Saves a snapshot of every open collection's index whose database has
   * changed since its last snapshot (persistent clients; a no-op in memory).
   * Writes wait for it (they are queued, the event loop is not blocked).
   * Called by close().
   */
  async checkpoint(): Promise<void> {
    this.#check();
    if (!this.#dir || this.#host.readOnly) return;
    await this.#host.queue.run(async () => {
      for (const col of this.#open.values()) await col.index.snapshot();
      this.#removeStrayFiles();
    });
  }

  /** Files no snapshot row points at: a crash between save and record, or during a save. */
  #removeStrayFiles(): void {
    const snapshots = this.#host.snapshots;
    if (!snapshots) return;
    const keep = new Set(this.#store.collections().map((c) => this.#store.snapshot(c.cid)?.file));
    for (const f of readdirSync(snapshots)) if (!keep.has(f)) rmSync(join(snapshots, f), { force: true });
  }

  /** Checkpoints and closes the database. The client and its collections cannot be used afterwards. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.checkpoint();
    await this.#host.queue.run(async () => {
      if (this.#closed) return;
      this.#closed = true;
      for (const col of this.#open.values()) col.invalidate('closed');
      this.#open.clear();
      await this.#store.writer.close();
      this.#db.close();
      this.#lock?.release();
    });
  }
}

function checkBoolean(value: unknown, name: string): boolean {
  if (value !== undefined && typeof value !== 'boolean') fail(ErrorCode.INVALID_ARGUMENT, `${name} must be a boolean; received ${describe(value)}`);
  return value === true;
}

function checkClientOptions(options: unknown): OpenOptions {
  if (options === null || typeof options !== 'object') fail(ErrorCode.INVALID_ARGUMENT, `options must be an object; received ${describe(options)}`);
  const onWarning = (options as ClientOptions).onWarning;
  if (onWarning !== undefined && typeof onWarning !== 'function') fail(ErrorCode.INVALID_ARGUMENT, `onWarning must be a function; received ${describe(onWarning)}`);
  return options as OpenOptions;
}
