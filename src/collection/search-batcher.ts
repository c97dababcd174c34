/**
 * Coalesces the unfiltered searches of a collection that arrive while one
 * is running: when it ends, the waiting ones run together as one batch, so
 * concurrent queries share one pass over the stored vectors (the batch
 * kernel reads each vector once for all the queries of a batch). A query
 * that finds no search running starts at once: coalescing adds no latency
 * to a lone query, and under load it turns N scans into one.
 */
import type { SearchResult } from '../vector-index.js';

/** Most queries one batch carries; more wait for the next. */
export const MAX_BATCH_QUERIES = 256;

interface Waiting {
  queries: Float32Array;
  nq: number;
  k: number;
  resolve: (results: SearchResult[]) => void;
  reject: (err: unknown) => void;
}

export class SearchBatcher {
  /** Runs a batch: queries of nq * dim values, top k each. */
  readonly #search: (queries: Float32Array, k: number) => Promise<SearchResult[]>;
  #running = false;
  #waiting: Waiting[] = [];

  constructor(search: (queries: Float32Array, k: number) => Promise<SearchResult[]>) {
    this.#search = search;
  }

  /** The top k of each of nq queries (nq * dim values), as one search would give them. */
  search(queries: Float32Array, nq: number, k: number): Promise<SearchResult[]> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ queries, nq, k, resolve, reject });
      if (!this.#running) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#running = true;
    while (this.#waiting.length > 0) {
      const batch: Waiting[] = [];
      let nq = 0;
      while (this.#waiting.length > 0 && (batch.length === 0 || nq + this.#waiting[0]!.nq <= MAX_BATCH_QUERIES)) {
        const w = this.#waiting.shift() as Waiting;
        batch.push(w);
        nq += w.nq;
      }
      const k = Math.max(...batch.map((w) => w.k));
      try {
        const all = batch.length === 1 ? batch[0]!.queries : concat(batch.map((w) => w.queries));
        const results = await this.#search(all, k);
        let at = 0;
        for (const w of batch) {
          // The top k of a larger top k is the top k (results are exact and ordered).
          w.resolve(results.slice(at, at + w.nq).map((r) => (r.ids.length <= w.k ? r : { ids: r.ids.subarray(0, w.k), scores: r.scores.subarray(0, w.k) })));
          at += w.nq;
        }
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    this.#running = false;
  }
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
