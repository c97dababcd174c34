/**
 * A node's copy of one shard: for each collection with records in the
 * shard, semvec's exact index (FlatIndex, keyed by a number per record),
 * the metadata as typed columns for `where` filters (the collection
 * layer's MetadataColumns and evaluate), and the documents for
 * `whereDocument`. It reflects the shard up to `seq` (see change-log.ts).
 *
 * Searches share the shard; applying changes takes it alone (a small
 * readers-writer lock, writers first), so a search never sees a record
 * half applied.
 */
import { evaluate, parseWhere, type Where, type WhereDocument } from '../collection/filter.js';
import type { Metadata } from '../collection/metadata.js';
import { MetadataColumns } from '../collection/metadata-columns.js';
import { FlatIndex } from '../flat-index.js';
import type { Metric } from '../vector-index.js';
import type { CollectionDescription, StoredRecord } from './change-log.js';
import { documentPredicate } from './filters.js';

/** A readers-writer lock for promises: FIFO, so a waiting writer holds back later readers. */
export class RwLock {
  #readers = 0;
  #writer = false;
  readonly #queue: { write: boolean; go: () => void }[] = [];

  async #acquire(write: boolean): Promise<void> {
    if (this.#queue.length === 0 && !this.#writer && (write ? this.#readers === 0 : true)) {
      if (write) this.#writer = true;
      else this.#readers++;
      return;
    }
    await new Promise<void>((go) => this.#queue.push({ write, go }));
  }

  #release(write: boolean): void {
    if (write) this.#writer = false;
    else this.#readers--;
    while (this.#queue.length > 0 && !this.#writer) {
      const next = this.#queue[0] as { write: boolean; go: () => void };
      if (next.write && this.#readers > 0) break;
      this.#queue.shift();
      if (next.write) this.#writer = true;
      else this.#readers++;
      next.go();
      if (next.write) break;
    }
  }

  async run<T>(write: boolean, fn: () => Promise<T> | T): Promise<T> {
    await this.#acquire(write);
    try {
      return await fn();
    } finally {
      this.#release(write);
    }
  }
}

/** The records of one collection in one shard. */
export class ShardPart {
  readonly cid: number;
  readonly metric: Metric;
  readonly dim: number;
  index: FlatIndex;
  readonly keyOf = new Map<string, number>();
  readonly idOf = new Map<number, string>();
  readonly metadata = new Map<number, Metadata | null>();
  readonly documents = new Map<number, string | null>();
  readonly columns = new MetadataColumns();
  nextKey = 0;

  constructor(cid: number, metric: Metric, dim: number, index?: FlatIndex) {
    this.cid = cid;
    this.metric = metric;
    this.dim = dim;
    this.index = index ?? new FlatIndex({ dim, metric });
  }

  get size(): number {
    return this.keyOf.size;
  }

  /** Adds or replaces records (their embeddings must have this part's dimension). */
  async put(records: readonly StoredRecord[]): Promise<void> {
    const replaced = records.map((r) => this.keyOf.get(r.id)).filter((k): k is number => k !== undefined);
    if (replaced.length > 0) await this.index.removeAsync(replaced);
    const keys = new Float64Array(records.length);
    const vectors = new Float32Array(records.length * this.dim);
    records.forEach((r, i) => {
      let key = this.keyOf.get(r.id);
      if (key === undefined) {
        key = this.nextKey++;
        this.keyOf.set(r.id, key);
        this.idOf.set(key, r.id);
      }
      keys[i] = key;
      vectors.set(r.embedding, i * this.dim);
      this.metadata.set(key, r.metadata);
      this.documents.set(key, r.document);
      this.columns.set(key, r.metadata);
    });
    await this.index.addAsync(vectors, keys);
  }

  /** Removes records by id (ids not held are ignored). */
  async remove(ids: readonly string[]): Promise<void> {
    const keys = ids.map((id) => this.keyOf.get(id)).filter((k): k is number => k !== undefined);
    if (keys.length === 0) return;
    await this.index.removeAsync(keys);
    for (const key of keys) {
      const id = this.idOf.get(key) as string;
      this.keyOf.delete(id);
      this.idOf.delete(key);
      this.metadata.delete(key);
      this.documents.delete(key);
      this.columns.delete(key);
    }
  }

