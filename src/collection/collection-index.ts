/**
 * The native index of one collection: a cache of the embeddings in the
 * database, keyed by record rid. It is opened from the collection's
 * snapshot (when the file's size and payload checksum are the ones recorded
 * for it) and caught up with the changes logged since, or else rebuilt from
 * the database; every write keeps it in step; checkpoints snapshot it.
 * With `mapped`, the snapshot is mapped rather than read (layered-index.ts):
 * processes that open the collection share its pages, the changes since it
 * sit in a small delta, and a checkpoint is taken once they grow.
 *
 * All of it runs in the client's write queue, so what it reads from the
 * database is consistent with what it has applied.
 */
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';

import { SemvecWarning, WarningCode } from '../errors.js';
import { FlatIndex } from '../flat-index.js';
import { GraphIndex } from '../graph-index.js';
import { AUTO_IVF, IVFIndex, suggestNlist } from '../ivf-index.js';
import type { Metric, SearchResult } from '../vector-index.js';
import type { Matching } from './matching.js';
import type { IVFEncoding } from '../native.js';
import type { IndexKind } from './types.js';
import { LayeredIndex, loadAny } from './layered-index.js';
import { SearchBatcher } from './search-batcher.js';
import { Op, type CollectionStore, type EmbeddingScan } from './store.js';

type Index = FlatIndex | IVFIndex | GraphIndex | LayeredIndex;

const isIvf = (index: Index): boolean => index instanceof IVFIndex || (index instanceof LayeredIndex && index.isIvf);

/** What an index needs to know of its collection. */
export interface IndexOwner {
  store: CollectionStore;
  /** A read-only client's (another client writes the directory). */
  readOnly: boolean;
  cid: number;
  name: string;
  metric: Metric;
  kind: IndexKind;
  /** 'ivf' collections: the list encoding of the IVF index. */
  encoding: IVFEncoding;
  /** The directory of snapshots (persistent clients). */
  snapshots: string | undefined;
  /** Map snapshots instead of reading them (persistent clients), checking each one's checksum and contents first with `verify`. */
  mapped: { verify: boolean } | undefined;
  warn(warning: SemvecWarning): void;
}

/** The size and payload checksum of an index file (its trailer: u32 CRC-32C, "XEND"). */
export async function fileSeal(path: string): Promise<{ bytes: number; crc: number } | undefined> {
  let handle;
  try {
    handle = await open(path, 'r');
    const { size } = await handle.stat();
    if (size < 8) return undefined;
    const trailer = Buffer.alloc(8);
    await handle.read(trailer, 0, 8, size - 8);
    if (trailer.toString('latin1', 4) !== 'XEND') return undefined;
    return { bytes: size, crc: trailer.readUInt32LE(0) };
  } catch {
    return undefined;
  } finally {
    await handle?.close();
  }
}

