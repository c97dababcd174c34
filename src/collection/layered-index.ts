/**
 * A collection's index as a mapped snapshot plus what changed since: the
 * snapshot file is mapped read-only (FlatIndex.open / IVFIndex.open), so
 * every process that opens the collection shares one copy of its pages;
 * records written after it live in a small in-memory delta index (for IVF,
 * one with the snapshot's centroids), and records of the snapshot that
 * were deleted or rewritten since are hidden. A search asks the snapshot
 * for k more results than it hides, drops the hidden ones, and merges with
 * the delta's by score, so it returns exactly what one index holding the
 * live records would (for IVF, with the same probes).
 *
 * A checkpoint folds the layers into a new snapshot (materialize); it is
 * due once the delta and the hidden set reach a fraction of the snapshot
 * (due), which keeps both, and the extra k, small.
 */
import { FlatIndex } from '../flat-index.js';
import { GraphIndex } from '../graph-index.js';
import { IVFIndex } from '../ivf-index.js';
import type { Metric, SearchResult } from '../vector-index.js';

type Index = FlatIndex | IVFIndex;

export interface LayeredSearchOptions {
  allowIds?: Float64Array;
  nprobe?: number;
}

/** Changes (delta plus hidden) after which a checkpoint is due: a tenth of the snapshot, and at least this many. */
const MIN_CHANGES_BEFORE_CHECKPOINT = 10_000;

/** Maps a snapshot file of either kind (format 3). */
async function openAny(path: string, verify: boolean): Promise<Index> {
  try {
    return await FlatIndex.openAsync(path, { verify });
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_WRONG_INDEX_KIND') throw err;
    return IVFIndex.openAsync(path, { verify });
  }
}

/** Reads a snapshot file of any kind into memory. */
export async function loadAny(path: string): Promise<FlatIndex | IVFIndex | GraphIndex> {
  for (const cls of [FlatIndex, IVFIndex]) {
    try {
      return await cls.loadAsync(path);
    } catch (err) {
      if ((err as { code?: string }).code !== 'ERR_WRONG_INDEX_KIND') throw err;
    }
  }
  return GraphIndex.loadAsync(path);
}

export class LayeredIndex {
  readonly #path: string;
  readonly #base: Index;
  readonly #delta: Index;
  /** Rids of the base that no longer count (deleted, or rewritten into the delta). */
  readonly #hidden = new Set<number>();
  /** Rids of the delta. */
  readonly #added = new Set<number>();

  private constructor(path: string, base: Index) {
    this.#path = path;
    this.#base = base;
    this.#delta = base instanceof IVFIndex ? base.emptyLike() : new FlatIndex({ dim: base.dim, metric: base.metric });
  }

  /** Maps the snapshot at `path`; with `verify`, its checksum and contents are checked first (off the event loop). */
  static async open(path: string, verify: boolean): Promise<LayeredIndex> {
    return new LayeredIndex(path, await openAny(path, verify));
  }

  get path(): string {
    return this.#path;
  }

  get dim(): number {
    return this.#base.dim;
  }

  get metric(): Metric {
    return this.#base.metric;
  }

  /** Whether searches go through inverted lists. */
  get isIvf(): boolean {
    return this.#base instanceof IVFIndex;
  }

  get size(): number {
    return this.#base.size - this.#hidden.size + this.#delta.size;
  }

  /** Records changed since the snapshot (delta plus hidden). */
  get changes(): number {
    return this.#delta.size + this.#hidden.size;
  }