  /** The keys allowed by the filters, or undefined when nothing restricts them. */
  allowed(filters: SearchFilters): Float64Array | undefined {
    let keys: number[] | undefined;
    if (filters.ids !== undefined) keys = filters.ids.map((id) => this.keyOf.get(id)).filter((k): k is number => k !== undefined);
    if (filters.where !== undefined) {
      const mask = evaluate(parseWhere(filters.where), this.columns);
      keys = keys === undefined ? Array.from(this.columns.select(mask)) : keys.filter((k) => mask[this.columns.slotOf(k) ?? -1] === 1);
    }
    if (filters.whereDocument !== undefined) {
      const matches = documentPredicate(filters.whereDocument);
      keys = (keys ?? [...this.documents.keys()]).filter((k) => matches(this.documents.get(k) ?? null));
    }
    return keys === undefined ? undefined : Float64Array.from(keys);
  }
}

export interface SearchFilters {
  ids?: readonly string[];
  where?: Where;
  whereDocument?: WhereDocument;
}

/** One match found in a shard. */
export interface ShardMatch {
  id: string;
  score: number;
  metadata?: Metadata | null;
  document?: string | null;
}

export class ShardReplica {
  readonly shard: number;
  /** The last change applied, and its write token (see change-log.ts). */
  seq = 0;
  token = 0;
  readonly parts = new Map<number, ShardPart>();
  readonly lock = new RwLock();
  /** Changes applied since the last snapshot. */
  unsaved = 0;

  constructor(shard: number) {
    this.shard = shard;
  }

  /** Records held, over all collections. */
  get size(): number {
    let n = 0;
    for (const p of this.parts.values()) n += p.size;
    return n;
  }

  #part(cid: number, collections: ReadonlyMap<number, CollectionDescription>): ShardPart | undefined {
    let part = this.parts.get(cid);
    const c = collections.get(cid);
    if (!part && c && c.dim !== null) {
      part = new ShardPart(cid, c.metric, c.dim);
      this.parts.set(cid, part);
    }
    return part;
  }

  /**
   * Applies changed keys: the records given are put, the other changed keys
   * removed. Records of collections that no longer exist are left out.
   */
  async apply(changed: readonly { cid: number; id: string }[], records: readonly StoredRecord[], collections: ReadonlyMap<number, CollectionDescription>): Promise<void> {
    const present = new Set(records.map((r) => `${r.cid}\u0000${r.id}`));
    const gone = new Map<number, string[]>();
    for (const k of changed) if (!present.has(`${k.cid}\u0000${k.id}`)) gone.set(k.cid, [...(gone.get(k.cid) ?? []), k.id]);
    for (const [cid, ids] of gone) await this.parts.get(cid)?.remove(ids);
    await this.load(records, collections);
    this.unsaved += changed.length;
  }

  /** Puts records (a rebuild's chunks, or applied changes). */
  async load(records: readonly StoredRecord[], collections: ReadonlyMap<number, CollectionDescription>): Promise<void> {
    const byCid = new Map<number, StoredRecord[]>();
    for (const r of records) byCid.set(r.cid, [...(byCid.get(r.cid) ?? []), r]);
    for (const [cid, list] of byCid) {
      const part = this.#part(cid, collections);
      if (!part) continue;
      const fitting = list.filter((r) => r.embedding.length === part.dim);
      if (fitting.length > 0) await part.put(fitting);
    }
  }

  /** Drops the parts of collections that no longer exist. */
  dropMissing(collections: ReadonlyMap<number, CollectionDescription>): void {
    for (const cid of this.parts.keys()) if (!collections.has(cid)) this.parts.delete(cid);
  }

  /** The top k of each query in this shard's part of collection `cid`, best first. */
  async search(cid: number, queries: Float32Array, nq: number, k: number, filters: SearchFilters, include: { metadatas: boolean; documents: boolean }): Promise<ShardMatch[][]> {
    const part = this.parts.get(cid);
    if (!part || part.size === 0) return Array.from({ length: nq }, () => []);
    const allowIds = part.allowed(filters);
    if (allowIds !== undefined && allowIds.length === 0) return Array.from({ length: nq }, () => []);
    const results = await part.index.searchBatchAsync(queries, k, allowIds ? { allowIds } : undefined);
    return results.map((r) =>
      Array.from(r.ids, (key, j) => {
        const m: ShardMatch = { id: part.idOf.get(key) as string, score: r.scores[j] as number };
        if (include.metadatas) m.metadata = part.metadata.get(key) ?? null;
        if (include.documents) m.document = part.documents.get(key) ?? null;
        return m;
      }),
    );
  }
}
