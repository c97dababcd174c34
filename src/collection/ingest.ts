/**
 * Streaming writes: records from an iterable or async iterable (a file
 * reader, a database cursor, a generator) embedded and written in bounded
 * batches, so memory stays flat whatever the corpus size. The source is
 * read only as fast as batches are embedded and written (backpressure):
 * one batch is written while the next is embedded, never more.
 *
 * Long documents can be split into chunks of the model's window
 * (`chunk`): each chunk is a record `<id>#<n>` whose metadata links it to
 * its source (`source_id`, `chunk`, `chunk_start`, `chunk_end`).
 */
import type { Embedder, EmbedWork } from '../embedder/embedder.js';
import type { ChunkOptions, ChunkPlan } from '../embedder/chunking.js';
import { ErrorCode } from '../errors.js';
import { checkInteger, describe, fail, orDefault, type VectorInput, type VectorsInput } from '../validate.js';
import type { Where } from './filter.js';
import type { Metadata } from './metadata.js';

/** One record of a stream. */
export interface IngestRecord {
  id: string;
  /** The text: embedded by the collection's embedder unless `embedding` is given. */
  document?: string | null;
  embedding?: VectorInput;
  metadata?: Metadata | null;
}

export interface IngestOptions {
  /** Records written per step (chunks count as records); default 256. */
  batchSize?: number;
  /** Texts per model run; default 32. */
  embedBatchSize?: number;
  /**
   * Split each document into chunks of the model's window (see
   * `Embedder.chunk`): `true` for the defaults, or the options. A chunk
   * is stored as `<id>#<n>` with metadata `source_id` (the record's id),
   * `chunk` (n), `chunk_start` and `chunk_end` (offsets in the document)
   * beside the record's own. An upsert replaces every chunk of a source,
   * deleting those a shorter document no longer has.
   */
  chunk?: boolean | ChunkOptions;
  /** The number of records expected, when known: progress then has a total and an ETA. */
  total?: number;
  /** Called after each embedding run and each write (see {@link IngestProgress}). */
  onProgress?: (progress: IngestProgress) => void;
  /** Stops between batches; the promise then rejects with `signal.reason`. Batches written stay written. */
  signal?: AbortSignal;
}

/** Where a streaming write stands. Counts are cumulative. */
export interface IngestProgress {
  /** Records read from the source. */
  records: number;
  /** Records (or chunks) embedded. */
  embedded: number;
  /** Records (or chunks) written to the collection. */
  written: number;
  /** Tokens run through the model (the honest measure of work: texts vary in length). */
  tokens: number;
  /** Documents longer than the model reads, embedded from their beginning only (without `chunk`). */
  truncated: number;
  /** Milliseconds since the start. */
  elapsedMs: number;
  /** Records read per second so far. */
  recordsPerSecond: number;
  /** Tokens embedded per second so far. */
  tokensPerSecond: number;
  /** `options.total`, when given. */
  total?: number;
  /** Seconds left at the rate so far, when `total` is given. */
  etaSeconds?: number;
}

/** What a streaming write did. */
export interface IngestResult {
  /** Records read from the source. */
  records: number;
  /** Records (or chunks) written. */
  written: number;
  tokens: number;
  truncated: number;
  /** Chunks of earlier versions of upserted sources that were deleted. */
  deletedChunks: number;
  seconds: number;
}

/** One batch as a collection's add and upsert take it. */
export interface IngestBatch {
  ids: string[];
  embeddings?: VectorsInput;
  documents: (string | null)[];
  metadatas: (Metadata | null)[];
}

/** The part of a collection a streaming write uses. */
export interface IngestTarget {
  readonly name: string;
  readonly embedder: Embedder | undefined;
  add(input: IngestBatch): Promise<unknown>;
  upsert(input: IngestBatch): Promise<unknown>;
  get(options: { where: Where; include: [] }): Promise<Array<{ id: string }>>;
  delete(options: { ids: string[] }): Promise<number>;
}

export const DEFAULT_INGEST_BATCH = 256;

