/**
 * Sentence embeddings computed locally with onnxruntime-node, the way
 * sentence-transformers computes them: tokenise, run the transformer, pool
 * the token vectors (mean weighted by the attention mask), optionally
 * L2-normalise.
 *
 * onnxruntime-node and @huggingface/tokenizers are loaded only when an
 * embedder is made, so the index API works without them.
 */
import { basename } from 'node:path';

import { createError, ErrorCode } from '../errors.js';
import { hardwareThreads } from '../system.js';
import { checkInteger, checkOneOf, describe, fail, orDefault } from '../validate.js';
import { normalizeInPlace } from '../vectors.js';
import { checkChunkOptions, chunkText, type Chunk, type ChunkOptions, type ChunkPlan } from './chunking.js';
import { ENGINE_OPTIONS, type EngineName, type EngineOption } from './engine-option.js';
import { nativeEngineFor, OrtEngine, vnniEncoder, type Engine } from './engines.js';
import { isHubId, resolveModelFiles, type ModelFiles, type ResolveOptions } from './model-files.js';
import type { Dtype, DtypeOption } from './precision.js';
import { DEFAULT_MODEL, findModel, type Pooling } from './registry.js';
import { openSession, readModelText } from './model-load.js';
import { loadRuntime } from './runtime.js';
import { TextEncoder } from './tokenize.js';

export interface EmbedderOptions extends ResolveOptions {
  /**
   * The precision of the model file run: `'fp32'`, `'q8'` (its int8 export:
   * the file made for this CPU, downloading only that one; ERR_NOT_FOUND
   * naming the files looked for when the model has none) or `'auto'`
   * (default: q8 on CPUs with VNNI int8 instructions when the model has an
   * int8 file, else fp32). `embedder.dtype` says which was loaded.
   */
  dtype?: DtypeOption;
  /** Threads for the ONNX runtime's operators; default: every hardware thread. */
  threads?: number;
  /** Longest input in tokens; default: the model's (256 for all-MiniLM-L6-v2). */
  maxTokens?: number;
  /** Token pooling; default: the model's (`'mean'` for sentence-transformers). */
  pooling?: Pooling;
  /**
   * What runs the model: `'semvec'`, semvec's own int8 encoder (int8 BERT
   * exports only: ERR_UNSUPPORTED, saying why, for any other model),
   * `'onnxruntime'`, or `'auto'` (default): semvec's encoder for the int8
   * BERT exports it recognises and whose vectors agree with onnxruntime's
   * on a set of probe texts when loaded, else onnxruntime.
   * `embedder.engine` says which runs, `embedder.engineNote` why not semvec's.
   */
  engine?: EngineOption;
}

/** Positions per ONNX run unless told (see {@link EmbedOptions.batchTokens}). */
export const DEFAULT_BATCH_TOKENS = 1024;

export interface EmbedOptions {
  /** Texts per ONNX run, at most; default 32. */
  batchSize?: number;
  /**
   * Positions per ONNX run, at most (texts in the run x the longest one's
   * tokens); default 1024. Texts run shortest first, so short texts go
   * `batchSize` at a time and long ones a few at a time (one text always
   * runs, however long). Measured on the MiniLM-L6 shape with 2 threads:
   * 1.17x (fp32) and 1.28x (int8) the speed of fixed batches of 32.
   */
  batchTokens?: number;
  /** L2-normalise each embedding (cosine similarity = inner product); default true. */
  normalize?: boolean;
  /**
   * Called after each batch with the texts done so far, the total, and
   * the tokens run so far and the texts cut at {@link Embedder.maxTokens}
   * so far (texts run shortest first: count tokens, not texts, for an
   * honest rate).
   */
  onProgress?: (done: number, total: number, work: EmbedWork) => void;
}

/** What an embed() call has run so far. */
export interface EmbedWork {
  /** Tokens run through the model, special tokens included, padding not. */
  tokens: number;
  /** Texts longer than the model reads: their end was dropped. */
  truncated: number;
}