export class CollectionIndex {
  #owner: IndexOwner;
  #index: Index | undefined;
  /** Vectors in the index (kept here: reading it natively takes the index's lock). */
  #size = 0;
  /** Differs from its snapshot by more than the logged changes (rebuilt, caught up, or moved to IVF). */
  #dirty = false;
  /** Records of the database left out of the index because their embedding is damaged. */
  #skipped = 0;
  /** The sequence number of the last change the index reflects. */
  #seq = 0;
  /** Searches running, and indexes replaced while they ran (closed once none runs). */
  #searching = 0;
  readonly #retired: Index[] = [];
  /** Unfiltered exact searches that arrive while one runs go together (search-batcher.ts). */
  readonly #batcher = new SearchBatcher(async (queries, k) => {
    // The index at the time the batch runs (an 'ivf' collection may have moved to IVF meanwhile).
    const index = this.#index as Index;
    return index instanceof FlatIndex ? index.searchBatchAsync(queries, k) : index.searchBatchAsync(queries, k, {});
  });

  private constructor(owner: IndexOwner) {
    this.#owner = owner;
  }

  /** The bytes of the index mapped from its snapshot, and in this process's memory. */
  memory(): { mapped: number; heap: number } {
    const index = this.#index;
    if (index instanceof LayeredIndex) return index.memory();
    return { mapped: 0, heap: index?.memoryUsage() ?? 0 };
  }

  /** The native index; undefined while the collection has no dimension. */
  get native(): Index | undefined {
    return this.#index;
  }

  get size(): number {
    return this.#size;
  }

  /** The sequence number of the last change the index reflects. */
  get seq(): number {
    return this.#seq;
  }

  /** After a write of this client: the index reflects up to `seq`. */
  advance(seq: number): void {
    this.#seq = Math.max(this.#seq, seq);
  }

  /** The collection was renamed (warnings name it). */
  rename(name: string): void {
    this.#owner = { ...this.#owner, name };
  }

  /** An empty index for a new collection. */
  static empty(owner: IndexOwner): CollectionIndex {
    return new CollectionIndex(owner);
  }

  /**
   * The index of an existing collection: its snapshot caught up, or rebuilt
   * from the database. Everything is read in one read transaction; a
   * snapshot file that another client replaced meanwhile (it removes the old
   * one) is looked up again.
   */
  static async open(owner: IndexOwner, dim: number | undefined): Promise<CollectionIndex> {
    const ci = new CollectionIndex(owner);
    for (let attempt = 0; ; attempt++) {
      const done = await owner.store.consistent(async () => {
        const upTo = owner.store.lastSeq();
        if (dim !== undefined) {
          const found = await ci.#fromSnapshot(dim, upTo, attempt >= 3);
          if (found === 'replaced') return false;
          if (found === 'untrusted') await ci.rebuild(dim);
        }
        ci.#seq = upTo;
        return true;
      });
      if (done) break;
    }
    if (dim !== undefined) await ci.useIvfIfLarge(dim);
    return ci;
  }

  /**
   * Loads the snapshot and applies the changes logged after it up to
   * `upTo`. 'untrusted': there is none, or it cannot be trusted (rebuild);
   * 'replaced': its file is gone because a newer snapshot replaced it (look
   * again, unless this is the last try).
   */
  async #fromSnapshot(dim: number, upTo: number, lastTry: boolean): Promise<'loaded' | 'untrusted' | 'replaced'> {
    const { store, cid, snapshots, metric } = this.#owner;
    const snap = store.snapshot(cid);
    if (!snap || !snapshots) return 'untrusted';
    const path = join(snapshots, snap.file);
    const seal = await fileSeal(path);
    const why = (reason: string): 'untrusted' => {
      this.#owner.warn(new SemvecWarning(WarningCode.SNAPSHOT_REBUILT, `collection ${JSON.stringify(this.#owner.name)}: the index snapshot ${path} ${reason}; the index was rebuilt from the database`));
      return 'untrusted';
    };
    if (!seal && !lastTry && this.#owner.readOnly) return 'replaced';
    if (!seal) return snap.bytes === null ? 'untrusted' : why('is missing or unreadable');
    // A snapshot is bound to the file written for it: another valid index
    // file in its place (same count, other vectors) is not trusted.
    if (snap.bytes === null || snap.crc === null || seal.bytes !== snap.bytes || seal.crc !== snap.crc) return why('is not the file recorded for it');
    let index: Index;
    try {
      index = await this.#openFile(path);
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_NOT_FOUND' && !lastTry && this.#owner.readOnly) return 'replaced';
      return why(`cannot be loaded (${(err as Error).message})`);
    }
    if (index.dim !== dim || index.metric !== metric) return why('has another dimension or metric');
    this.#index = index;
    this.#size = index.size;
    const changes = await store.changesBetween(cid, snap.seq, upTo);
    if (changes.size > 0) {
      await this.apply(dim, changes);
      this.#dirty = true;
    }
    if (this.#size + this.#skipped !== store.count(cid)) {
      this.#index = undefined;
      this.#retire(index);
      this.#size = 0;
      return why('disagrees with the database');
    }
    return 'loaded';
  }

  /**
   * A snapshot file: mapped (layered), or read into memory when the client
   * does not map or the file is of an older format (the next checkpoint
   * writes the current one).
   */
  async #openFile(path: string): Promise<Index> {
    const mapped = this.#owner.kind === 'graph' ? undefined : this.#owner.mapped; // graphs are read into memory
    if (mapped) {
      try {
        return await LayeredIndex.open(path, mapped.verify);
      } catch (err) {
        if ((err as { code?: string }).code !== 'ERR_UNSUPPORTED_VERSION') throw err;
        this.#dirty = !this.#owner.readOnly;
      }
    }
    return loadAny(path);
  }

  /** Applies logged changes (rid -> operation, see Op): deleted and re-put vectors leave, put ones are read and added. */
  async apply(dim: number, changes: ReadonlyMap<number, number>): Promise<void> {
    const changed = [...changes].filter(([, op]) => op !== Op.META).map(([rid]) => rid);
    if (changed.length === 0) return;
    await this.removePresent(changed);
    await this.#add(dim, await this.#owner.store.embeddings(this.#owner.cid, dim, changed.filter((rid) => changes.get(rid) === Op.PUT)));
    await this.useIvfIfLarge(dim);
  }

  /**
   * Brings the index of a read-only client up to the latest committed
   * change, in one read transaction. Returns the changes applied, or
   * 'reload' when the writer has dropped changes this index still needs
   * (open the collection's index again, from the newer snapshot).
   */
  async catchUp(dim: number): Promise<ReadonlyMap<number, number> | 'reload'> {
    const { store, cid } = this.#owner;
    return store.consistent(async () => {
      const upTo = store.lastSeq();
      if (upTo <= this.#seq) return new Map<number, number>();
      const snap = store.snapshot(cid);
      if (snap && snap.pruned_seq > this.#seq) return 'reload';
      // A newer snapshot to map: the old one's pages (and its unlinked file) are let go.
      if (snap && this.#index instanceof LayeredIndex && !this.#index.path.endsWith(`/${snap.file}`)) return 'reload';
      const changes = await store.changesBetween(cid, this.#seq, upTo);
      await this.apply(dim, changes);
      this.#seq = upTo;
      return changes;
    });
  }

  /** Builds the index again from every embedding in the database. */
  async rebuild(dim: number): Promise<void> {
    const { store, cid } = this.#owner;
    const before = this.#index;
    this.#index = this.#fresh(dim);
    this.#retire(before);
    this.#size = 0;
    this.#skipped = 0;
    await this.#add(dim, await store.embeddings(cid, dim));
    this.#dirty = this.#owner.snapshots !== undefined;
  }

  /** Adds scanned embeddings, reporting the records that had to be left out. */
  async #add(dim: number, scan: EmbeddingScan): Promise<void> {
    if (scan.skipped.length > 0) {
      this.#skipped += scan.skipped.length;
      const ids = this.#owner.store.idsOfRids(scan.skipped.map((s) => s.rid));
      for (const s of scan.skipped) {
        this.#owner.warn(
          new SemvecWarning(
            WarningCode.SKIPPED_RECORD,
            `collection ${JSON.stringify(this.#owner.name)}: record ${JSON.stringify(ids.get(s.rid) ?? `#${s.rid}`)} is left out of search: ${s.reason} (rewrite it with upsert, or delete it)`,
          ),
        );
      }
    }
    if (scan.rids.length === 0) return;
    const index = this.#ensure(dim);
    await index.addAsync(scan.vectors, scan.rids);
    this.#size += scan.rids.length;
  }

  /** A new, empty index of the collection's kind ('ivf' starts exact). */
  #fresh(dim: number): FlatIndex | GraphIndex {
    const { kind, metric } = this.#owner;
    return kind === 'graph' ? new GraphIndex({ dim, metric }) : new FlatIndex({ dim, metric });
  }

  #ensure(dim: number): Index {
    this.#index ??= this.#fresh(dim);
    return this.#index;
  }

  /** Adds committed vectors; with `replacing`, rids already indexed are replaced. */
  async put(dim: number, rids: readonly number[], vectors: Float32Array, replacing: boolean): Promise<void> {
    const index = this.#ensure(dim);
    if (replacing) await this.remove(rids.filter((rid) => index.has(rid)));
    await index.addAsync(vectors, rids);
    this.#size += rids.length;
    await this.useIvfIfLarge(dim);
    await this.#checkpointIfDue();
  }

  /** A writer folds a grown delta into a new snapshot (layered-index.ts). */
  async #checkpointIfDue(): Promise<void> {
    if (!this.#owner.readOnly && this.#index instanceof LayeredIndex && this.#index.due) await this.snapshot();
  }

  /** Removes indexed rids (every one must be in the index). */
  async remove(rids: readonly number[]): Promise<void> {
    if (!this.#index || rids.length === 0) return;
    this.#size -= await this.#index.removeAsync(rids);
    await this.#checkpointIfDue();
  }

  /** Removes the rids that are indexed, ignoring the others. */
  async removePresent(rids: readonly number[]): Promise<void> {
    const index = this.#index;
    if (index) await this.remove(rids.filter((rid) => index.has(rid)));
  }

  /** An 'ivf' collection moves from exact search to IVF once it is large enough (training off the event loop). */
  async useIvfIfLarge(dim: number): Promise<void> {
    if (this.#owner.kind !== 'ivf' || !this.#index || isIvf(this.#index) || this.#size < AUTO_IVF.minVectors) return;
    const { rids, vectors } = await this.#owner.store.embeddings(this.#owner.cid, dim);
    const ivf = new IVFIndex({
      dim,
      metric: this.#owner.metric,
      nlist: suggestNlist(rids.length),
      nprobe: AUTO_IVF.nprobe,
      encoding: this.#owner.encoding,
    });
    await ivf.trainAsync(vectors);
    await ivf.addAsync(vectors, rids);
    const before = this.#index;
    this.#index = ivf;
    this.#retire(before);
    this.#size = rids.length;
    this.#dirty = true;
  }

  /** Whether a checkpoint has anything to write. */
  needsSnapshot(): boolean {
    return this.#index !== undefined && (this.#dirty || this.#owner.store.pendingChanges(this.#owner.cid) > 0);
  }

  /** Writes a snapshot of the index as of the latest change, records it, and removes the previous one. */
  async snapshot(): Promise<void> {
    const { store, cid, snapshots } = this.#owner;
    if (!snapshots || !this.#index || !this.needsSnapshot()) return;
    const seq = store.lastSeq();
    const file = `${cid}-${seq}.svx`;
    const path = join(snapshots, file);
    const index = this.#index;
    const whole = index instanceof LayeredIndex ? await index.materialize(await store.embeddings(cid, index.dim, index.deltaRids())) : index;
    await whole.saveAsync(path);
    const seal = await fileSeal(path);
    if (!seal) return; // cannot happen for a file just written; the snapshot is simply not recorded
    const old = store.snapshot(cid);
    await store.recordSnapshot(cid, seq, file, seal.bytes, seal.crc);
    this.#dirty = false;
    // The file was checksummed as it was written: mapping it needs no second pass.
    const before = this.#index;
    this.#index = this.#owner.mapped && this.#owner.kind !== 'graph' ? await LayeredIndex.open(path, false) : whole;
    this.#retire(before);
    if (whole !== this.#index) this.#retire(whole);
    if (old && old.file !== file) await rm(join(snapshots, old.file), { force: true });
  }

  /** Closes a replaced index (its memory or mapping) once no search is using it. */
  #retire(index: Index | undefined): void {
    if (index && index !== this.#index) this.#retired.push(index);
    if (this.#searching === 0) for (const old of this.#retired.splice(0)) old.close();
  }

  /** Lets the index go (the collection was closed, deleted or reopened), once no search is using it. */
  close(): void {
    const index = this.#index;
    this.#index = undefined;
    this.#size = 0;
    this.#retire(index);
  }

  /**
   * Top-k per query among `allow` (all records when undefined). A wide
   * filter (over a tenth of the records) first tries an unfiltered search
   * for more results and keeps the allowed ones: when at least k pass, they
   * are exactly the filtered top-k, without building a large allow-list
   * natively. Otherwise (and for narrow filters) the native search takes the
   * allow-list.
   */
  async search(queries: Float32Array, k: number, allow: Matching | undefined, nprobe: number | undefined): Promise<SearchResult[]> {
    this.#searching++;
    try {
      return await this.#search(queries, k, allow, nprobe);
    } finally {
      this.#searching--;
      this.#retire(undefined);
    }
  }

  async #search(queries: Float32Array, k: number, allow: Matching | undefined, nprobe: number | undefined): Promise<SearchResult[]> {
    const index = this.#index as Index;
    const size = this.#size;
    const run = (kk: number, allowIds?: Float64Array) =>
      index instanceof FlatIndex ? index.searchBatchAsync(queries, kk, { allowIds }) : index.searchBatchAsync(queries, kk, { allowIds, nprobe });
    // Exact search (flat, mapped or not) batches and widens filters; a graph filters in its walk (or scans a narrow allow-list) by itself.
    const exact = index instanceof FlatIndex || (index instanceof LayeredIndex && !index.isIvf);
    if (allow === undefined && exact) return this.#batcher.search(queries, queries.length / index.dim, k);
    if (allow === undefined) return run(k);
    const selectivity = allow.count / size;
    if (selectivity > 0.1 && exact) {
      const wider = Math.min(size, Math.ceil((k * 2) / selectivity) + 16);
      const loose = await run(wider);
      const kept = loose.map((r) => {
        const keep: number[] = [];
        for (let j = 0; j < r.ids.length && keep.length < k; j++) if (allow.has(r.ids[j] as number)) keep.push(j);
        return { ids: Float64Array.from(keep, (j) => r.ids[j] as number), scores: Float32Array.from(keep, (j) => r.scores[j] as number) };
      });
      if (kept.every((r) => r.ids.length === Math.min(k, allow.count))) return kept;
    }
    return run(k, allow.rids());
  }
}