  /** Whether the changes have grown enough that folding them into a new snapshot pays. */
  get due(): boolean {
    return this.changes >= Math.max(MIN_CHANGES_BEFORE_CHECKPOINT, this.#base.size / 10);
  }

  /** Bytes of the mapped snapshot, and of the delta in memory. */
  memory(): { mapped: number; heap: number } {
    return { mapped: this.#base.mappedBytes(), heap: this.#delta.memoryUsage() };
  }

  has(rid: number): boolean {
    return this.#added.has(rid) || (this.#base.has(rid) && !this.#hidden.has(rid));
  }

  /** Adds vectors of rids the index does not hold. */
  async addAsync(vectors: Float32Array, rids: readonly number[]): Promise<void> {
    await this.#delta.addAsync(vectors, rids);
    for (const rid of rids) this.#added.add(rid);
  }

  /** Removes held rids; returns how many were removed. */
  async removeAsync(rids: readonly number[]): Promise<number> {
    const inDelta = rids.filter((rid) => this.#added.has(rid));
    let removed = inDelta.length > 0 ? await this.#delta.removeAsync(inDelta) : 0;
    for (const rid of inDelta) this.#added.delete(rid);
    for (const rid of rids) {
      if (!this.#hidden.has(rid) && this.#base.has(rid)) {
        this.#hidden.add(rid);
        removed++;
      }
    }
    return removed;
  }

  /** Top-k per query over the live records, as one index holding them would answer. */
  async searchBatchAsync(queries: Float32Array, k: number, options: LayeredSearchOptions = {}): Promise<SearchResult[]> {
    const { allowIds, nprobe } = options;
    const hidden = this.#hidden;
    // With an allow-list the hidden rids are taken out of it; without, the base is asked for enough to drop them.
    const baseAllow = allowIds && hidden.size > 0 ? allowIds.filter((rid) => !hidden.has(rid)) : allowIds;
    const baseK = Math.max(1, Math.min(this.#base.size, allowIds ? k : k + hidden.size));
    const run = (index: Index, kk: number, allow: Float64Array | undefined) =>
      index instanceof IVFIndex ? index.searchBatchAsync(queries, kk, { allowIds: allow, nprobe }) : index.searchBatchAsync(queries, kk, { allowIds: allow });
    const [fromBase, fromDelta] = await Promise.all([
      this.#base.size > 0 ? run(this.#base, baseK, baseAllow) : undefined,
      this.#delta.size > 0 ? run(this.#delta, k, allowIds) : undefined,
    ]);
    const count = queries.length / this.dim;
    const lowerIsNearer = this.metric === 'l2';
    return Array.from({ length: count }, (_, q) => mergeResults(fromBase?.[q], fromDelta?.[q], hidden, k, lowerIsNearer));
  }

  /**
   * The live records as one index in memory: the snapshot read again, the
   * hidden rids removed and `added` (the delta's rids with their vectors,
   * read from the database by the caller) added.
   */
  async materialize(added: { rids: readonly number[]; vectors: Float32Array }): Promise<Index> {
    const index = (await loadAny(this.#path)) as Index; // a layered base is flat or IVF
    const hidden = [...this.#hidden];
    if (hidden.length > 0) await index.removeAsync(hidden);
    if (added.rids.length > 0) await index.addAsync(added.vectors, added.rids);
    return index;
  }

  /** Releases the mapping and the delta (VectorIndex.close). */
  close(): void {
    this.#base.close();
    this.#delta.close();
  }

  /** The rids of the delta (whose vectors a checkpoint reads from the database). */
  deltaRids(): number[] {
    return [...this.#added];
  }
}

/** The k best of a base result (without its hidden rids) and a delta result. */
function mergeResults(
  base: SearchResult | undefined,
  delta: SearchResult | undefined,
  hidden: ReadonlySet<number>,
  k: number,
  lowerIsNearer: boolean,
): SearchResult {
  const ids: number[] = [];
  const scores: number[] = [];
  const b = base ?? { ids: new Float64Array(0), scores: new Float32Array(0) };
  const d = delta ?? { ids: new Float64Array(0), scores: new Float32Array(0) };
  let i = 0;
  let j = 0;
  const before = (x: number, y: number) => (lowerIsNearer ? x <= y : x >= y);
  while (ids.length < k) {
    while (i < b.ids.length && hidden.has(b.ids[i] as number)) i++;
    const hasB = i < b.ids.length;
    const hasD = j < d.ids.length;
    if (!hasB && !hasD) break;
    if (hasB && (!hasD || before(b.scores[i] as number, d.scores[j] as number))) {
      ids.push(b.ids[i] as number);
      scores.push(b.scores[i++] as number);
    } else {
      ids.push(d.ids[j] as number);
      scores.push(d.scores[j++] as number);
    }
  }
  return { ids: Float64Array.from(ids), scores: Float32Array.from(scores) };
}