/**
 * A sentence-embedding model.
 *
 * @example
 * const model = await Embedder.load('all-MiniLM-L6-v2');
 * const vectors = await model.embed(['first text', 'second text']); // Float32Array of 2 * 384
 * await model.close();
 */
export class Embedder {
  /** The model's name (registry name, hub id or directory name). */
  readonly name: string;
  /** Embedding dimension. */
  readonly dim: number;
  /** Longest input in tokens; longer texts are truncated. */
  readonly maxTokens: number;
  readonly pooling: Pooling;
  /** The precision of the model file loaded (see {@link EmbedderOptions.dtype}). */
  readonly dtype: Dtype;
  /** Where the model's files are. */
  readonly files: ModelFiles;
  /** What runs the model (see {@link EmbedderOptions.engine}). */
  readonly engine: EngineName;
  /** Why onnxruntime runs an int8 model under `engine: 'auto'`; undefined otherwise. */
  readonly engineNote: string | undefined;
  readonly #engine: Engine;
  readonly #encoder: TextEncoder;
  #closed = false;

  private constructor(init: {
    name: string;
    dim: number;
    pooling: Pooling;
    files: ModelFiles;
    engine: Engine;
    engineNote: string | undefined;
    encoder: TextEncoder;
  }) {
    this.name = init.name;
    this.dim = init.dim;
    this.pooling = init.pooling;
    this.files = init.files;
    this.dtype = init.files.dtype;
    this.#engine = init.engine;
    this.engine = init.engine.name;
    this.engineNote = init.engineNote;
    this.#encoder = init.encoder;
    this.maxTokens = init.encoder.maxTokens;
  }

  /**
   * Loads a model by registry name (`'all-MiniLM-L6-v2'`, the default), by
   * Hugging Face hub id (`'sentence-transformers/all-MiniLM-L6-v2'`) or from
   * a local directory holding `model.onnx` (or `onnx/model.onnx`, or an
   * int8 export such as `onnx/model_quantized.onnx`), `tokenizer.json` and
   * `tokenizer_config.json`. Looks in the cache (`SEMVEC_CACHE`) before
   * downloading; `SEMVEC_OFFLINE=1` forbids downloads.
   *
   * @example
   * const model = await Embedder.load('./models/all-MiniLM-L6-v2', { threads: 2 });
   * const fast = await Embedder.load('all-MiniLM-L6-v2', { dtype: 'q8' }); // the int8 export
   */
  static async load(nameOrPath: string = DEFAULT_MODEL, options: EmbedderOptions = {}): Promise<Embedder> {
    if (typeof nameOrPath !== 'string' || nameOrPath.length === 0) {
      fail(ErrorCode.INVALID_ARGUMENT, `model must be a model name, hub id or directory; received ${describe(nameOrPath)}`);
    }
    if (options === null || typeof options !== 'object') {
      fail(ErrorCode.INVALID_ARGUMENT, `options must be an object; received ${describe(options)}`);
    }
    const threads = checkInteger(orDefault(options.threads, hardwareThreads()), 'threads', 1, 1024);
    const engineOption = checkOneOf(orDefault(options.engine, 'auto'), 'engine', ENGINE_OPTIONS);
    const known = findModel(nameOrPath);
    // `org/name` may be a hub id; a path such as ./models/x never is.
    const hubId = known?.hubId ?? (nameOrPath.includes('/') && isHubId(nameOrPath) ? nameOrPath : undefined);
    // The runtime first: a machine without it should not download a model.
    const { ort, Tokenizer } = await loadRuntime();
    const files = await resolveModelFiles(nameOrPath, hubId, { fp32File: known?.onnxFile, ...options, dtype: options.dtype ?? 'auto' });

    const { tokenizer, tokenizerConfig, config, padId, endToken } = await readModelText(files, Tokenizer);

    // Longest input: explicit, else the registry's, else the model's limits.
    const positions = typeof config.max_position_embeddings === 'number' ? config.max_position_embeddings : 512;
    const configured = typeof tokenizerConfig.model_max_length === 'number' ? tokenizerConfig.model_max_length : positions;
    const maxTokens = checkInteger(orDefault(options.maxTokens, known?.maxTokens ?? Math.min(configured, positions)), 'maxTokens', 2, 1 << 20);
    const pooling = checkOneOf(orDefault(options.pooling, known?.pooling ?? 'mean'), 'pooling', ['mean', 'cls'] as const);
    const encoder = new TextEncoder(tokenizer, maxTokens, padId, endToken);

    const session = await openSession(ort, files, threads, 'BERT-style text encoders');
    const onnx = new OrtEngine(session, ort, encoder);
    let engine: Engine = onnx;
    let engineNote: string | undefined;
    if (engineOption === 'auto' && files.dtype === 'q8' && !vnniEncoder()) {
      engineNote = "semvec's encoder runs its int8 products at full speed only on AVX-512 VNNI, which this process does not use; engine: 'semvec' runs it anyway";
    } else if (engineOption === 'semvec' || (engineOption === 'auto' && files.dtype === 'q8')) {
      const mine = await nativeEngineFor(files, config, threads, onnx, pooling).catch((err: Error) => ({ reason: err.message }));
      if ('reason' in mine) {
        if (engineOption === 'semvec') {
          await onnx.close();
          throw createError(ErrorCode.UNSUPPORTED, `engine 'semvec' cannot run this model: ${mine.reason}`);
        }
        engineNote = mine.reason;
      } else {
        await onnx.close();
        engine = mine;
      }
    }
    const hidden = typeof config.hidden_size === 'number' ? config.hidden_size : undefined;
    const name = known?.name ?? (hubId ?? basename(files.dir));
    // Unknown size: run one text to find it.
    const dim = known?.dim ?? hidden ?? (await engine.pooled([encoder.encode('a')], pooling)).dim;
    return new Embedder({ name, dim, pooling, files, engine, engineNote, encoder });
  }