/** Whether a value is a stream of records rather than a records object. */
export function isRecordStream(input: unknown): input is Iterable<IngestRecord> | AsyncIterable<IngestRecord> {
  return (
    input !== null &&
    typeof input === 'object' &&
    (typeof (input as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function' || typeof (input as Iterable<unknown>)[Symbol.iterator] === 'function')
  );
}

interface Row {
  id: string;
  document: string | null;
  embedding: VectorInput | undefined;
  metadata: Metadata | null;
}

function checkOptions(options: unknown, embedder: Embedder | undefined, at: string): {
  batchSize: number;
  embedBatchSize: number;
  chunk: ChunkPlan | undefined;
  total: number | undefined;
  onProgress: ((p: IngestProgress) => void) | undefined;
  signal: AbortSignal | undefined;
} {
  if (options === null || typeof options !== 'object') fail(ErrorCode.INVALID_ARGUMENT, `${at}: options must be an object; received ${describe(options)}`);
  const o = options as IngestOptions;
  const batchSize = checkInteger(orDefault(o.batchSize, DEFAULT_INGEST_BATCH), `${at}: options.batchSize`, 1, 1 << 20);
  const embedBatchSize = checkInteger(orDefault(o.embedBatchSize, 32), `${at}: options.embedBatchSize`, 1, 1 << 16);
  const total = o.total === undefined ? undefined : checkInteger(o.total, `${at}: options.total`, 0, Number.MAX_SAFE_INTEGER);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') {
    fail(ErrorCode.INVALID_ARGUMENT, `${at}: options.onProgress must be a function; received ${describe(o.onProgress)}`);
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    fail(ErrorCode.INVALID_ARGUMENT, `${at}: options.signal must be an AbortSignal; received ${describe(o.signal)}`);
  }
  let chunk: ChunkPlan | undefined;
  if (o.chunk !== undefined && o.chunk !== false) {
    if (!embedder) fail(ErrorCode.INVALID_ARGUMENT, `${at}: options.chunk needs the collection's embedder (its tokenizer counts the window)`);
    chunk = embedder.chunkPlan(o.chunk === true ? {} : o.chunk, `${at}: options.chunk`);
  }
  return { batchSize, embedBatchSize, chunk, total, onProgress: o.onProgress, signal: o.signal };
}

function checkRecord(r: unknown, n: number, at: string): Row {
  const where = `${at}: record ${n}`;
  if (r === null || typeof r !== 'object' || Array.isArray(r)) {
    fail(ErrorCode.INVALID_ARGUMENT, `${where} must be an object such as { id, document, metadata }; received ${describe(r)}`);
  }
  const rec = r as IngestRecord;
  if (typeof rec.id !== 'string' || rec.id.length === 0) fail(ErrorCode.INVALID_ARGUMENT, `${where}: id must be a non-empty string; received ${describe(rec.id)}`);
  if (rec.document !== undefined && rec.document !== null && typeof rec.document !== 'string') {
    fail(ErrorCode.INVALID_ARGUMENT, `${where} (${JSON.stringify(rec.id)}): document must be a string; received ${describe(rec.document)}`);
  }
  if (rec.metadata !== undefined && rec.metadata !== null && (typeof rec.metadata !== 'object' || Array.isArray(rec.metadata))) {
    fail(ErrorCode.INVALID_ARGUMENT, `${where} (${JSON.stringify(rec.id)}): metadata must be an object; received ${describe(rec.metadata)}`);
  }
  return { id: rec.id, document: rec.document ?? null, embedding: rec.embedding, metadata: rec.metadata ?? null };
}

/**
 * Writes a stream of records into a collection (see the module's
 * description). Batches commit one by one: when a batch fails, the ones
 * before it stay written and the error is thrown as it came.
 */
export async function ingest(
  target: IngestTarget,
  source: Iterable<IngestRecord> | AsyncIterable<IngestRecord>,
  mode: 'add' | 'upsert',
  options: IngestOptions = {},
): Promise<IngestResult> {
  const embedder = target.embedder;
  const o = checkOptions(options, embedder, mode);
  const started = performance.now();
  const counts = { records: 0, embedded: 0, written: 0, tokens: 0, truncated: 0, deletedChunks: 0 };
  const report = (): void => {
    if (!o.onProgress) return;
    const elapsedMs = performance.now() - started;
    const s = elapsedMs / 1000;
    const recordsPerSecond = s > 0 ? counts.records / s : 0;
    const p: IngestProgress = {
      records: counts.records,
      embedded: counts.embedded,
      written: counts.written,
      tokens: counts.tokens,
      truncated: counts.truncated,
      elapsedMs,
      recordsPerSecond,
      tokensPerSecond: s > 0 ? counts.tokens / s : 0,
    };
    if (o.total !== undefined) {
      p.total = o.total;
      const left = Math.max(0, o.total - counts.written);
      if (counts.written > 0 && s > 0) p.etaSeconds = left / (counts.written / s);
    }
    o.onProgress(p);
  };

  let writing: Promise<void> | undefined;
  let writeError: { error: unknown } | undefined;
  const write = async (rows: Row[], sources: string[]): Promise<void> => {
    const ids = rows.map((r) => r.id);
    const input = {
      ids,
      documents: rows.map((r) => r.document),
      metadatas: rows.map((r) => r.metadata),
      ...(rows.length > 0 && rows[0]!.embedding !== undefined ? { embeddings: rows.map((r) => r.embedding as VectorInput) } : {}),
    };
    if (mode === 'add') await target.add(input);
    else await target.upsert(input);
    if (o.chunk && mode === 'upsert' && sources.length > 0) {
      // Chunks of an earlier, longer version of these sources.
      const fresh = new Set(ids);
      const old = await target.get({ where: { source_id: { $in: sources } }, include: [] });
      const stale = old.map((r) => r.id).filter((id) => !fresh.has(id));
      if (stale.length > 0) counts.deletedChunks += await target.delete({ ids: stale });
    }
    counts.written += rows.length;
    report();
  };

  const flush = async (rows: Row[], sources: string[]): Promise<void> => {
    if (rows.length === 0) return;
    const withVectors = rows.filter((r) => r.embedding !== undefined).length;
    let embedded: Row[] = rows;
    if (withVectors !== 0 && withVectors !== rows.length) {
      fail(ErrorCode.INVALID_ARGUMENT, `${mode}: give an embedding for every record of a stream or for none (record ${JSON.stringify(rows.find((r) => r.embedding === undefined)!.id)} has none)`);
    }
    if (withVectors === 0) {
      if (!embedder) {
        fail(ErrorCode.INVALID_ARGUMENT, `${mode}: embeddings are required because the collection ${JSON.stringify(target.name)} has no embedder (pass { embedder } when getting or creating it)`);
      }
      const missing = rows.find((r) => r.document === null || r.document.length === 0);
      if (missing) fail(ErrorCode.INVALID_ARGUMENT, `${mode}: record ${JSON.stringify(missing.id)} has no document to embed and no embedding`);
      const base = { tokens: counts.tokens, truncated: counts.truncated, embedded: counts.embedded };
      const x = await embedder.embed(
        rows.map((r) => r.document as string),
        {
          batchSize: o.embedBatchSize,
          onProgress: (done: number, _n: number, work: EmbedWork) => {
            counts.embedded = base.embedded + done;
            counts.tokens = base.tokens + work.tokens;
            counts.truncated = base.truncated + (o.chunk ? 0 : work.truncated);
            report();
          },
        },
      );
      const rowsOf = embedder.rows(x);
      embedded = rows.map((r, i) => ({ ...r, embedding: rowsOf[i] }));
    } else {
      counts.embedded += rows.length;
    }
    // One write in flight: wait for the previous one before starting this one.
    if (writing) await writing;
    if (writeError) throw writeError.error;
    writing = write(embedded, sources).catch((error: unknown) => {
      writeError = { error };
    });
  };

  let rows: Row[] = [];
  let sources: string[] = [];
  const seen = mode === 'add' || o.chunk ? undefined : new Set<string>();
  const iterator = (Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : (source as Iterable<IngestRecord>)[Symbol.iterator]()) as
    | AsyncIterator<IngestRecord>
    | Iterator<IngestRecord>;
  try {
    for (;;) {
      if (o.signal?.aborted) throw o.signal.reason;
      const next = await iterator.next();
      if (next.done) break;
      const row = checkRecord(next.value, counts.records, mode);
      counts.records++;
      if (seen) {
        // An id repeated within one batch would be refused: write what came before it first.
        if (seen.has(row.id)) {
          await flush(rows, sources);
          rows = [];
          sources = [];
          seen.clear();
        }
        seen.add(row.id);
      }
      if (o.chunk) {
        if (row.embedding !== undefined) fail(ErrorCode.INVALID_ARGUMENT, `${mode}: record ${JSON.stringify(row.id)}: chunk splits documents to embed; it takes no embedding`);
        if (row.document === null) fail(ErrorCode.INVALID_ARGUMENT, `${mode}: record ${JSON.stringify(row.id)} has no document to split`);
        for (const c of (embedder as Embedder).chunk(row.document, o.chunk)) {
          rows.push({
            id: `${row.id}#${c.index}`,
            document: c.text,
            embedding: undefined,
            metadata: { ...(row.metadata ?? {}), source_id: row.id, chunk: c.index, chunk_start: c.start, chunk_end: c.end },
          });
        }
        sources.push(row.id);
      } else {
        rows.push(row);
      }
      if (rows.length >= o.batchSize) {
        await flush(rows, sources);
        rows = [];
        sources = [];
        seen?.clear();
      }
    }
    await flush(rows, sources);
    if (writing) await writing;
    if (writeError) throw writeError.error;
  } catch (err) {
    // Let the source clean up (close a file, a cursor), and finish a write under way.
    try {
      await iterator.return?.();
    } catch {
      // The error that stopped the stream is the one to report.
    }
    if (writing) await writing;
    throw err;
  }
  report();
  return {
    records: counts.records,
    written: counts.written,
    tokens: counts.tokens,
    truncated: counts.truncated,
    deletedChunks: counts.deletedChunks,
    seconds: (performance.now() - started) / 1000,
  };
}
