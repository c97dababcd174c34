/**
 * The native index of one collection: a cache of the embeddings in the
 * database, keyed by record rid. It is opened from the collection's
 * snapshot (when the file's size and payload checksum are the ones recorded
 * for it) and caught up with the changes logged since, or else rebuilt from
 * the database; every write keeps it in step; checkpoints snapshot it.
 *
 * All of it runs in the client's write queue, so what it reads from the
 * database is consistent with what it has applied.
 */
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';

import { SemvecWarning, WarningCode } from '../errors.js';
import { FlatIndex } from '../flat-index.js';
import { IVFIndex, suggestNlist } from '../ivf-index.js';
import type { Metric } from '../vector-index.js';
import type { CollectionStore, EmbeddingScan } from './store.js';

/** Records at which an 'ivf' collection moves from exact to IVF search. */
export const IVF_MIN_RECORDS = 10_000;

/** Lists an 'ivf' collection probes per query unless a query says otherwise. */
export const COLLECTION_NPROBE = 16;

export type IndexKind = 'flat' | 'ivf';

/** What an index needs to know of its collection. */
export interface IndexOwner {
  store: CollectionStore;
  cid: number;
  name: string;
  metric: Metric;
  kind: IndexKind;
  /** The directory of snapshots (persistent clients). */
  snapshots: string | undefined;
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

async function loadAny(path: string): Promise<FlatIndex | IVFIndex> {
  try {
    return await FlatIndex.loadAsync(path);
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_WRONG_INDEX_KIND') throw err;
    return IVFIndex.loadAsync(path);
  }
}

export class CollectionIndex {
  #owner: IndexOwner;
  #index: FlatIndex | IVFIndex | undefined;
  /** Vectors in the index (kept here: reading it natively takes the index's lock). */
  #size = 0;
  /** Differs from its snapshot by more than the logged changes (rebuilt, caught up, or moved to IVF). */
  #dirty = false;
  /** Records of the database left out of the index because their embedding is damaged. */
  #skipped = 0;

  private constructor(owner: IndexOwner) {
    this.#owner = owner;
  }

  /** The native index; undefined while the collection has no dimension. */
  get native(): FlatIndex | IVFIndex | undefined {
    return this.#index;
  }

  get size(): number {
    return this.#size;
  }

  /** The collection was renamed (warnings name it). */
  rename(name: string): void {
    this.#owner = { ...this.#owner, name };
  }

  /** An empty index for a new collection. */
  static empty(owner: IndexOwner): CollectionIndex {
    return new CollectionIndex(owner);
  }

  /** The index of an existing collection: its snapshot caught up, or rebuilt from the database. */
  static async open(owner: IndexOwner, dim: number | undefined): Promise<CollectionIndex> {
    const ci = new CollectionIndex(owner);
    if (dim === undefined) return ci;
    if (!(await ci.#fromSnapshot(dim))) await ci.rebuild(dim);
    await ci.useIvfIfLarge(dim);
    return ci;
  }

  /** Loads the snapshot and applies the changes logged after it; false when it cannot be trusted. */
  async #fromSnapshot(dim: number): Promise<boolean> {
    const { store, cid, snapshots, metric } = this.#owner;
    const snap = store.snapshot(cid);
    if (!snap || !snapshots) return false;
    const path = join(snapshots, snap.file);
    const seal = await fileSeal(path);
    const why = (reason: string) => {
      this.#owner.warn(new SemvecWarning(WarningCode.SNAPSHOT_REBUILT, `collection ${JSON.stringify(this.#owner.name)}: the index snapshot ${path} ${reason}; the index was rebuilt from the database`));
      return false;
    };
    if (!seal) return snap.bytes === null ? false : why('is missing or unreadable');
    // A snapshot is bound to the file written for it: another valid index
    // file in its place (same count, other vectors) is not trusted.
    if (snap.bytes === null || snap.crc === null || seal.bytes !== snap.bytes || seal.crc !== snap.crc) return why('is not the file recorded for it');
    let index: FlatIndex | IVFIndex;
    try {
      index = await loadAny(path);
    } catch (err) {
      return why(`cannot be loaded (${(err as Error).message})`);
    }
    if (index.dim !== dim || index.metric !== metric) return why('has another dimension or metric');
    this.#index = index;
    this.#size = index.size;
    const changes = await store.changesSince(cid, snap.seq);
    if (changes.size > 0) {
      const all = [...changes.keys()];
      await this.remove(all.filter((rid) => index.has(rid)));
      await this.#add(dim, await store.embeddings(cid, dim, all.filter((rid) => changes.get(rid))));
      this.#dirty = true;
    }
    if (this.#size + this.#skipped !== store.count(cid)) {
      this.#index = undefined;
      this.#size = 0;
      return why('disagrees with the database');
    }
    return true;
  }

  /** Builds the index again from every embedding in the database. */
  async rebuild(dim: number): Promise<void> {
    const { store, cid, metric } = this.#owner;
    this.#index = new FlatIndex({ dim, metric });
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

  #ensure(dim: number): FlatIndex | IVFIndex {
    this.#index ??= new FlatIndex({ dim, metric: this.#owner.metric });
    return this.#index;
  }

  /** Adds committed vectors; with `replacing`, rids already indexed are replaced. */
  async put(dim: number, rids: readonly number[], vectors: Float32Array, replacing: boolean): Promise<void> {
    const index = this.#ensure(dim);
    if (replacing) await this.remove(rids.filter((rid) => index.has(rid)));
    await index.addAsync(vectors, rids);
    this.#size += rids.length;
    await this.useIvfIfLarge(dim);
  }

  /** Removes indexed rids (every one must be in the index). */
  async remove(rids: readonly number[]): Promise<void> {
    if (!this.#index || rids.length === 0) return;
    this.#size -= await this.#index.removeAsync(rids);
  }

  /** Removes the rids that are indexed, ignoring the others. */
  async removePresent(rids: readonly number[]): Promise<void> {
    const index = this.#index;
    if (index) await this.remove(rids.filter((rid) => index.has(rid)));
  }

  /** An 'ivf' collection moves from exact search to IVF once it is large enough (training off the event loop). */
  async useIvfIfLarge(dim: number): Promise<void> {
    if (this.#owner.kind !== 'ivf' || !(this.#index instanceof FlatIndex) || this.#size < IVF_MIN_RECORDS) return;
    const { rids, vectors } = await this.#owner.store.embeddings(this.#owner.cid, dim);
    const ivf = new IVFIndex({ dim, metric: this.#owner.metric, nlist: suggestNlist(rids.length), nprobe: COLLECTION_NPROBE });
    await ivf.trainAsync(vectors);
    await ivf.addAsync(vectors, rids);
    this.#index = ivf;
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
    await this.#index.saveAsync(path);
    const seal = await fileSeal(path);
    if (!seal) return; // cannot happen for a file just written; the snapshot is simply not recorded
    const old = store.snapshot(cid);
    await store.recordSnapshot(cid, seq, file, seal.bytes, seal.crc);
    this.#dirty = false;
    if (old && old.file !== file) await rm(join(snapshots, old.file), { force: true });
  }
}