  /**
   * Embeds texts: one Float32Array of texts.length * dim values, row i for
   * texts[i] (see {@link Embedder.rows}). Texts are sorted by length before batching
   * (less padding) and the order is restored. Inference runs on the ONNX
   * runtime's threads: the event loop stays free.
   *
   * @example
   * const x = await model.embed(docs, { batchSize: 64, onProgress: (d, n) => console.log(d, n) });
   */
  async embed(texts: string | readonly string[], options: EmbedOptions = {}): Promise<Float32Array> {
    if (this.#closed) throw createError(ErrorCode.CLOSED, `the embedder ${this.name} is closed`);
    const list = typeof texts === 'string' ? [texts] : texts;
    if (!Array.isArray(list)) {
      fail(ErrorCode.INVALID_ARGUMENT, `texts must be a string or an array of strings; received ${describe(texts)}`);
    }
    list.forEach((t, i) => {
      if (typeof t !== 'string') fail(ErrorCode.INVALID_ARGUMENT, `texts[${i}] must be a string; received ${describe(t)}`);
      if (t.length === 0) fail(ErrorCode.INVALID_ARGUMENT, `texts[${i}] is an empty string; there is nothing to embed`);
    });
    if (options === null || typeof options !== 'object') {
      fail(ErrorCode.INVALID_ARGUMENT, `options must be an object; received ${describe(options)}`);
    }
    const batchSize = checkInteger(orDefault(options.batchSize, 32), 'batchSize', 1, 1 << 16);
    const batchTokens = checkInteger(orDefault(options.batchTokens, DEFAULT_BATCH_TOKENS), 'batchTokens', 1, 1 << 24);
    const normalize = orDefault(options.normalize, true);
    if (typeof normalize !== 'boolean') fail(ErrorCode.INVALID_ARGUMENT, `normalize must be a boolean; received ${describe(normalize)}`);
    const out = new Float32Array(list.length * this.dim);
    if (list.length === 0) return out;

    const encodings = list.map((t) => this.#encoder.encode(t));
    const work: EmbedWork = { tokens: 0, truncated: 0 };
    const order = encodings.map((_, i) => i).sort((a, b) => (encodings[a]!.ids.length - encodings[b]!.ids.length) || a - b);
    for (let start = 0, end = 0; start < order.length; start = end) {
      // Sorted by length: the text at `end` is the longest of the run so far.
      end = start + 1;
      while (end < order.length && end - start < batchSize && (end - start + 1) * encodings[order[end]!]!.ids.length <= batchTokens) end++;
      const rowsOf = order.slice(start, end);
      const { rows, dim } = await this.#engine.pooled(rowsOf.map((i) => encodings[i]!), this.pooling);
      if (dim !== this.dim) {
        throw createError(ErrorCode.DIMENSION_MISMATCH, `the model produced ${dim}-d vectors; expected ${this.dim}`);
      }
      rowsOf.forEach((row, j) => out.set(rows.subarray(j * dim, (j + 1) * dim), row * dim));
      for (const i of rowsOf) {
        const e = encodings[i]!;
        work.tokens += e.ids.length;
        if (e.truncated) work.truncated++;
      }
      options.onProgress?.(end, order.length, { ...work });
    }
    if (normalize) normalizeInPlace(out, this.dim);
    return out;
  }

  /** Embeds one text: a Float32Array of dim values. */
  async embedOne(text: string, options: Omit<EmbedOptions, 'batchSize' | 'onProgress'> = {}): Promise<Float32Array> {
    return this.embed([text], options);
  }

  /** Views of each row of an embed() result (no copies). */
  rows(embeddings: Float32Array): Float32Array[] {
    const n = Math.floor(embeddings.length / this.dim);
    return Array.from({ length: n }, (_, i) => embeddings.subarray(i * this.dim, (i + 1) * this.dim));
  }

  /** Token count of a text after truncation (special tokens included). */
  countTokens(text: string): number {
    if (typeof text !== 'string') fail(ErrorCode.INVALID_ARGUMENT, `text must be a string; received ${describe(text)}`);
    return this.#encoder.encode(text).ids.length;
  }

  /**
   * Splits a long text into chunks of at most `window` tokens of this
   * model (default: all it reads, {@link Embedder.maxTokens}), so that
   * nothing beyond the window is lost: token windows with `overlap` tokens
   * shared (`mode: 'tokens'`, the default), or whole paragraphs packed up
   * to the window, split at sentence ends only when one is too long
   * (`mode: 'packed'`). Each chunk has its text, position and offsets in
   * the source; chunks never cut a word. A text that fits is one chunk.
   *
   * @example
   * for (const c of model.chunk(longText, { window: 256, overlap: 32 })) console.log(c.index, c.start, c.end, c.tokens);
   */
  chunk(text: string, options: ChunkOptions = {}): Chunk[] {
    if (typeof text !== 'string') fail(ErrorCode.INVALID_ARGUMENT, `text must be a string; received ${describe(text)}`);
    return chunkText(text, this.chunkPlan(options), (p) => this.#encoder.countPiece(p), this.#encoder.specialTokens);
  }

  /** @internal Checks chunk options against this model. */
  chunkPlan(options: ChunkOptions | undefined, at = 'options'): ChunkPlan {
    return checkChunkOptions(options, this.maxTokens, this.#encoder.specialTokens, at);
  }

  /** Tokens of a text beyond what the model reads ({@link Embedder.maxTokens}): 0 when it fits. */
  tokensBeyondWindow(text: string): number {
    if (typeof text !== 'string') fail(ErrorCode.INVALID_ARGUMENT, `text must be a string; received ${describe(text)}`);
    let n = this.#encoder.specialTokens;
    for (const m of text.matchAll(/\S+/g)) n += this.#encoder.countPiece(m[0]);
    return Math.max(0, n - this.maxTokens);
  }

  /** Frees the model (its ONNX session or semvec's encoder). The embedder cannot be used afterwards. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#engine.close();
  }
}
